"""The zero-copy views (reshape, view, transpose, permute, squeeze, unsqueeze, expand, broadcast_to,
flatten, contiguous, T / mT / t()) against NumPy: shapes, strides, shared storage and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from conftest import NP, SHAPE_ZOO, noncontiguous

DTYPES = [ember.float32, ember.float64, ember.int64, ember.int32, ember.bool]


def sample(shape, dtype=ember.float32):
    a = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    return np.asarray(a % 3 == 1) if dtype == ember.bool else a.astype(NP[dtype])


def element_strides(a):
    return tuple(s // a.itemsize for s in a.strides)


def assert_view_of(got, base, want):
    """got holds want's values, shares base's storage, and steps through memory as NumPy's view."""
    want = np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != NumPy's {want.shape}"
    np.testing.assert_array_equal(got.numpy(), want)
    assert got._shares_storage(base)
    if want.size == 0:
        return  # strides of an empty tensor address nothing
    kept = [d for d in range(want.ndim) if want.shape[d] > 1]
    assert [got.stride()[d] for d in kept] == [element_strides(want)[d] for d in kept]


# ---- reshape / view --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_reshape_contiguous_is_a_view(dtype):
    a = sample((2, 3, 4), dtype)
    t = ember.from_numpy(a)
    for shape in [(24,), (4, 6), (2, -1), (-1, 4), (1, 2, 1, 12, 1), (2, 3, 4), (-1,), (3, 2, 2, 2)]:
        assert_view_of(t.reshape(*shape), t, a.reshape(shape))
        assert_view_of(t.view(shape), t, a.reshape(shape))
    s = ember.from_numpy(sample((), dtype))
    assert_view_of(s.reshape(1, 1), s, np.asarray(sample((), dtype)).reshape(1, 1))
    assert_view_of(s.view(-1), s, np.asarray(sample((), dtype)).reshape(-1))
    z = ember.from_numpy(sample((3, 0), dtype))
    assert_view_of(z.reshape(0, 7), z, sample((3, 0), dtype).reshape(0, 7))
    assert_view_of(z.reshape(5, -1, 2), z, sample((3, 0), dtype).reshape(5, -1, 2))


def test_reshape_noncontiguous_copies_only_when_needed():
    a = sample((6, 4))
    t = ember.from_numpy(a)
    rows = t[::2]  # (3, 4) with row stride 8: rows stay contiguous inside
    assert_view_of(rows.reshape(3, 2, 2), t, a[::2].reshape(3, 2, 2))
    tt = t.T  # (4, 6) transposed
    flat = tt.reshape(-1)
    np.testing.assert_array_equal(flat.numpy(), a.T.reshape(-1))
    assert not flat._shares_storage(t)
    assert flat.is_contiguous()
    assert_view_of(tt.reshape(2, 2, 6), t, a.T.reshape(2, 2, 6))  # splitting one dim is always a view
    with pytest.raises(RuntimeError, match=r"view: a tensor of shape \(4, 6\) .* use reshape\(\)"):
        tt.view(24)
    c = noncontiguous(a)
    np.testing.assert_array_equal(c.reshape(24).numpy(), a.reshape(24))
    with pytest.raises(RuntimeError, match="without a copy"):
        c.view(-1)


def test_view_as_and_reshape_as():
    a = sample((4, 6))
    t = ember.from_numpy(a)
    assert_view_of(t.view_as(ember.zeros(2, 12)), t, a.reshape(2, 12))
    assert_view_of(t.reshape_as(ember.zeros(8, 3)), t, a.reshape(8, 3))


def test_reshape_errors():
    t = ember.zeros(2, 3)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4, 2\)"):
        t.reshape(4, 2)
    with pytest.raises(ValueError, match=r"into \(4, -1\)"):
        t.reshape(4, -1)
    with pytest.raises(ValueError, match="only one dimension can be -1"):
        t.reshape(-1, -1)
    with pytest.raises(ValueError, match="invalid dimension -2"):
        t.reshape(-2, -3)
    with pytest.raises(ValueError, match="view: cannot reshape"):
        t.view(7)
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(0, 3\)"):
        ember.zeros(0, 3).reshape(-1, 0)  # -1 is ambiguous with a 0 in the shape
    with pytest.raises(TypeError, match="reshape: shape entries must be integers"):
        t.reshape(2.0, 3)


