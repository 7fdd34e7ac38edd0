"""The data side of ember.keras: fit / evaluate / predict inputs as per-epoch iterators of ember
batches (keras/_data.py), utils.to_categorical and utils.plot_history."""
import sys

import numpy as np
import pytest

import ember
from ember.keras import _data
from ember.keras import callbacks as cbks
from ember.keras import utils as kutils


def epoch(iterator):
    """One epoch as a list of (x, y, sample_weight) NumPy triples."""
    def numpy(t):
        if t is None:
            return None
        return tuple(v.numpy() for v in t) if isinstance(t, tuple) else t.numpy()
    return [tuple(numpy(part) for part in batch) for _, batch in iterator]


def rows(n, features=3):
    """x whose first column numbers the rows, y = row number, so batches can be traced."""
    x = np.zeros((n, features))
    x[:, 0] = np.arange(n)
    return x, np.arange(n)


# ---- in-memory arrays --------------------------------------------------------------------------
def test_numpy_batches_in_order_with_keras_dtypes():
    x, y = rows(10)
    batches = epoch(_data.EpochIterator(x, y.astype(np.uint8), batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert all(b[0].dtype == np.float32 and b[1].dtype == np.int64 and b[2] is None for b in batches)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)


def test_unshuffled_batches_are_views_of_the_data():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    iterator = _data.EpochIterator(x, batch_size=4, op="predict")
    x[5, 1] = -1.0  # float32 contiguous data is shared, not copied: the write shows in the batches
    assert epoch(iterator)[1][0][1, 1] == -1.0


@pytest.mark.parametrize("make", [
    lambda a: a, lambda a: ember.from_numpy(a), lambda a: a.tolist(),
    lambda a: ember.from_numpy(np.ascontiguousarray(a.T)).t(),  # a non-contiguous tensor
])
def test_numpy_ember_and_list_inputs_agree(make):
    x = np.random.default_rng(0).standard_normal((7, 3))
    y = np.arange(7)
    (xb, yb, _), = epoch(_data.EpochIterator(make(x), make(y) if make(y) is not None else y, batch_size=32))
    np.testing.assert_allclose(xb, x.astype(np.float32))
    np.testing.assert_array_equal(yb, y)


def test_other_array_types_are_read_through_numpy():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((5, 2))
    (xb, yb, _), = epoch(_data.EpochIterator(torch.from_numpy(x), torch.arange(5)))
    np.testing.assert_allclose(xb, x.astype(np.float32))
    assert yb.dtype == np.int64 and yb.tolist() == list(range(5))


@pytest.mark.parametrize("y, dtype", [
    (np.arange(6) % 3, np.int64), ((np.arange(6) % 3).reshape(6, 1), np.int64),
    (np.eye(3)[np.arange(6) % 3], np.float32), (np.arange(6).astype(np.int32), np.int32),
    (np.arange(6) % 2 == 0, np.float32), (np.linspace(0, 1, 6), np.float32),
])
def test_label_shapes_and_dtypes(y, dtype):
    (_, yb, _), = epoch(_data.EpochIterator(np.ones((6, 2)), y, batch_size=8))
    assert yb.shape == y.shape and yb.dtype == dtype
    np.testing.assert_array_equal(yb, y.astype(dtype))


def test_x_dtypes_integers_stay_exact_floats_become_float32():
    big = np.array([[0, 2 ** 24 + 1], [3, 2 ** 31 + 7], [5, 6]])  # not representable in float32
    (xb, _, _), = epoch(_data.EpochIterator(big, op="predict"))
    assert xb.dtype == np.int64
    np.testing.assert_array_equal(xb, big)
    (xb, _, _), = epoch(_data.EpochIterator(np.arange(6, dtype=np.int32).reshape(3, 2), op="predict"))
    assert xb.dtype == np.int32
    (xb, _, _), = epoch(_data.EpochIterator(np.array([[True], [False]]), op="predict"))
    assert xb.dtype == np.float32
    (xb, _, _), = epoch(_data.EpochIterator(ember.ones(3, 2, dtype=ember.float64), op="predict"))
    assert xb.dtype == np.float32


def test_shuffle_keeps_x_y_and_weights_aligned_and_changes_each_epoch():
    x, y = rows(50)
    iterator = _data.EpochIterator(x, y, sample_weight=np.arange(50) * 2.0, batch_size=8, shuffle=True)
    orders = []
    for _ in range(2):
        batches = epoch(iterator)
        for xb, yb, swb in batches:
            np.testing.assert_array_equal(xb[:, 0], yb)
            np.testing.assert_array_equal(swb, 2.0 * yb)
            assert swb.dtype == np.float32
        order = np.concatenate([b[1] for b in batches])
        assert sorted(order) == list(range(50))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1])


