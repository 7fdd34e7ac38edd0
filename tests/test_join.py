"""cat / stack / split / chunk against NumPy, with PyTorch's dtype promotion and size rules."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from conftest import NP, noncontiguous

DTYPES = [ember.float32, ember.float64, ember.int64, ember.int32, ember.bool]
FROM_NP = {np.dtype(v): k for k, v in NP.items()}


def sample(shape, dtype, seed=0):
    a = np.random.default_rng(seed).integers(-50, 50, size=shape)
    return np.asarray(a > 0) if dtype == ember.bool else a.astype(NP[dtype])


def torch_promote(a, b):
    """PyTorch's promotion between two tensors: bool < integers < floats, wider wins in a kind."""
    kind = lambda d: 0 if d == ember.bool else 2 if d.is_floating_point else 1
    if kind(a) != kind(b):
        return a if kind(a) > kind(b) else b
    return a if a.itemsize >= b.itemsize else b


def assert_same(got, want, dtype=None):
    assert isinstance(got, ember.Tensor)
    assert got.shape == want.shape, f"shape {got.shape} != NumPy's {want.shape}"
    assert got.dtype == (dtype or FROM_NP[want.dtype])
    np.testing.assert_array_equal(got.numpy(), want)


# ---- cat ---------------------------------------------------------------------------------------

CAT_CASES = [  # shapes of the inputs, dim
    ([(3,), (4,)], 0), ([(1,), (0,), (7,)], 0), ([(2, 3), (4, 3)], 0), ([(2, 3), (2, 5), (2, 1)], 1),
    ([(2, 3), (2, 0), (2, 4)], -1), ([(3, 0), (3, 0)], 0), ([(4, 1, 5), (4, 2, 5)], 1), ([(4, 1, 5)], 2),
    ([(2, 3, 129), (2, 3, 7)], 2), ([(7, 33), (7, 33), (7, 33)], 0), ([(7, 33)] * 5, -1), ([(0, 2), (0, 2)], 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes,dim", CAT_CASES)
def test_cat_matches_numpy(shapes, dim, dtype):
    arrays = [sample(s, dtype, seed=i) for i, s in enumerate(shapes)]
    want = np.concatenate(arrays, axis=dim)
    assert_same(ember.cat([ember.from_numpy(a) for a in arrays], dim), want)
    mixed = [noncontiguous(a) if i % 2 == 0 else ember.from_numpy(a) for i, a in enumerate(arrays)]
    assert_same(ember.cat(mixed, dim), want)
    assert_same(ember.cat(tuple(noncontiguous(a) for a in arrays), dim=dim), want)


@pytest.mark.parametrize("first,second", list(itertools.product(DTYPES, DTYPES)))
def test_cat_promotes_like_pytorch(first, second):
    a, b = sample((2, 3), first), sample((4, 3), second, seed=1)
    out = ember.cat([ember.from_numpy(a), noncontiguous(b)], 0)
    dtype = torch_promote(first, second)
    assert_same(out, np.concatenate([a, b]).astype(NP[dtype]), dtype)


def test_cat_skips_1d_empty_tensors_like_pytorch():
    x = sample((2, 3), ember.float32)
    out = ember.cat([ember.zeros(0), ember.from_numpy(x), ember.zeros(0)], 1)
    assert_same(out, x)
    out = ember.cat([ember.zeros(0, dtype=ember.float64), ember.from_numpy(x)], 0)
    assert_same(out, x.astype(np.float64), ember.float64)  # still takes part in dtype promotion
    assert_same(ember.cat([ember.zeros(0), ember.zeros(0, dtype=ember.int64)], 0), np.zeros(0, np.float32))
    assert_same(ember.cat([ember.zeros(0)], -1), np.zeros(0, np.float32))


def test_cat_large_is_thread_invariant():
    arrays = [sample((1000, 129), ember.float32, seed=i) for i in range(3)]
    tensors = [ember.from_numpy(a) for a in arrays]
    before = ember.get_num_threads()
    try:
        for n in (1, 2):
            ember.set_num_threads(n)
            for dim in (0, 1):
                assert_same(ember.cat(tensors, dim), np.concatenate(arrays, dim))
            many = [ember.from_numpy(a[:, :3]) for a in arrays] * 30
            assert_same(ember.cat(many, 1), np.concatenate([a[:, :3] for a in arrays] * 30, 1))
    finally:
        ember.set_num_threads(before)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=3), st.integers(0, 2), st.lists(st.integers(0, 4),
       min_size=1, max_size=4), st.sampled_from(DTYPES), st.lists(st.booleans(), min_size=4, max_size=4))
def test_generated_cat(shape, dim_seed, sizes, dtype, strided):
    dim = dim_seed % len(shape)
    arrays = []
    for i, n in enumerate(sizes):
        s = list(shape)
        s[dim] = n
        arrays.append(sample(tuple(s), dtype, seed=i))
    tensors = [noncontiguous(a) if strided[i] else ember.from_numpy(a) for i, a in enumerate(arrays)]
    assert_same(ember.cat(tensors, dim - len(shape)), np.concatenate(arrays, dim))


