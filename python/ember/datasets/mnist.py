"""MNIST from local files, with keras.datasets.mnist's interface:

    from ember.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data("data/mnist")

x: uint8 (N, 28, 28), y: uint8 (N,), as Keras returns them. Nothing is downloaded.
"""
from ._files import load_four_idx_files

__all__ = ["load_data"]


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)) from `path`: a directory holding the four standard
    files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
    t10k-labels-idx1-ubyte (each raw or .gz), or Keras's mnist.npz. With no path, Keras's cached
    ~/.keras/datasets/mnist.npz is used when it exists."""
    return load_four_idx_files(path, "mnist", "mnist.npz")
