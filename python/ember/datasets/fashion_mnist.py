"""Fashion-MNIST from local files, with keras.datasets.fashion_mnist's interface; the files have
the same names and format as MNIST's. Nothing is downloaded.

    from ember.datasets import fashion_mnist
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data("data/fashion")
"""
from ._files import load_four_idx_files

__all__ = ["load_data"]


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)) from a directory holding train-images-idx3-ubyte,
    train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz)."""
    return load_four_idx_files(path, "fashion_mnist", None)