def test_cat_errors():
    x = ember.zeros(2, 3)
    with pytest.raises(ValueError, match="cat: expected a non-empty list of tensors"):
        ember.cat([])
    with pytest.raises(ValueError, match="cat: the zero-dimensional tensor at position 1"):
        ember.cat([x, ember.tensor(1.0)])
    with pytest.raises(ValueError, match=r"tensor 0 has shape \(2, 3\) but tensor 1 has shape \(2, 4\)"):
        ember.cat([x, ember.zeros(2, 4)], 0)
    with pytest.raises(ValueError, match=r"same number of dimensions, tensor 0 has shape \(2, 3\) but tensor 2"):
        ember.cat([x, x, ember.zeros(2, 3, 1)], 0)
    with pytest.raises(ValueError, match="except in dimension 1"):
        ember.cat([x, ember.zeros(3, 3)], 1)
    with pytest.raises(IndexError, match="cat: dimension 2 is out of range"):
        ember.cat([x, x], 2)
    with pytest.raises(TypeError, match="cat: expected a list of tensors, but element 1 is a int"):
        ember._C.cat([x, 1], 0)
    with pytest.raises(TypeError, match="cat: expected a list or tuple of tensors"):
        ember._C.cat(x, 0)


# ---- stack -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (0,), (7,), (3, 0), (7, 33), (4, 1, 5)])
def test_stack_matches_numpy(shape, dtype):
    arrays = [sample(shape, dtype, seed=i) for i in range(3)]
    for dim in range(-len(shape) - 1, len(shape) + 1):
        want = np.stack(arrays, axis=dim)
        assert_same(ember.stack([ember.from_numpy(a) for a in arrays], dim), want)
        assert_same(ember.stack([noncontiguous(a) for a in arrays], dim=dim), want)


def test_stack_errors():
    x = ember.zeros(2, 3)
    with pytest.raises(ValueError, match="stack: expected a non-empty list of tensors"):
        ember.stack([])
    with pytest.raises(ValueError, match=r"equal size, but got \(2, 3\) at entry 0 and \(3, 2\) at entry 2"):
        ember.stack([x, x, ember.zeros(3, 2)])
    with pytest.raises(IndexError, match="stack: dimension 3 is out of range"):
        ember.stack([x, x], 3)
    with pytest.raises(IndexError, match="stack: dimension -4 is out of range"):
        ember.stack([x, x], -4)


# ---- split / chunk -------------------------------------------------------------------------------

def check_pieces(pieces, base, array, dim, sizes):
    """pieces are views of base holding consecutive ranges of `sizes` along dim."""
    assert isinstance(pieces, tuple)
    assert [p.shape[dim] for p in pieces] == sizes
    start = 0
    for p, n in zip(pieces, sizes):
        assert_same(p, np.take(array, np.arange(start, start + n), axis=dim))
        assert p._shares_storage(base)
        start += n


@pytest.mark.parametrize("n,size,expected", [(10, 3, [3, 3, 3, 1]), (9, 3, [3, 3, 3]), (2, 5, [2]),
                                             (0, 3, [0]), (0, 0, [0]), (1, 1, [1])])
def test_split_by_size(n, size, expected):
    a = sample((4, n), ember.int64)
    for t in (ember.from_numpy(a), noncontiguous(a)):
        check_pieces(t.split(size, 1), t, a, 1, expected)
        check_pieces(ember.split(t, size, dim=-1), t, a, 1, expected)


def test_split_by_sections():
    a = sample((10, 3), ember.float32)
    t = noncontiguous(a)
    check_pieces(t.split([2, 0, 5, 3]), t, a, 0, [2, 0, 5, 3])
    check_pieces(t.split((1, 2), dim=1), t, a, 1, [1, 2])
    check_pieces(t.split([10]), t, a, 0, [10])


@pytest.mark.parametrize("n,chunks,expected", [(10, 3, [4, 4, 2]), (5, 4, [2, 2, 1]), (6, 4, [2, 2, 2]),
                                               (3, 5, [1, 1, 1]), (6, 1, [6]), (0, 3, [0, 0, 0]),
                                               (129, 2, [65, 64])])
def test_chunk(n, chunks, expected):
    a = sample((n, 2), ember.float64)
    for t in (ember.from_numpy(a), noncontiguous(a)):
        check_pieces(t.chunk(chunks), t, a, 0, expected)
        check_pieces(ember.chunk(t.T, chunks, dim=1), t, a.T, 1, expected)


def test_split_chunk_errors():
    t = ember.zeros(5, 2)
    with pytest.raises(ValueError, match=r"split sizes \(1, 2\) sum to 3 but dimension 0 .* has size 5"):
        t.split([1, 2])
    with pytest.raises(ValueError, match="split: split sizes must be non-negative"):
        t.split([6, -1])
    with pytest.raises(ValueError, match="split_size can only be 0 if dimension 0 has size 0, but it has size 5"):
        t.split(0)
    with pytest.raises(ValueError, match="split_size must be non-negative, got -2"):
        t.split(-2)
    with pytest.raises(ValueError, match="split: expected a tensor with at least one dimension"):
        ember.tensor(1.0).split(1)
    with pytest.raises(TypeError, match="split: split_size_or_sections must be an int or a list of ints"):
        t.split(1.5)
    with pytest.raises(TypeError, match="split: split sizes must be integers"):
        t.split([2.5, 2.5])
    with pytest.raises(IndexError, match="split: dimension 2 is out of range"):
        t.split(1, 2)
    with pytest.raises(ValueError, match="chunk: the number of chunks must be positive, got 0"):
        t.chunk(0)
    with pytest.raises(ValueError, match="chunk: the number of chunks must be positive, got -1"):
        t.chunk(-1)
    with pytest.raises(ValueError, match="chunk: expected a tensor with at least one dimension"):
        ember.tensor(1.0).chunk(2)
