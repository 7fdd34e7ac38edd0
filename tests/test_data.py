"""ember.data: datasets, samplers, collation and the DataLoader (batches, shapes, dtypes, shuffling,
splits and error paths), with PyTorch's torch.utils.data as the reference where it is installed."""
import collections
import warnings

import numpy as np
import pytest

import ember
from ember import data
from ember.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler, SequentialSampler,
                        Subset, SubsetRandomSampler, TensorDataset, default_collate, default_convert,
                        random_split)


def _xy(n=10, features=3):
    x = ember.from_numpy(np.arange(n * features, dtype=np.float32).reshape(n, features))
    y = ember.arange(n)
    return x, y


def _rows(batch_x):
    """The sample ids of a batch drawn from _xy's x (its first column is 3 * id)."""
    return (batch_x.numpy()[:, 0] // 3).astype(int).tolist()


# ---- datasets ----------------------------------------------------------------------------------------

def test_tensor_dataset_items_and_numpy_sharing():
    x, y = _xy()
    labels = np.arange(10, dtype=np.float64) * 2
    ds = TensorDataset(x, y, labels)
    assert len(ds) == 10
    xi, yi, li = ds[3]
    assert xi.tolist() == [9.0, 10.0, 11.0] and yi.item() == 3 and li.item() == 6.0
    assert ds.tensors[2].dtype == ember.float64
    labels[0] = -1.0  # the NumPy array is shared, not copied
    assert ds[0][2].item() == -1.0


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"first dimensions must match, got sizes \[10, 9\]"):
        TensorDataset(ember.zeros(10, 2), ember.zeros(9))
    with pytest.raises(ValueError, match="argument 1 is 0-d"):
        TensorDataset(ember.zeros(3), ember.tensor(1.0))
    with pytest.raises(TypeError, match="argument 0 must be an ember tensor or a NumPy array, got list"):
        TensorDataset([1, 2, 3])
    with pytest.raises(TypeError, match="uint8 is not supported"):
        TensorDataset(np.zeros(4, dtype=np.uint8))


def test_dataset_base_concat_and_subset():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    a, b = TensorDataset(ember.arange(3)), TensorDataset(ember.arange(10, 15))
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 8
    assert [both[i][0].item() for i in range(8)] == [0, 1, 2, 10, 11, 12, 13, 14]
    assert both[-1][0].item() == 14 and both[-8][0].item() == 0
    with pytest.raises(ValueError, match="should not exceed dataset length 8"):
        both[-9]
    with pytest.raises(IndexError, match="index 8 is out of range for length 8"):
        both[8]
    with pytest.raises(ValueError, match="should not be an empty iterable"):
        ConcatDataset([])
    sub = Subset(both, [7, 0, 3])
    assert len(sub) == 3 and [s[0].item() for s in sub[[0, 1, 2]]] == [14, 0, 10]


# ---- collation ---------------------------------------------------------------------------------------

Point = collections.namedtuple("Point", ["x", "y"])

COLLATE_CASES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.0, -3.25],
    "bools": [True, False, True],
    "ints_then_floats": [1, 2.5],  # the first element's type picks the rule, as in PyTorch
    "numpy_float32": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "numpy_int32": [np.arange(4, dtype=np.int32), np.arange(4, 8, dtype=np.int32)],
    "numpy_scalars": [np.float32(1.5), np.float32(2.5)],
    "numpy_int_scalars": [np.int64(4), np.int64(5)],
    "numpy_bool_scalars": [np.bool_(True), np.bool_(False)],
    "tuples": [(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)],
    "lists": [[1.0, 2], [3.0, 4]],
    "dicts": [{"image": np.full((2, 2), i, np.float64), "label": i, "name": f"s{i}"} for i in range(3)],
    "nested": [{"pair": (i, [float(i), np.int32(i)])} for i in range(2)],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "strings": ["a", "bc"],
}


def _describe(batch, is_tensor, dtype_name, to_list):
    """(structure, dtype names, values) of a collated batch, comparable across frameworks."""
    if is_tensor(batch):
        return ("tensor", dtype_name(batch), to_list(batch))
    if isinstance(batch, dict):
        return ("dict", {k: _describe(v, is_tensor, dtype_name, to_list) for k, v in batch.items()})
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return (type(batch).__name__, [_describe(v, is_tensor, dtype_name, to_list) for v in batch])
    if isinstance(batch, list):
        return ("list", [_describe(v, is_tensor, dtype_name, to_list) for v in batch])
    return ("other", batch)