def test_shuffle_repeats_under_manual_seed():
    x, y = rows(40)
    orders = []
    for _ in range(2):
        ember.manual_seed(7)
        orders.append(np.concatenate([b[1] for b in epoch(_data.EpochIterator(x, y, batch_size=16, shuffle=True))]))
    np.testing.assert_array_equal(orders[0], orders[1])


def test_shuffle_batch_keeps_batch_sized_chunks():
    x, y = rows(10)
    batches = epoch(_data.EpochIterator(x, y, batch_size=4, shuffle="batch"))
    chunks = sorted(b[1].tolist() for b in batches)
    assert [sorted(c) for c in chunks] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    with pytest.raises(ValueError, match="shuffle must be True, False or 'batch'"):
        _data.EpochIterator(x, y, shuffle="rows")


def test_batch_size_larger_than_the_data_and_default_32():
    x, y = rows(5)
    assert [b[0].shape[0] for b in epoch(_data.EpochIterator(x, y, batch_size=100))] == [5]
    assert _data.EpochIterator(*rows(70)).num_batches == 3


def test_multi_input_lists_and_dicts():
    x1, x2, y = np.ones((4, 2)), np.zeros((4, 5)), np.arange(4)
    (xb, yb, _), = epoch(_data.EpochIterator([x1, x2], y))
    assert [a.shape for a in xb] == [(4, 2), (4, 5)]
    iterator = _data.EpochIterator({"a": x1, "b": x2}, y, batch_size=3, shuffle=True)
    first = next(iter(iterator))[1][0]
    assert set(first) == {"a", "b"} and first["b"].shape == (3, 5)


def test_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match=r"x and y must have the same number of samples, got x with 10 samples "
                                         r"and y with 9 samples"):
        _data.EpochIterator(np.ones((10, 2)), np.ones(9))
    with pytest.raises(ValueError, match=r"x and sample_weight .* 10 samples and sample_weight with 4"):
        _data.EpochIterator(np.ones((10, 2)), np.ones(10), sample_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"x\[0\] and x\[1\] .* 3 samples and x\[1\] with 2"):
        _data.EpochIterator([np.ones((3, 1)), np.ones((2, 1))], np.ones(3))


def test_empty_and_bad_inputs():
    with pytest.raises(ValueError, match="fit: x has 0 samples; there is nothing to train on"):
        _data.EpochIterator(np.ones((0, 3)), np.ones(0))
    with pytest.raises(ValueError, match="evaluate: x has 0 samples"):
        _data.EpochIterator(np.ones((0, 3)), np.ones(0), op="evaluate")
    assert epoch(_data.EpochIterator(np.ones((0, 3)), op="predict")) == []
    with pytest.raises(TypeError, match="x must hold numbers, got data of NumPy dtype <U1"):
        _data.EpochIterator(np.array(["a", "b"]), np.ones(2))
    with pytest.raises(TypeError, match="unsupported type for x: str"):
        _data.EpochIterator("data.csv")
    with pytest.raises(ValueError, match="y is a scalar"):
        _data.EpochIterator(np.ones((3, 1)), 1.0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        _data.EpochIterator(np.ones((3, 1)), batch_size=0)
    with pytest.raises(TypeError, match="unsupported type for x: set"):
        _data.EpochIterator({1.0, 2.0})
    with pytest.raises(ValueError, match="no input data"):
        _data.EpochIterator(None)
    with pytest.raises(ValueError, match="fit: steps_per_epoch must be a positive integer, got 0"):
        _data.EpochIterator(np.ones((3, 1)), steps_per_epoch=0)
    with pytest.raises(ValueError, match="predict: steps must be a positive integer, got 1.5"):
        _data.EpochIterator(np.ones((3, 1)), steps_per_epoch=1.5, op="predict")
    with pytest.raises(ValueError, match="validation_steps must be a positive integer, got -1"):
        _data.make_fit_iterators(np.ones((3, 1)), validation_steps=-1)


# ---- validation --------------------------------------------------------------------------------
def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = rows(10)
    train, val = _data.make_fit_iterators(x, y, batch_size=4, shuffle=True, validation_split=0.25)
    assert train.num_samples == 7 and val.num_samples == 3  # Keras: split at floor(10 * 0.75)
    assert sorted(np.concatenate([b[1] for b in epoch(train)])) == list(range(7))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in epoch(val)]), [7, 8, 9])


