"""Indexing (x[index] and x[index] = value) and the gather / scatter family against NumPy."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from conftest import NP, noncontiguous

DTYPES = [ember.float32, ember.float64, ember.int64, ember.int32, ember.bool]
FROM_NP = {np.dtype(v): k for k, v in NP.items()}


def sample(shape, dtype, seed=0):
    """Distinct values (so a misplaced element shows), of `dtype`."""
    a = np.random.default_rng(seed).permutation(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    return np.asarray(a % 2 == 1) if dtype == ember.bool else a.astype(NP[dtype])


def as_numpy_index(index):
    """The same index with ember tensors replaced by NumPy arrays (NumPy is the reference)."""
    convert = lambda e: e.numpy() if isinstance(e, ember.Tensor) else e
    return tuple(convert(e) for e in index) if isinstance(index, tuple) else convert(index)


def assert_same(got, want):
    want = np.asarray(want)
    assert isinstance(got, ember.Tensor)
    assert got.shape == want.shape, f"shape {got.shape} != NumPy's {want.shape}"
    assert got.dtype == FROM_NP[want.dtype], f"dtype {got.dtype} != NumPy's {want.dtype}"
    np.testing.assert_array_equal(got.numpy(), want)


def is_basic(index):
    entries = index if isinstance(index, tuple) else (index,)
    return all(e is None or e is Ellipsis or isinstance(e, (int, slice, np.integer)) and not isinstance(e, bool)
               for e in entries)


# ---- getitem: basic indices give views --------------------------------------------------------

BASIC = [0, -1, 1, (0, 1), (1, -1, 2), (0, 1, 2), (), Ellipsis, (Ellipsis,), None, (None, 0),
         slice(None), slice(1, None), slice(None, -1), slice(None, None, 2), slice(-100, 100), slice(5, 1),
         slice(1, 2, 5), slice(-2, None, 3), (slice(None), 0), (Ellipsis, 0), (0, Ellipsis), (Ellipsis, None),
         (0, None, slice(None), None), (slice(None), slice(1, 3), slice(None, None, 3)), (np.int64(1),),
         (slice(np.int32(1), None), np.int64(-1)), (slice(None), slice(0, 0))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index", BASIC, ids=repr)
def test_basic_index_is_a_view(index, dtype):
    a = sample((2, 3, 4), dtype)
    t = ember.from_numpy(a)
    got, want = t[index], a[index]
    assert_same(got, want)
    assert got._shares_storage(t)
    want = np.asarray(want)
    if want.ndim:
        kept = [d for d in range(want.ndim) if want.shape[d] > 1]
        assert [got.stride()[d] for d in kept] == [want.strides[d] // want.itemsize for d in kept]


def test_basic_index_of_a_noncontiguous_tensor_and_zero_d():
    a = sample((7, 33), ember.float32)
    t = noncontiguous(a)
    for index in [(slice(1, None, 3), -2), (Ellipsis, slice(None, None, 4)), 5, (None, slice(2, 5))]:
        assert_same(t[index], a[index])
        assert t[index]._shares_storage(t)
    s = ember.tensor(3.5)
    for index in [(), Ellipsis, None, (None, Ellipsis, None)]:
        assert_same(s[index], np.array(3.5, np.float32)[index])
        assert s[index]._shares_storage(s)


def test_int_index_matches_shape_zoo():
    from conftest import SHAPE_ZOO
    for shape in SHAPE_ZOO:
        a = sample(shape, ember.float64)
        t = ember.from_numpy(a)
        if len(shape) and shape[0]:
            assert_same(t[shape[0] - 1], a[shape[0] - 1])
            assert_same(t[-shape[0]], a[-shape[0]])
        assert_same(t[...], a[...])
        if len(shape):
            assert_same(t[1:], a[1:])
            assert_same(t[::2], a[::2])


# ---- getitem: advanced indices follow NumPy's placement rules ---------------------------------

M2 = np.array([True, False])
M3 = np.array([False, True, True])
M23 = np.array([[True, False, True], [False, True, False]])
M234 = sample((2, 3, 4), ember.bool, seed=3)

ADVANCED = [
    [0, 1], [1, 0, 1], [-1], [[0, 1], [1, 0]], ([0, 1], [2, 0]), (np.array([1, 0]),), ((0, 1),), ((1, 0), 2),
    ([0, 1], slice(None), [3, 0]),                  # separated by a slice: broadcast dims first
    (slice(None), [0, 2], [1, 3]),                  # adjacent after a slice: in place
    (0, slice(None), [0, 1]),                       # an integer counts as an array: separated
    (slice(None), 0, [0, 1]),                       # adjacent integer + array
    ([[0], [1]], [0, 1, 2]),                        # arrays broadcast together
    (Ellipsis, [0, 3]), ([0, 1], Ellipsis, [0]), (slice(None), [0, 1], Ellipsis, [2, 1]),
    (None, [0, 1]), ([0, 1], None, [0]), (slice(None), [0, 1], None, [1, 2]),
    True, False, (True,), (0, True), (slice(None), True, [0, 1]), (True, True), (False, slice(1, None)),
    [], (np.array([], dtype=np.int64),), ([[]],), (slice(None), []),
    M2, M23, M234, (slice(None), M3), (Ellipsis, np.array([True, False, False, True])),
    (M2, slice(None), [0, 1]), (M23, [1, 3, 0]), (M2, M3), [True, False], (M23 & False,),
    np.array(True), np.array(False), (np.array(1),), (0, np.array([[2, 1]]), slice(None, None, 2)),
    (slice(1, None), [-1, -2, 0]), (slice(None, None, 2), slice(None), [3]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index", ADVANCED, ids=repr)
def test_advanced_index_matches_numpy(index, dtype):
    a = sample((2, 3, 4), dtype)
    got = ember.from_numpy(a)[index]
    assert_same(got, a[index])
    assert not got._shares_storage(ember.from_numpy(a))


@pytest.mark.parametrize("index_dtype", [ember.int64, ember.int32])
def test_tensor_indices(index_dtype):
    a = sample((5, 6), ember.float32)
    t = noncontiguous(a)
    rows = ember.tensor([[4, 0], [-1, 2]], dtype=index_dtype)
    cols = ember.tensor([5, 1], dtype=index_dtype)
    assert_same(t[rows], a[rows.numpy()])
    assert_same(t[rows, cols], a[rows.numpy(), cols.numpy()])
    assert_same(t[:, cols], a[:, cols.numpy()])
    assert_same(t[rows[0]], a[rows.numpy()[0]])  # a strided index tensor
    mask = ember.from_numpy(a > 10)
    assert_same(t[mask], a[a > 10])
    assert_same(t[ember.tensor(True)], a[np.array(True)])
    assert_same(t[ember.tensor(2)], a[np.array(2)])
    assert_same(t[range(1, 4)], a[1:4])
    assert_same(t[np.int64(-1), np.True_], a[np.int64(-1), np.True_])


def test_index_sizes_zero_and_large():
    a = sample((3, 0, 4), ember.float32)
    t = ember.from_numpy(a)
    for index in [[0, 2], (slice(None), []), (slice(None), slice(None), [1, 1]), np.zeros((3, 0), bool)]:
        assert_same(t[index], a[index])
    b = sample((1000, 129), ember.float32)
    idx = np.random.default_rng(1).integers(-1000, 1000, size=3000)
    tb = ember.from_numpy(b)
    assert_same(tb[idx], b[idx])
    assert_same(tb[:, idx[:200] % 129], b[:, idx[:200] % 129])
    assert_same(tb[b > 64000], b[b > 64000])
    assert_same(noncontiguous(b)[idx[:50], 3:90:2], b[idx[:50], 3:90:2])


# ---- getitem: errors ----------------------------------------------------------------------------

def test_getitem_errors():
    t = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        t[5]
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 1 with size 4"):
        t[0, -5]
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 4"):
        t[:, [0, 4]]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        t[[3], 0]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        t[np.ones((3, 4, 1), bool)]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 0"):
        ember.tensor(1.0)[0]
    with pytest.raises(IndexError, match="single ellipsis"):
        t[..., 0, ...]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[:, ::0]
    with pytest.raises(IndexError, match="float32"):
        t[ember.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="integer or boolean type, got float64"):
        t[np.array([0.5])]
    with pytest.raises(IndexError, match="got float"):
        t[0.5]
    with pytest.raises(IndexError, match="got str"):
        t["a"]
    with pytest.raises(IndexError, match="valid indices"):
        t[[slice(None)]]
    with pytest.raises(IndexError, match=r"mask of shape \(4,\) does not match"):
        t[np.ones(4, bool)]
    with pytest.raises(IndexError, match=r"mask of shape \(3, 3\) does not match"):
        t[np.ones((3, 3), bool)]
    with pytest.raises(IndexError, match=r"could not be broadcast together with shapes \(2,\) \(3,\)"):
        t[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="out of bounds"):
        ember.zeros(0, 2)[[0]]


# ---- getitem: generated index tuples against NumPy ------------------------------------------------

@st.composite
def shapes_and_indices(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=3)))
    ndim = len(shape)
    n_indexed = draw(st.integers(0, ndim))
    split = draw(st.integers(0, n_indexed))  # entries before the ellipsis (if any)
    with_ellipsis = draw(st.booleans())
    if not with_ellipsis:
        split = n_indexed
    dims = list(range(split)) + list(range(ndim - (n_indexed - split), ndim))
    entries, i = [], 0
    while i < len(dims):
        d, n = dims[i], shape[dims[i]]
        kind = draw(st.sampled_from(["int", "slice", "array", "tensor", "mask", "mask2"]))
        if kind == "int" and n > 0:
            entries.append(draw(st.integers(-n, n - 1)))
        elif kind in ("array", "tensor"):
            size_shape = draw(st.sampled_from([(), (1,), (2,), (2, 1), (1, 2), (3,)])) if n else (0,)
            count = int(np.prod(size_shape))
            vals = draw(st.lists(st.integers(-n, n - 1), min_size=count, max_size=count)) if n else []
            vals = np.array(vals, dtype=np.int64).reshape(size_shape)
            if kind == "array":
                entries.append(draw(st.sampled_from([vals.tolist(), vals])) if vals.ndim else vals)
            else:
                entries.append(ember.tensor(vals, dtype=draw(st.sampled_from([ember.int64, ember.int32]))))
        elif kind == "mask2" and i + 1 < len(dims) and dims[i + 1] == d + 1:
            m = np.array(draw(st.lists(st.booleans(), min_size=n * shape[d + 1], max_size=n * shape[d + 1])),
                         dtype=bool).reshape(n, shape[d + 1])
            entries.append(ember.from_numpy(m) if draw(st.booleans()) else m)
            i += 1
        elif kind == "mask":
            m = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
            entries.append(draw(st.sampled_from([m, m.tolist(), ember.from_numpy(m)])) if n else m)
        else:
            entries.append(slice(draw(st.none() | st.integers(-n - 2, n + 2)),
                                 draw(st.none() | st.integers(-n - 2, n + 2)),
                                 draw(st.none() | st.integers(1, 3))))
        i += 1
    if with_ellipsis:
        entries.insert(split, Ellipsis)
    for _ in range(draw(st.integers(0, 2))):  # new axes and bool scalars anywhere
        entries.insert(draw(st.integers(0, len(entries))), draw(st.sampled_from([None, True, False])))
    return shape, tuple(entries)


def numpy_result(a, index):
    try:
        return a[as_numpy_index(index)], None
    except IndexError as e:
        return None, e


@settings(max_examples=200, deadline=None)
@given(shapes_and_indices(), st.sampled_from(DTYPES), st.booleans())
def test_generated_getitem_matches_numpy(shape_index, dtype, strided):
    shape, index = shape_index
    a = sample(shape, dtype)
    t = noncontiguous(a) if strided else ember.from_numpy(a)
    want, error = numpy_result(a, index)
    if error is not None:
        with pytest.raises(IndexError):
            t[index]
        return
    got = t[index]
    assert_same(got, want)
    if is_basic(index):
        assert got._shares_storage(t)


# ---- setitem -------------------------------------------------------------------------------------

@settings(max_examples=120, deadline=None)
@given(shapes_and_indices(), st.sampled_from(DTYPES), st.sampled_from(["full", "scalar", "row", "lead1"]),
       st.booleans())
def test_generated_setitem_matches_numpy(shape_index, dtype, value_kind, strided):
    shape, index = shape_index
    a = sample(shape, dtype)
    want, error = numpy_result(a, index)
    if error is not None:
        return
    target_shape = np.shape(want)
    if value_kind == "scalar":
        value = sample((), dtype, seed=5)[()].item()
    else:
        value_shape = {"full": target_shape, "row": target_shape[-1:], "lead1": (1, 1) + target_shape}[value_kind]
        value = sample(value_shape, dtype, seed=5)
        value = value if dtype == ember.bool else value + value.dtype.type(1000)
    expected = a.copy()
    # NumPy's scalar path rejects a (1, 1) value for a 0-d target; the same values without the
    # leading ones are what it would write
    expected[as_numpy_index(index)] = np.reshape(value, target_shape) if value_kind == "lead1" else value
    t = noncontiguous(a) if strided else ember.from_numpy(a)  # the latter shares a's memory
    t[index] = value if value_kind == "scalar" else ember.from_numpy(np.asarray(value))
    np.testing.assert_array_equal(t.numpy(), expected)
    if not strided:
        np.testing.assert_array_equal(a, expected)


def test_setitem_basic_writes_through_views_and_numpy():
    a = np.zeros((4, 5), np.float32)
    t = ember.from_numpy(a)
    t[1] = 2.5
    t[:, 0] = ember.tensor([1, 2, 3, 4])  # int64 value converted to float32
    t[2:, 3:] = ember.tensor([[7.0], [8.0]])  # broadcast along columns
    t[3, ...] = np.arange(5)
    t[0, 1] = True
    expected = np.zeros((4, 5), np.float32)
    expected[1] = 2.5
    expected[:, 0] = [1, 2, 3, 4]
    expected[2:, 3:] = [[7.0], [8.0]]
    expected[3, ...] = np.arange(5)
    expected[0, 1] = True
    np.testing.assert_array_equal(a, expected)
    v = t[1:3]
    v[:, 1:3] = -1.0  # through a view of a view
    expected[1:3, 1:3] = -1.0
    np.testing.assert_array_equal(a, expected)
    s = ember.tensor(1.0)
    s[()] = 4.0
    s[...] = 5.0
    assert s.item() == 5.0


def test_setitem_noncontiguous_target_and_overlapping_value():
    a = sample((7, 33), ember.float64)
    t = noncontiguous(a)
    t[2:5, ::3] = 0.5
    a[2:5, ::3] = 0.5
    np.testing.assert_array_equal(t.numpy(), a)
    t[[0, 6], 1:4] = ember.tensor([10.0, 11.0, 12.0], dtype=ember.float64)
    a[[0, 6], 1:4] = [10.0, 11.0, 12.0]
    np.testing.assert_array_equal(t.numpy(), a)
    x = np.arange(10.0)
    tx = ember.from_numpy(x)
    tx[1:] = tx[:-1]  # value overlaps the target: NumPy semantics, not a smeared copy
    np.testing.assert_array_equal(x, [0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
    tx[[2, 3]] = tx[[3, 2]]
    np.testing.assert_array_equal(x[2:4], [2, 1])


def test_setitem_advanced_repeats_last_write_wins():
    a = np.zeros(100000, np.int64)
    t = ember.from_numpy(a)
    idx = np.random.default_rng(2).integers(0, 50, size=200000)
    vals = np.arange(200000, dtype=np.int64)
    t[idx] = ember.from_numpy(vals)
    expected = np.zeros(100000, np.int64)
    expected[idx] = vals
    np.testing.assert_array_equal(a, expected)
    b = np.zeros((3, 3), np.float32)
    tb = ember.from_numpy(b)
    tb[[0, 0], [1, 1]] = ember.tensor([5.0, 6.0])
    assert b[0, 1] == 6.0
    c = np.zeros((40000, 6), np.int32)  # repeats with rows before and after: split over rows
    vals = np.arange(40000 * 5 * 2, dtype=np.int32).reshape(40000, 5, 2)
    ember.from_numpy(c.reshape(40000, 3, 2))[:, [1, 2, 1, 1, 2]] = ember.from_numpy(vals)
    expected = np.zeros((40000, 3, 2), np.int32)
    expected[:, [1, 2, 1, 1, 2]] = vals
    np.testing.assert_array_equal(c.reshape(40000, 3, 2), expected)


def test_setitem_masks_and_large_parallel():
    a = sample((1000, 129), ember.float32)
    expected = a.copy()
    t = ember.from_numpy(a)
    mask = a > 100000
    t[ember.from_numpy(mask)] = -1.0
    expected[mask] = -1.0
    rows = np.arange(0, 1000, 3)
    t[rows, 5:] = ember.from_numpy(np.ones((len(rows), 124), np.float32))
    expected[rows, 5:] = 1
    t[:, [0, 128]] = ember.tensor([[7.0, 8.0]])
    expected[:, [0, 128]] = [[7.0, 8.0]]
    np.testing.assert_array_equal(a, expected)


def test_setitem_errors():
    t = ember.zeros(3, 4)
    with pytest.raises(ValueError, match=r"cannot broadcast a value of shape \(3,\) to the indexed shape \(4,\)"):
        t[0] = ember.zeros(3)
    with pytest.raises(ValueError, match=r"cannot broadcast a value of shape \(2, 4\) to the indexed shape \(3, 4\)"):
        t[[0, 1, 2]] = ember.zeros(2, 4)
    with pytest.raises(ValueError, match=r"shape \(2, 1, 4\)"):
        t[0] = ember.zeros(2, 1, 4)
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        t[3] = 1.0
    with pytest.raises(IndexError, match="index 7 is out of bounds"):
        t[[0, 7]] = 1.0
    with pytest.raises(TypeError, match="setitem: the value must be"):
        t[0] = "x"
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[::-1] = 0.0


# ---- index_select / gather / scatter_add_ / nonzero / masked_fill ---------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_index_select(dtype):
    a = sample((4, 7, 5), dtype)
    t = noncontiguous(a)
    for dim in range(-3, 3):
        idx = np.array([0, 3, 1, 1, 3]) % a.shape[dim]
        for index in (ember.tensor(idx), ember.tensor(idx, dtype=ember.int32)):
            assert_same(t.index_select(dim, index), np.take(a, idx, axis=dim))
    assert_same(ember.index_select(t, 1, ember.tensor(2)), a[:, [2]])
    assert_same(t.index_select(0, ember.tensor([], dtype=ember.int64)), a[[]])
    assert_same(ember.tensor(3.0).index_select(0, ember.tensor([0])), np.float32(3.0))
    with pytest.raises(IndexError, match="out of bounds for dimension 1 with size 7"):
        t.index_select(1, ember.tensor([7]))
    with pytest.raises(TypeError, match="index_select: the index must be an int64 or int32 tensor, got float32"):
        t.index_select(0, ember.tensor([0.0]))
    with pytest.raises(ValueError, match=r"0-d or 1-d, got shape \(1, 1\)"):
        t.index_select(0, ember.tensor([[0]]))
    with pytest.raises(IndexError, match="index_select: dimension 3 is out of range"):
        t.index_select(3, ember.tensor([0]))


def numpy_gather(a, dim, idx):
    return np.take_along_axis(a[tuple(slice(0, s) if d != dim % a.ndim else slice(None)
                                      for d, s in enumerate(idx.shape))], idx, axis=dim)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather(dtype):
    rng = np.random.default_rng(0)
    a = sample((5, 6, 7), dtype)
    t = noncontiguous(a)
    for dim in range(-3, 3):
        shape = [3, 4, 5]
        shape[dim] = 9
        idx = rng.integers(0, a.shape[dim], size=shape)
        got = t.gather(dim, ember.from_numpy(idx))
        assert_same(got, numpy_gather(a, dim, idx))
        assert_same(ember.gather(t, dim, noncontiguous(idx.astype(np.int32))), numpy_gather(a, dim, idx))
    big = sample((1000, 129), dtype)
    idx = rng.integers(0, 129, size=(1000, 300))
    assert_same(ember.from_numpy(big).gather(1, ember.from_numpy(idx)), np.take_along_axis(big, idx, 1))
    assert_same(ember.tensor(2.0).gather(0, ember.tensor(0)), np.float32(2.0))
    assert_same(t.gather(0, ember.zeros(0, 3, 2, dtype=ember.int64)), np.zeros((0, 3, 2), a.dtype))


def test_gather_errors():
    t = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="gather: index 4 is out of bounds for dimension 1 with size 4"):
        t.gather(1, ember.tensor([[0, 4]]))
    with pytest.raises(IndexError, match="gather: index -1 is out of bounds"):
        t.gather(0, ember.tensor([[-1]]))
    with pytest.raises(ValueError, match=r"as many dimensions as the input, got index of shape \(2,\)"):
        t.gather(1, ember.tensor([0, 1]))
    with pytest.raises(ValueError, match="larger than the input of shape .* in dimension 0"):
        t.gather(1, ember.zeros(4, 1, dtype=ember.int64))
    with pytest.raises(TypeError, match="gather: the index must be an int64 or int32 tensor, got float32"):
        t.gather(1, ember.zeros(1, 1))


def numpy_scatter_add(x, dim, idx, src):
    out = x.copy()
    for pos in np.ndindex(*idx.shape):
        target = list(pos)
        target[dim] = idx[pos]
        out[tuple(target)] += src[pos]
    return out


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.int64, ember.int32])
def test_scatter_add(dtype):
    rng = np.random.default_rng(1)
    for dim in range(-3, 3):
        x = sample((4, 5, 6), dtype)
        shape, src_shape = [3, 4, 5], [4, 5, 6]
        shape[dim] = 8  # longer than x along dim: repeated targets
        src_shape[dim] = 9
        src = sample(tuple(src_shape), dtype, seed=7)
        idx = rng.integers(0, x.shape[dim], size=shape)
        want = numpy_scatter_add(x, dim % 3, idx, src)
        t = ember.from_numpy(x.copy())
        out = t.scatter_add_(dim, ember.from_numpy(idx), noncontiguous(src))
        assert out is t
        assert_same(t, want)
    big = np.zeros(50, np.float64)
    idx = rng.integers(0, 50, size=200000)
    t = ember.from_numpy(big)
    t.scatter_add_(0, ember.from_numpy(idx), ember.ones(200000, dtype=ember.float64))
    np.testing.assert_array_equal(big, np.bincount(idx, minlength=50))
    x = ember.zeros(3)
    y = ember.scatter_add(x, 0, ember.tensor([2, 2]), ember.tensor([1.0, 2.0]))
    assert_same(y, np.array([0, 0, 3], np.float32))
    assert_same(x, np.zeros(3, np.float32))
    b = ember.tensor([False, False])
    b.scatter_add_(0, ember.tensor([1, 1]), ember.tensor([True, False]))
    assert_same(b, np.array([False, True]))


def test_scatter_add_errors():
    t = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="scatter_add_: index 3 is out of bounds for dimension 0 with size 3"):
        t.scatter_add_(0, ember.tensor([[3]]), ember.ones(1, 1))
    assert t.numpy().sum() == 0  # nothing written before the error
    with pytest.raises(TypeError, match="src must have the dtype of the tensor"):
        t.scatter_add_(0, ember.tensor([[0]]), ember.ones(1, 1, dtype=ember.float64))
    with pytest.raises(ValueError, match="larger than src"):
        t.scatter_add_(0, ember.tensor([[0, 1]]), ember.ones(1, 1))
    with pytest.raises(ValueError, match="as many dimensions"):
        t.scatter_add_(0, ember.tensor([0]), ember.ones(1, 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_nonzero(dtype):
    from conftest import SHAPE_ZOO
    for shape in SHAPE_ZOO:
        a = np.asarray(sample(shape, dtype) % 3 if dtype != ember.bool else sample(shape, dtype), NP[dtype])
        want = np.argwhere(a)
        assert_same(ember.from_numpy(a).nonzero(), want)
        assert_same(noncontiguous(a).nonzero(), want)
    big = sample((1000, 129), dtype, seed=4)
    assert_same(ember.nonzero(ember.from_numpy(big)), np.argwhere(big))
    rows, cols = ember.from_numpy(big).nonzero(as_tuple=True)
    assert_same(rows, np.nonzero(big)[0])
    assert_same(cols, np.nonzero(big)[1])


def test_nonzero_floats_nan_counts():
    a = np.array([0.0, -0.0, np.nan, np.inf, 1e-45], np.float32)
    assert_same(ember.from_numpy(a).nonzero(), np.argwhere(a))


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_fill(dtype):
    a = sample((7, 33), dtype)
    mask = sample((7, 33), ember.bool, seed=9)
    value = {ember.bool: True, ember.int64: -3, ember.int32: 7}.get(dtype, 2.5)
    want = np.where(mask, np.asarray(value).astype(a.dtype), a)
    assert_same(ember.from_numpy(a).masked_fill(ember.from_numpy(mask), value), want)
    assert_same(noncontiguous(a).masked_fill(noncontiguous(mask), value), want)
    assert_same(ember.masked_fill(ember.from_numpy(a), ember.from_numpy(mask[0]), value),
                np.where(mask[0], np.asarray(value).astype(a.dtype), a))  # mask broadcast over rows
    assert_same(ember.from_numpy(a[:1]).masked_fill(ember.from_numpy(mask), ember.tensor(value)),
                np.where(mask, np.asarray(value).astype(a.dtype), a[:1]))  # x broadcast too


def test_masked_fill_special_values_and_errors():
    a = np.array([1.0, 2.0, 3.0], np.float64)
    m = np.array([True, False, True])
    got = ember.from_numpy(a).masked_fill(ember.from_numpy(m), float("nan"))
    np.testing.assert_array_equal(got.numpy(), [np.nan, 2.0, np.nan])
    got = ember.from_numpy(a).masked_fill(ember.from_numpy(m), float("-inf"))
    np.testing.assert_array_equal(got.numpy(), [-np.inf, 2.0, -np.inf])
    t = ember.zeros(3)
    with pytest.raises(TypeError, match="masked_fill: the mask must be a bool tensor, got float32"):
        t.masked_fill(ember.zeros(3), 1.0)
    with pytest.raises(ValueError, match=r"0-d tensor, got a tensor of shape \(1,\)"):
        t.masked_fill(ember.from_numpy(m), ember.zeros(1))
    with pytest.raises(ValueError, match="masked_fill"):
        t.masked_fill(ember.from_numpy(np.ones(4, bool)), 1.0)
    with pytest.raises(TypeError, match="masked_fill: the value must be a Python number"):
        t.masked_fill(ember.from_numpy(m), "a")


def test_results_do_not_depend_on_thread_count():
    a = sample((600, 129), ember.float64)
    idx = np.random.default_rng(3).integers(0, 600, size=5000)
    before = ember.get_num_threads()
    results = []
    for n in (1, 2):
        ember.set_num_threads(n)
        t = ember.from_numpy(a.copy())
        t[idx[:100]] = ember.from_numpy(np.arange(100 * 129, dtype=np.float64).reshape(100, 129))
        results.append((t[idx].numpy(), t.nonzero().numpy(), t.numpy().copy()))
    ember.set_num_threads(before)
    for x, y in zip(*results):
        np.testing.assert_array_equal(x, y)


def test_writing_into_an_expanded_view_raises():
    x = ember.zeros(3).expand(4, 3)
    with pytest.raises(RuntimeError, match="several elements in one memory location"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="several elements in one memory location"):
        x.copy_(ember.ones(4, 3))
    with pytest.raises(RuntimeError, match="several elements in one memory location"):
        x.scatter_add_(0, ember.zeros(1, 3, dtype=ember.int64), ember.ones(1, 3))