def _describe_ember(batch):
    return _describe(batch, lambda t: isinstance(t, ember.Tensor), lambda t: t.dtype.name, lambda t: t.tolist())


def _ember_samples(samples):
    """The same samples with NumPy arrays as ember tensors (a tensor dataset's items)."""
    if isinstance(samples, np.ndarray):
        return ember.from_numpy(samples)
    if isinstance(samples, dict):
        return {k: _ember_samples(v) for k, v in samples.items()}
    if isinstance(samples, tuple) and not hasattr(samples, "_fields"):
        return tuple(_ember_samples(v) for v in samples)
    if isinstance(samples, list):
        return [_ember_samples(v) for v in samples]
    return samples


@pytest.mark.parametrize("case", sorted(COLLATE_CASES))
def test_default_collate_matches_torch(case):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    samples = COLLATE_CASES[case]
    expected = _describe(torch_collate(samples), torch.is_tensor, lambda t: str(t.dtype).replace("torch.", ""),
                         lambda t: t.tolist())
    assert _describe_ember(default_collate(samples)) == expected
    # ember tensors in place of NumPy arrays collate the same way
    assert _describe_ember(default_collate(_ember_samples(samples))) == expected


def test_default_collate_shapes_and_dtypes():
    images = [ember.full((3, 4), float(i)) for i in range(5)]
    batch = default_collate([(img, i) for i, img in enumerate(images)])
    assert isinstance(batch, list) and batch[0].shape == (5, 3, 4) and batch[0].dtype == ember.float32
    assert batch[1].dtype == ember.int64 and batch[1].tolist() == [0, 1, 2, 3, 4]
    assert batch[0][2].tolist() == [[2.0] * 4] * 3
    out = default_collate([{"a": np.zeros((2,), np.float32), "b": 1.0}] * 4)
    assert set(out) == {"a", "b"} and out["a"].shape == (4, 2) and out["b"].dtype == ember.float64
    assert default_collate([Point(1, 2), Point(3, 4)]).x.tolist() == [1, 3]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                                        "found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="default_collate: NumPy dtype uint8 is not supported"):
        default_collate([np.zeros(2, np.uint8)] * 2)
    with pytest.raises(ValueError, match=r"expected each NumPy array to be equal size, got shapes \[\(2,\), \(3,\)\]"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="stack: expected each tensor to be equal size"):
        default_collate([ember.zeros(2), ember.zeros(3)])


def test_default_convert():
    out = default_convert({"x": np.arange(3), "y": (np.float32(2.0), "s", 5)})
    assert isinstance(out["x"], ember.Tensor) and out["x"].dtype == ember.int64
    assert isinstance(out["y"], list) and out["y"][0].dtype == ember.float32 and out["y"][1:] == ["s", 5]


# ---- the DataLoader ----------------------------------------------------------------------------------

@pytest.mark.parametrize("drop_last, sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_batches_in_order(drop_last, sizes):
    x, y = _xy()
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=drop_last)
    assert len(loader) == len(sizes)
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(n, 3) for n in sizes]
    assert all(isinstance(b, list) and b[0].dtype == ember.float32 and b[1].dtype == ember.int64 for b in batches)
    assert [b[1].tolist() for b in batches] == [list(range(s, s + n)) for s, n in zip((0, 4, 8), sizes)]
    assert batches[1][0].tolist() == x.numpy()[4:8].tolist()


def test_tensor_dataset_batches_are_gathered_once_per_tensor(monkeypatch):
    x, y = _xy(50)
    ds = TensorDataset(x, y)
    calls = []
    real = ember._C.index_select
    monkeypatch.setattr(ember._C, "index_select", lambda *a: calls.append(1) or real(*a))
    batches = list(DataLoader(ds, batch_size=8, shuffle=True, generator=ember.Generator().manual_seed(1)))
    assert len(calls) == 2 * len(batches) == 2 * 7
    batches[0][0].fill_(-1.0)  # a batch is a copy: writing to it leaves the dataset alone
    assert float(x.numpy().min()) == 0.0