def test_validation_data_forms_and_precedence():
    x, y = rows(10)
    xv, yv = rows(4)
    train, val = _data.make_fit_iterators(x, y, validation_split=0.5, validation_data=(xv, yv))
    assert train.num_samples == 10 and val.num_samples == 4  # validation_data wins, as Keras
    _, val = _data.make_fit_iterators(x, y, validation_data=[xv, yv, np.ones(4)], validation_batch_size=3)
    assert [b[2].shape for b in epoch(val)] == [(3,), (1,)]
    _, val = _data.make_fit_iterators(x, y, validation_split=0.2, validation_batch_size=1)
    assert val.num_batches == 2
    with pytest.raises(ValueError, match=r"validation_data must be \(x_val, y_val\) .* a tuple of 1 items"):
        _data.make_fit_iterators(x, y, validation_data=(xv,))


def test_validation_split_errors():
    with pytest.raises(ValueError, match="training data contains 3 samples, which is not sufficient to split"):
        _data.make_fit_iterators(*rows(3), validation_split=0.9)
    with pytest.raises(ValueError, match=r"validation_split must be a float in \[0, 1\), got 1.5"):
        _data.make_fit_iterators(*rows(3), validation_split=1.5)
    batches = ((np.ones((2, 1)), np.ones(2)) for _ in range(3))
    with pytest.raises(ValueError, match="validation_split is only supported for NumPy arrays.* generator"):
        _data.make_fit_iterators(batches, validation_split=0.2)


# ---- batch sources -----------------------------------------------------------------------------
def test_dataloader_batches_and_tensor_dataset_as_arrays():
    x, y = rows(10)
    dataset = ember.data.TensorDataset(ember.from_numpy(x), ember.from_numpy(y))
    loader = ember.data.DataLoader(dataset, batch_size=4)
    iterator = _data.EpochIterator(loader)
    assert iterator.num_batches == 3
    batches = epoch(iterator)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    assert len(epoch(iterator)) == 3  # a DataLoader is read again each epoch
    direct = _data.EpochIterator(dataset, batch_size=5, shuffle=True)
    assert direct.num_samples == 10 and direct.num_batches == 2
    with pytest.raises(ValueError, match="when x is a DataLoader .* `y` should not be passed"):
        _data.EpochIterator(loader, y)


def test_map_style_dataset_goes_through_a_dataloader():
    class Squares(ember.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i], dtype=np.float32), np.int64(i * i)

    batches = epoch(_data.EpochIterator(Squares(), batch_size=2))
    assert [b[0].shape for b in batches] == [(2, 1), (2, 1), (1, 1)]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), [0, 1, 4, 9, 16])


def test_generator_batch_forms():
    x, y = rows(4)
    forms = [x, (x,), (x, y), [x, y, np.ones(4)]]
    batches = epoch(_data.EpochIterator(iter(forms)))
    assert [(b[1] is None, b[2] is None) for b in batches] == [(True, True), (True, True), (False, True),
                                                             (False, False)]
    assert batches[3][2].dtype == np.float32
    with pytest.raises(ValueError, match=r"each batch must be x, \(x,\), \(x, y\) or \(x, y, sample_weight\); got a "
                                         r"tuple of 4 items"):
        epoch(_data.EpochIterator(iter([(x, y, y, y)])))
    with pytest.raises(ValueError, match="x and y must have the same number of samples, got x with 4 samples and "
                                         "y with 3"):
        epoch(_data.EpochIterator(iter([(x, y[:3])])))


def test_generator_is_read_once_and_its_length_learnt():
    x, y = rows(9)
    iterator = _data.EpochIterator((x[i:i + 3], y[i:i + 3]) for i in range(0, 9, 3))
    assert iterator.num_batches is None
    assert len(epoch(iterator)) == 3 and iterator.num_batches == 3 and not iterator.ran_out
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        assert epoch(iterator) == []
    assert iterator.ran_out


def test_steps_per_epoch_continues_a_generator_across_epochs():
    x, y = rows(15)
    iterator = _data.EpochIterator(((x[i:i + 3], y[i:i + 3]) for i in range(0, 15, 3)), steps_per_epoch=2)
    assert iterator.num_batches == 2
    first, second = epoch(iterator), epoch(iterator)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in first + second]), np.arange(12))
    with pytest.warns(UserWarning, match="ran out of data"):
        third = epoch(iterator)
    assert len(third) == 1 and iterator.ran_out