@st.composite
def strided_arrays_and_shapes(draw):
    """A NumPy view with permuted, sliced (and so non-contiguous) strides, and a same-size shape."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    a = a.transpose(draw(st.permutations(range(len(shape)))))
    a = a[tuple(slice(draw(st.integers(0, min(1, n - 1))), None, draw(st.integers(1, 2))) for n in a.shape)]
    dims = [d for d in a.shape]
    for _ in range(draw(st.integers(0, 3))):  # merge two neighbours, split a dim, or insert a 1
        op = draw(st.sampled_from(["merge", "split", "one"]))
        i = draw(st.integers(0, max(len(dims) - 1, 0)))
        if op == "merge" and len(dims) >= 2 and i + 1 < len(dims):
            dims[i:i + 2] = [dims[i] * dims[i + 1]]
        elif op == "split" and dims and dims[i] % 2 == 0:
            dims[i:i + 1] = [2, dims[i] // 2]
        else:
            dims.insert(i, 1)
    if draw(st.booleans()) and dims:
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return a, tuple(dims)


@settings(max_examples=200, deadline=None)
@given(strided_arrays_and_shapes())
def test_view_succeeds_exactly_when_numpy_needs_no_copy(array_shape):
    a, shape = array_shape
    t = ember.from_numpy(a)
    want = a.reshape(shape)
    try:
        np.reshape(a, shape, copy=False)
        numpy_views = True
    except ValueError:
        numpy_views = False
    got = t.reshape(*shape)
    np.testing.assert_array_equal(got.numpy(), want)
    assert got._shares_storage(t) == numpy_views
    if numpy_views:
        assert_view_of(t.view(*shape), t, want)
    else:
        with pytest.raises(RuntimeError):
            t.view(*shape)


# ---- transpose / permute / T / mT / t() ------------------------------------------------------------

@pytest.mark.parametrize("shape", [s for s in SHAPE_ZOO if len(s) >= 2] + [(2, 3, 4, 5)])
def test_transpose_permute_T_mT(shape):
    a = sample(shape)
    for t in (ember.from_numpy(a), noncontiguous(a)):
        base = np.asarray(t.numpy())  # the tensor's own strides, as NumPy sees them
        n = len(shape)
        for d0 in range(-n, n):
            for d1 in range(-n, n):
                assert_view_of(t.transpose(d0, d1), t, np.swapaxes(base, d0, d1))
        perm = list(range(n))[::-1]
        assert_view_of(t.permute(*perm), t, base.transpose(perm))
        assert_view_of(t.permute(perm[1:] + perm[:1]), t, base.transpose(perm[1:] + perm[:1]))
        assert_view_of(t.permute([d - n for d in perm]), t, base.transpose(perm))
        assert_view_of(t.T, t, base.T)
        assert_view_of(t.mT, t, np.swapaxes(base, -1, -2))
        assert_view_of(ember.transpose(t, 0, -1), t, np.swapaxes(base, 0, -1))


def test_t_and_small_ranks():
    a = sample((3, 5))
    t = ember.from_numpy(a)
    assert_view_of(t.t(), t, a.T)
    v = ember.from_numpy(sample((4,)))
    assert v.t().shape == (4,)
    assert v.T.shape == (4,)
    s = ember.tensor(2.0)
    assert s.T.shape == () and s.t().shape == ()
    assert s.transpose(0, -1).shape == ()
    with pytest.raises(ValueError, match=r"t: expected a tensor with at most 2 dimensions, got shape \(2, 3, 4\)"):
        ember.zeros(2, 3, 4).t()


def test_transpose_permute_errors():
    t = ember.zeros(2, 3, 4)
    with pytest.raises(IndexError, match="transpose: dimension 3 is out of range"):
        t.transpose(0, 3)
    with pytest.raises(IndexError, match="transpose: dimension -4 is out of range"):
        t.transpose(-4, 0)
    with pytest.raises(ValueError, match=r"permute: expected 3 dimensions .* got \(0, 1\)"):
        t.permute(0, 1)
    with pytest.raises(ValueError, match="permute: dimension 0 repeats"):
        t.permute(0, 1, -3)
    with pytest.raises(IndexError, match="permute: dimension 3 is out of range"):
        t.permute(0, 1, 3)
    with pytest.raises(IndexError, match="transpose: dimension -2 is out of range"):
        ember.zeros(3).mT


# ---- squeeze / unsqueeze ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (1,), (0,), (1, 1), (4, 1, 5), (1, 3, 1, 2, 1), (3, 0, 1)])
def test_squeeze(shape):
    a = sample(shape)
    for t in (ember.from_numpy(a), noncontiguous(a)):
        base = t.numpy()
        assert_view_of(t.squeeze(), t, np.squeeze(base))
        for d in range(-max(len(shape), 1), max(len(shape), 1)):
            # PyTorch leaves a dim that is not of size 1 in place
            want = np.squeeze(base, d) if len(shape) and shape[d] == 1 else base
            assert_view_of(t.squeeze(d), t, want)
            assert_view_of(ember.squeeze(t, d), t, want)
        ones = tuple(d for d in range(len(shape)) if shape[d] == 1)
        assert_view_of(t.squeeze(ones), t, np.squeeze(base, ones))
        assert_view_of(t.squeeze([d - len(shape) for d in ones]), t, np.squeeze(base, ones))


@pytest.mark.parametrize("shape", [(), (1,), (0,), (7,), (3, 0), (7, 33), (4, 1, 5)])
def test_unsqueeze(shape):
    a = sample(shape)
    for t in (ember.from_numpy(a), noncontiguous(a)):
        base = t.numpy()
        for d in range(-len(shape) - 1, len(shape) + 1):
            got = t.unsqueeze(d)
            assert_view_of(got, t, np.expand_dims(base, d))
            assert got.squeeze(d).shape == t.shape


def test_squeeze_unsqueeze_errors():
    t = ember.zeros(2, 1)
    with pytest.raises(IndexError, match="squeeze: dimension 2 is out of range"):
        t.squeeze(2)
    with pytest.raises(IndexError, match="squeeze: dimension -3 is out of range"):
        t.squeeze((-3,))
    with pytest.raises(IndexError, match="unsqueeze: dimension 3 is out of range"):
        t.unsqueeze(3)
    with pytest.raises(IndexError, match="unsqueeze: dimension -4 is out of range"):
        t.unsqueeze(-4)
    with pytest.raises(IndexError, match="squeeze: dimension 1 is out of range"):
        ember.tensor(1.0).squeeze(1)


# ---- expand / broadcast_to -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_expand_and_broadcast_to(dtype):
    cases = [((1,), (5,)), ((3, 1), (3, 4)), ((3, 1), (2, 3, 4)), ((), (2, 3)), ((1, 4), (0, 4)),
             ((2, 3), (2, 3)), ((1, 1), (7, 33)), ((4, 1, 5), (2, 4, 3, 5))]
    for shape, target in cases:
        a = sample(shape, dtype)
        for t in (ember.from_numpy(a), noncontiguous(a)):
            want = np.broadcast_to(a, target)
            got = t.expand(*target)
            assert got.shape == target
            np.testing.assert_array_equal(got.numpy(), want)
            assert got._shares_storage(t)
            assert all(got.stride()[d] == 0 for d in range(len(target))
                       if d < len(target) - len(shape) or shape[d - len(target) + len(shape)] == 1 and target[d] != 1)
            np.testing.assert_array_equal(t.broadcast_to(target).numpy(), want)
            np.testing.assert_array_equal(ember.broadcast_to(t, target).numpy(), want)
            keep = tuple(-1 if d >= len(target) - len(shape) else s for d, s in enumerate(target))
            assert t.expand(keep).shape == tuple(np.broadcast_shapes(shape, tuple(
                s if s != -1 else shape[d - len(target) + len(shape)] for d, s in enumerate(keep))))
    x = ember.zeros(3, 1)
    assert x.expand_as(ember.zeros(2, 3, 5)).shape == (2, 3, 5)


def test_expand_errors():
    t = ember.zeros(3, 1)
    with pytest.raises(ValueError, match=r"expand: the size 3 of dimension 0 of shape \(3, 1\) must be 1 to expand to 4"):
        t.expand(4, 2)
    with pytest.raises(ValueError, match="expand: the target shape .* has fewer dimensions"):
        t.expand(3)
    with pytest.raises(ValueError, match="expand: -1 is not allowed for the new leading dimension 0"):
        t.expand(-1, 3, 2)
    with pytest.raises(ValueError, match="expand: invalid size -2"):
        t.expand(3, -2)
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast shape \(3, 1\) to \(2, 2\)"):
        t.broadcast_to((2, 2))
    with pytest.raises(ValueError, match="broadcast_to: negative dimension"):
        t.broadcast_to((3, -1))


# ---- flatten / ravel / contiguous --------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 0), (7, 33), (4, 1, 5), (2, 3, 4, 5)])
def test_flatten(shape):
    a = sample(shape)
    t = ember.from_numpy(a)
    n = len(shape)
    for start in range(-max(n, 1), max(n, 1)):
        for end in range(-max(n, 1), max(n, 1)):
            s, e = start % max(n, 1), end % max(n, 1)
            if s > e:
                with pytest.raises(ValueError, match="flatten: start_dim .* comes after end_dim"):
                    t.flatten(start, end)
                continue
            want = a.reshape(shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:]) if n else a.reshape(1)
            assert_view_of(t.flatten(start, end), t, want)
    assert_view_of(ember.flatten(t), t, a.reshape(-1))
    assert_view_of(t.ravel(), t, a.reshape(-1))


def test_flatten_noncontiguous_and_errors():
    a = sample((4, 6, 5))
    c = noncontiguous(a)
    f = c.flatten()
    np.testing.assert_array_equal(f.numpy(), a.reshape(-1))
    assert not f._shares_storage(c)
    tt = ember.from_numpy(a).permute(2, 0, 1)  # dims 1 and 2 (sizes 4, 6) stay contiguous together
    assert_view_of(tt.flatten(1), tt, a.transpose(2, 0, 1).reshape(5, 24))
    with pytest.raises(IndexError, match="flatten: dimension 3 is out of range"):
        c.flatten(0, 3)
    with pytest.raises(IndexError, match="flatten: dimension 1 is out of range"):
        ember.tensor(1.0).flatten(1)
    with pytest.raises(IndexError, match="flatten: dimension -2 is out of range"):
        ember.tensor(1.0).flatten(0, -2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_contiguous(dtype):
    for shape in SHAPE_ZOO:
        a = sample(shape, dtype)
        t = ember.from_numpy(a)
        assert t.is_contiguous()
        assert t.contiguous() is t or t.contiguous()._shares_storage(t)
        c = noncontiguous(a)
        got = c.contiguous()
        assert got.is_contiguous()
        np.testing.assert_array_equal(got.numpy(), a)
        assert got._shares_storage(c) == (a.size <= 1)
    tt = ember.from_numpy(sample((3, 4), dtype)).T
    assert not tt.is_contiguous()
    assert tt.contiguous().stride() == (3, 1)
    np.testing.assert_array_equal(tt.contiguous().numpy(), sample((3, 4), dtype).T)


def test_views_write_through():
    a = np.zeros((2, 3, 4), np.float32)
    t = ember.from_numpy(a)
    t.permute(2, 0, 1)[1].fill_(1.0)
    t.reshape(6, 4).T[3].fill_(2.0)
    t.unsqueeze(0).expand(5, 2, 3, 4)  # a read-only broadcast: no copy made
    t.flatten()[:2].fill_(3.0)
    want = np.zeros((2, 3, 4), np.float32)
    want[:, :, 1] = 1.0
    want[:, :, 3] = 2.0
    want.reshape(-1)[:2] = 3.0
    np.testing.assert_array_equal(a, want)