@pytest.mark.parametrize("shuffle", [False, True])
def test_gathered_batches_equal_stacked_ones(shuffle):
    x, y = _xy(37)
    full = TensorDataset(x, y)
    for ds in (full, Subset(full, list(range(36, 0, -2))), Subset(Subset(full, np.arange(30)), [5, 1, 29, 0])):
        def batches(collate_fn):
            g = ember.Generator().manual_seed(7)
            return list(DataLoader(ds, batch_size=5, shuffle=shuffle, collate_fn=collate_fn, generator=g))
        gathered, stacked = batches(None), batches(lambda b: default_collate(b))
        assert len(gathered) == len(stacked)
        for a, b in zip(gathered, stacked):
            assert [t.tolist() for t in a] == [t.tolist() for t in b]
            assert [(t.shape, t.dtype) for t in a] == [(t.shape, t.dtype) for t in b]


def test_loader_over_general_datasets():
    class Records(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"features": np.full(3, i, np.float32), "label": i % 2, "weight": 0.5 * i}

    batch = next(iter(DataLoader(Records(), batch_size=3)))
    assert batch["features"].shape == (3, 3) and batch["features"].dtype == ember.float32
    assert batch["label"].tolist() == [0, 1, 0] and batch["weight"].dtype == ember.float64
    assert [b.tolist() for b in DataLoader([1.0, 2.0, 3.0], batch_size=2)] == [[1.0, 2.0], [3.0]]
    singles = list(DataLoader(Records(), batch_size=None))
    assert len(singles) == 5 and singles[2]["features"].shape == (3,) and singles[2]["label"] == 0
    custom = DataLoader(Records(), batch_size=2, collate_fn=lambda b: [s["label"] for s in b])
    assert list(custom) == [[0, 1], [0, 1], [0]]


def _epoch_order(loader):
    return [i for batch in loader for i in batch[1].tolist()]


def test_shuffle_visits_every_index_once_and_repeats_under_manual_seed():
    x, y = _xy(53)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    ember.manual_seed(123)
    first, second = _epoch_order(loader), _epoch_order(loader)
    assert sorted(first) == sorted(second) == list(range(53))
    assert first != second and first != list(range(53))
    ember.manual_seed(123)
    assert _epoch_order(loader) == first and _epoch_order(loader) == second
    ember.manual_seed(124)
    assert _epoch_order(loader) != first
    rows = [r for batch in loader for r in _rows(batch[0])]
    assert sorted(rows) == list(range(53))


def test_shuffle_with_a_generator():
    x, y = _xy(40)
    ds = TensorDataset(x, y)
    g = ember.Generator().manual_seed(5)
    loader = DataLoader(ds, batch_size=6, shuffle=True, generator=g)
    first, second = _epoch_order(loader), _epoch_order(loader)
    assert first != second and sorted(first) == list(range(40))
    g.manual_seed(5)
    ember.manual_seed(999)  # the global generator plays no part when a generator is given
    assert _epoch_order(loader) == first and _epoch_order(loader) == second
    other = DataLoader(ds, batch_size=6, shuffle=True, generator=ember.Generator().manual_seed(6))
    assert _epoch_order(other) != first


def test_drop_last_with_shuffle_keeps_full_batches():
    x, y = _xy(23)
    loader = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 4 and all(b[0].shape == (5, 3) for b in batches)
    assert len(set(_epoch_order(batches))) == 20


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = ember.Generator().manual_seed(0)
    assert sorted(RandomSampler(range(9), generator=g)) == list(range(9))
    drawn = list(RandomSampler(range(5), num_samples=12, generator=g))
    assert len(drawn) == 12 and sorted(drawn[:10]) == sorted(list(range(5)) * 2)
    replaced = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=g))
    assert len(replaced) == 50 and set(replaced) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([4, 8, 15], generator=g)) == [4, 8, 15]
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    loader = DataLoader(list(range(10)), batch_sampler=BatchSampler(range(9, -1, -2), 2, False))
    assert [b.tolist() for b in loader] == [[9, 7], [5, 3], [1]] and len(loader) == 3
    assert [b.tolist() for b in DataLoader(list(range(6)), sampler=[5, 0, 3], batch_size=2)] == [[5, 0], [3]]