def test_steps_per_epoch_with_arrays_continues_then_starts_a_new_pass():
    x, y = rows(10)
    iterator = _data.EpochIterator(x, y, batch_size=4, steps_per_epoch=2)  # 3 batches per pass
    labels = lambda batches: np.concatenate([b[1] for b in batches]).tolist()  # noqa: E731
    assert labels(epoch(iterator)) == list(range(8))
    with pytest.warns(UserWarning, match="ran out of data"):  # Keras: the pass ends mid-epoch
        assert labels(epoch(iterator)) == [8, 9]
    assert not iterator.ran_out  # arrays can be read again: the next epoch starts a new pass
    assert labels(epoch(iterator)) == list(range(8))


def test_class_weight_becomes_sample_weight():
    y = np.array([0, 1, 2, 1])
    for labels in (y, y.reshape(4, 1), np.eye(3)[y]):
        (_, _, swb), = epoch(_data.EpochIterator(np.ones((4, 2)), labels, class_weight={1: 3.0, 2: 0.5}))
        np.testing.assert_array_equal(swb, [1.0, 3.0, 0.5, 3.0])
    (_, _, swb), = epoch(_data.EpochIterator(iter([(np.ones((4, 2)), y)]), class_weight={0: 2.0}))
    np.testing.assert_array_equal(swb, [2.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="cannot use class_weight and sample_weight at the same time"):
        _data.EpochIterator(np.ones((4, 2)), y, sample_weight=np.ones(4), class_weight={0: 2.0})
    with pytest.raises(ValueError, match="class_weight is only supported for a model with a single output"):
        _data.EpochIterator(np.ones((4, 2)), [y, y], class_weight={0: 2.0})


# ---- utils.to_categorical and plot_history -----------------------------------------------------
@pytest.mark.parametrize("labels, num_classes, shape", [
    ([0, 2, 1], None, (3, 3)), (np.array([[1], [0]]), None, (2, 2)), (np.array([[1, 0, 3]]), 5, (1, 3, 5)),
    (np.int64(2), 4, (4,)), (np.array([1.0, 0.0]), 3, (2, 3)), (np.array([], dtype=np.int64), 3, (0, 3)),
])
def test_to_categorical_keras_semantics(labels, num_classes, shape):
    out = kutils.to_categorical(labels, num_classes)
    assert out.shape == shape and out.dtype == np.float32
    flat = np.asarray(labels).reshape(-1).astype(np.int64)
    np.testing.assert_array_equal(out.reshape(-1, shape[-1]), np.eye(shape[-1], dtype=np.float32)[flat])


def test_to_categorical_ember_input_dtype_and_errors():
    out = kutils.to_categorical(ember.tensor([2, 0]), 3)
    assert isinstance(out, ember.Tensor) and out.dtype == ember.float32
    assert out.tolist() == [[0, 0, 1], [1, 0, 0]]
    assert kutils.to_categorical([1], 2, dtype="int64").dtype == np.int64
    with pytest.raises(ValueError, match=r"label 3 is outside \[0, 3\) for num_classes=3"):
        kutils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match=r"label -1 is outside \[0, 2\)"):
        kutils.to_categorical([-1, 1])
    with pytest.raises(ValueError, match="labels must be whole numbers.*1.5"):
        kutils.to_categorical([1.5, 2.0])
    with pytest.raises(TypeError, match="labels must be integers, got NumPy dtype <U3"):
        kutils.to_categorical(["cat"])


def test_plot_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    history = cbks.History()
    history.history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.9]}
    history.epoch = [0, 1, 2]
    for source, name in ((history, "h.png"), (history.history, "d.png")):
        path = tmp_path / name
        assert kutils.plot_history(source, path) == path
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="the history is empty"):
        kutils.plot_history({}, tmp_path / "e.png")
    with pytest.raises(TypeError, match="expected a History .* got list"):
        kutils.plot_history([1.0, 0.5], tmp_path / "l.png")


def test_plot_history_without_matplotlib(monkeypatch, tmp_path):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    message = r'plot_history needs matplotlib, which is not installed: pip install "ember\[plot\]"'
    with pytest.raises(ImportError, match=message):
        kutils.plot_history({"loss": [1.0]}, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
