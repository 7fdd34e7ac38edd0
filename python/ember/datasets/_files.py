"""Finding and reading the four IDX files of MNIST-style datasets."""
import os

import numpy as np

from .idx import read_idx

# (what, standard name); some mirrors write "train-images.idx3-ubyte", which is accepted too
_FILES = (("training images", "train-images-idx3-ubyte"), ("training labels", "train-labels-idx1-ubyte"),
          ("test images", "t10k-images-idx3-ubyte"), ("test labels", "t10k-labels-idx1-ubyte"))


def _find(directory, name):
    dotted = name.replace("-idx", ".idx")
    for candidate in (name, name + ".gz", dotted, dotted + ".gz"):
        full = os.path.join(directory, candidate)
        if os.path.isfile(full):
            return full
    return None


def _checked_pair(images, labels, split, where):
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{where}: the {split} images have shape {images.shape} and the labels {labels.shape}; "
                         "expected (N, rows, cols) images and N labels")
    return images, labels


def _from_npz(path, where):
    with np.load(path) as arrays:
        missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in arrays]
        if missing:
            raise ValueError(f"{where}: {path} lacks {', '.join(missing)}; expected Keras's .npz with x_train, "
                             "y_train, x_test, y_test")
        return (_checked_pair(arrays["x_train"], arrays["y_train"], "training", where),
                _checked_pair(arrays["x_test"], arrays["y_test"], "test", where))


def load_four_idx_files(path, dataset, keras_cache_name):
    where = f"{dataset}.load_data"
    names = ", ".join(name for _, name in _FILES)
    if path is None:
        cached = keras_cache_name and os.path.expanduser(os.path.join("~", ".keras", "datasets", keras_cache_name))
        if cached and os.path.isfile(cached):
            return _from_npz(cached, where)
        raise FileNotFoundError(f"{where}: give the directory holding the {dataset} files ({names}, raw or .gz); "
                                "ember never downloads data")
    path = os.fspath(path)
    if os.path.isfile(path) and path.endswith(".npz"):
        return _from_npz(path, where)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{where}: {path} is not a directory (expected one holding {names}, raw or .gz); "
                                "nothing is downloaded")
    found = {}
    for what, name in _FILES:
        found[name] = _find(path, name)
        if found[name] is None:
            raise FileNotFoundError(f"{where}: missing the {what}: no {name} or {name}.gz in {path}; nothing is "
                                    f"downloaded, so place the four files ({names}) there")
    arrays = [read_idx(found[name]) for _, name in _FILES]
    return (_checked_pair(arrays[0], arrays[1], "training", where),
            _checked_pair(arrays[2], arrays[3], "test", where))
