"""ember.datasets: small standard datasets read from local files; nothing is ever downloaded.

    from ember.datasets import load_digits, mnist
    images, labels = load_digits()                                   # scikit-learn's 8x8 digits
    (x_train, y_train), (x_test, y_test) = mnist.load_data("data/mnist")  # the four IDX files
"""
import numpy as np

from . import fashion_mnist, mnist
from .idx import read_idx

__all__ = ["load_digits", "read_idx", "mnist", "fashion_mnist"]


def load_digits():
    """The 1797 8x8 handwritten digits that scikit-learn ships (UCI optical digits test set).

    Returns (images, labels): images float32 of shape (1797, 8, 8) with scikit-learn's pixel values
    0..16 (divide by 16 for [0, 1]), labels int64 of shape (1797,) in 0..9. Needs scikit-learn,
    which holds the data; nothing is downloaded.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as err:
        raise ImportError("load_digits needs scikit-learn, which ships the 8x8 digits data: pip install scikit-learn "
                          '(or pip install "ember[test]")') from err
    digits = sklearn_load_digits()
    return np.asarray(digits.images, dtype=np.float32), np.asarray(digits.target, dtype=np.int64)