def test_loader_errors():
    ds = TensorDataset(*_xy())
    for bad in (0, -2, 2.5, True, "4"):
        with pytest.raises(ValueError, match=f"batch_size should be a positive integer value, but got "
                                             f"batch_size={bad}"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive with batch_size"):
        DataLoader(ds, batch_size=4, batch_sampler=BatchSampler(range(10), 2, False))
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="multiprocess loading is not supported yet; use num_workers=0"):
        DataLoader(ds, num_workers=2)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="generator must be an ember.Generator, got numpy.random"):
        DataLoader(ds, shuffle=True, generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, drop_last=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(ds, num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(ds, replacement="yes")
    with pytest.warns(UserWarning, match="drop_last=True with batch_size=11 larger than the dataset"):
        loader = DataLoader(ds, batch_size=11, drop_last=True)
    assert len(loader) == 0 and list(loader) == []
    assert len(DataLoader(ds, batch_size=4, pin_memory=True, num_workers=0)) == 3


def test_loader_errors_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TorchLoader, TensorDataset as TorchDataset
    theirs = TorchDataset(torch.zeros(10))
    ours = TensorDataset(ember.zeros(10))
    for kwargs in (dict(batch_size=0), dict(batch_size=2.5), dict(shuffle=True, sampler=[0, 1])):
        with pytest.raises(ValueError) as torch_error:
            TorchLoader(theirs, **kwargs)
        with pytest.raises(ValueError, match=str(torch_error.value).replace("(", r"\(").replace(")", r"\)")):
            DataLoader(ours, **kwargs)
    assert len(TorchLoader(theirs, batch_size=11, drop_last=True)) == 0  # torch: no error, no batches


# ---- random_split and the generator ------------------------------------------------------------------

def test_random_split_lengths_and_disjointness():
    ds = TensorDataset(ember.arange(30))
    parts = random_split(ds, [9, 6, 15], generator=ember.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [9, 6, 15]
    seen = [p.dataset[i][0].item() for p in parts for i in p.indices]
    assert sorted(seen) == list(range(30))
    again = random_split(ds, [9, 6, 15], generator=ember.Generator().manual_seed(0))
    assert [p.indices for p in again] == [p.indices for p in parts]
    ember.manual_seed(3)
    a = random_split(range(12), [0.5, 0.5])
    ember.manual_seed(3)
    b = random_split(range(12), [0.5, 0.5])
    assert [list(p) for p in a] == [list(p) for p in b] and sorted(list(a[0]) + list(a[1])) == list(range(12))


@pytest.mark.parametrize("n, fractions", [(10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (30, [0.3, 0.3, 0.4]),
                                          (11, [0.1, 0.2, 0.3, 0.4]), (3, [0.0, 1.0])])
def test_random_split_fractions_match_torch_sizes(n, fractions):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = [len(p) for p in random_split(range(n), fractions)]
    assert sum(ours) == n
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours == [len(p) for p in torch.utils.data.random_split(range(n), fractions)]


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [0.5, 0.4])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    with pytest.raises(ValueError, match="lengths must be non-negative integers"):
        random_split(range(10), [-2, 12])
    with pytest.raises(TypeError, match="lengths must be integers or fractions"):
        random_split(range(10), ["5", "5"])
    with pytest.warns(UserWarning, match="Length of split at index 0 is 0"):
        random_split(range(3), [0.0, 1.0])


def test_generator():
    g = ember.Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    first = g.permutation(10)
    assert g.manual_seed(42).permutation(10).tolist() == first.tolist()
    state = g.get_state()
    after = g.permutation(10).tolist()
    assert g.set_state(state).permutation(10).tolist() == after
    assert ember.Generator().manual_seed(-1).initial_seed() == 2 ** 64 - 1
    with pytest.raises(TypeError, match="the seed must be an integer, got float"):
        g.manual_seed(1.5)
    with pytest.raises(ValueError, match="only device='cpu'"):
        ember.Generator("cuda")
    assert "Generator" in ember.__all__ and data.DataLoader is DataLoader
