"""ember.datasets: the bundled digits, the IDX reader and MNIST-style loaders, on small files the
tests write themselves."""
import gzip
import struct
import sys

import numpy as np
import pytest

import ember
from ember.datasets import fashion_mnist, load_digits, mnist, read_idx

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array):
    """An IDX file's bytes, written from the format's definition: big-endian header and data."""
    array = np.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype.type], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, data, compress=False):
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


# ---- read_idx ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", list(IDX_CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_every_type_raw_and_gzip(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    got = read_idx(write(tmp_path / "a.idx", idx_bytes(array), compress))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative and got.shape == (3, 4, 5)
    np.testing.assert_array_equal(got, array)
    got[0, 0, 0] = 1  # a writable array of its own


@pytest.mark.parametrize("shape", [(0,), (7,), (1, 1), (2, 0, 3)])
def test_read_idx_shapes(tmp_path, shape):
    array = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "a", idx_bytes(array))), array)


def test_read_idx_errors(tmp_path):
    good = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))
    with pytest.raises(ValueError, match=r"is truncated: shape \(3, 4\) of uint8 needs 12 bytes of data, found 7"):
        read_idx(write(tmp_path / "short", good[:-5]))
    with pytest.raises(ValueError, match=r"is truncated: its header names 2 dimensions, which needs 12 bytes"):
        read_idx(write(tmp_path / "header", good[:9]))
    with pytest.raises(ValueError, match=r"is truncated: 2 bytes, shorter than the 4-byte IDX header"):
        read_idx(write(tmp_path / "tiny", good[:2]))
    with pytest.raises(ValueError, match=r"is not an IDX file: magic number 0x89504e47"):
        read_idx(write(tmp_path / "png", b"\x89PNG\r\n\x1a\n" + bytes(16)))
    with pytest.raises(ValueError, match=r"is not an IDX file: magic number 0x00000702"):
        read_idx(write(tmp_path / "code", b"\x00\x00\x07\x02" + bytes(16)))
    with pytest.raises(ValueError, match="has 3 bytes after the data"):
        read_idx(write(tmp_path / "long", good + b"abc"))
    with pytest.raises(ValueError, match="damaged or truncated gzip file"):
        read_idx(write(tmp_path / "cut.gz", gzip.compress(good)[:-6]))
    with pytest.raises(FileNotFoundError, match="read_idx: no file at .*nowhere"):
        read_idx(tmp_path / "nowhere")


# ---- MNIST-style loaders -----------------------------------------------------------------------
def write_mnist(directory, n_train=5, n_test=3, compress=(False, True, False, True), dotted=False):
    rng = np.random.default_rng(1)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8)}
    for (name, array), gz in zip(arrays.items(), compress):
        filename = (name.replace("-idx", ".idx") if dotted else name) + (".gz" if gz else "")
        write(directory / filename, idx_bytes(array), gz)
    return list(arrays.values())


@pytest.mark.parametrize("dotted", [False, True])
def test_mnist_load_data_from_a_directory(tmp_path, dotted):
    expected = write_mnist(tmp_path, dotted=dotted)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(tmp_path)
    for got, want in zip((x_train, y_train, x_test, y_test), expected):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)
    (x_train, _), _ = fashion_mnist.load_data(str(tmp_path))
    assert x_train.shape == (5, 28, 28)


def test_mnist_load_data_from_keras_npz(tmp_path):
    x, y = np.zeros((2, 28, 28), np.uint8), np.array([3, 4], np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=y, x_test=x[:1], y_test=y[:1])
    (_, y_train), (x_test, _) = mnist.load_data(tmp_path / "mnist.npz")
    assert y_train.tolist() == [3, 4] and x_test.shape == (1, 28, 28)
    np.savez(tmp_path / "partial.npz", x_train=x)
    with pytest.raises(ValueError, match="lacks y_train, x_test, y_test"):
        mnist.load_data(tmp_path / "partial.npz")


def test_mnist_missing_files_say_where_and_that_nothing_is_downloaded(tmp_path, monkeypatch):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing the test labels: no t10k-labels-idx1-ubyte or "
                                                r"t10k-labels-idx1-ubyte.gz in .*; nothing is downloaded"):
        mnist.load_data(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"nowhere is not a directory .* nothing is downloaded"):
        mnist.load_data(tmp_path / "nowhere")
    monkeypatch.setenv("HOME", str(tmp_path))  # no Keras cache there
    with pytest.raises(FileNotFoundError, match="give the directory holding the mnist files .* never downloads"):
        mnist.load_data()


def test_mnist_image_and_label_counts_must_match(tmp_path):
    write_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(4, np.uint8)), compress=True)
    with pytest.raises(ValueError, match=r"the training images have shape \(5, 28, 28\) and the labels \(4,\)"):
        mnist.load_data(tmp_path)


# ---- digits ------------------------------------------------------------------------------------
def test_load_digits():
    pytest.importorskip("sklearn")
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16 and sorted(set(labels.tolist())) == list(range(10))


def test_load_digits_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="load_digits needs scikit-learn.*pip install scikit-learn"):
        load_digits()


def test_datasets_are_reachable_from_ember():
    assert ember.datasets.mnist.load_data is mnist.load_data and ember.datasets.read_idx is read_idx
