"""softmax, log_softmax and logsumexp against max-subtracted float64 NumPy references."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from conftest import FLOAT_DTYPES, NP, SHAPE_ZOO, assert_close, noncontiguous

RNG = np.random.default_rng(99)


def np_softmax(a, dim, log=False):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        a, dim = a.reshape(1), 0
        out = np_softmax(a, dim, log)
        return out.reshape(())
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        m = np.max(a, axis=dim, keepdims=True) if a.shape[dim] else np.zeros_like(a)
        shifted = a - m
        s = np.sum(np.exp(shifted), axis=dim, keepdims=True)
        return shifted - np.log(s) if log else np.exp(shifted) / s


def np_logsumexp(a, axes, keepdim):
    a = np.asarray(a, dtype=np.float64)
    ax = None if axes is None or a.ndim == 0 else tuple(axes)
    shape = np.sum(a, axis=ax, keepdims=keepdim).shape
    reduced = a.shape if ax is None else [a.shape[d] for d in ax]
    if np.prod(reduced) == 0:  # an empty sum of exponentials: log(0)
        return np.full(shape, -np.inf)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        m = np.max(a, axis=ax, keepdims=True)
        safe = np.where(np.isfinite(m), m, 0)
        out = np.log(np.sum(np.exp(a - safe), axis=ax, keepdims=True)) + safe
    return out.reshape(shape)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_over_shape_zoo(op, dtype):
    for shape, layout in itertools.product(SHAPE_ZOO, ("contiguous", "strided")):
        a = np.asarray(3 * RNG.standard_normal(shape), dtype=NP[dtype])
        t = ember.from_numpy(a) if layout == "contiguous" else noncontiguous(a)
        for dim in sorted({0, -1, max(a.ndim - 2, 0)}):
            out = getattr(t, op)(dim)
            assert_close(out, np_softmax(a, dim if a.ndim else 0, op == "log_softmax"), dtype=dtype)
    assert ember.softmax(ember.tensor(4.0), 0).item() == 1.0


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_of_large_inputs_and_wide_rows(dtype):
    # large values: no overflow thanks to the max subtraction; middle axis of a tall input uses tiles
    a = (100 * RNG.standard_normal((3, 2500, 7)) + 1000).astype(NP[dtype])
    t = ember.from_numpy(a)
    for dim in (0, 1, 2):
        assert_close(t.softmax(dim), np_softmax(a, dim))
        assert_close(t.log_softmax(dim), np_softmax(a, dim, log=True))


def test_softmax_special_values_follow_pytorch():
    inf, nan = np.inf, np.nan
    a = np.array([[-inf, -inf, -inf], [1.0, -inf, 2.0], [nan, 1.0, 2.0], [inf, 1.0, 2.0]], np.float32)
    t = ember.from_numpy(a)
    assert_close(t.softmax(1), np_softmax(a, 1))
    sm = t.softmax(1).numpy()
    assert np.isnan(sm[0]).all()  # all -inf: nan, as PyTorch
    assert sm[1, 1] == 0 and np.isclose(sm[1].sum(), 1)
    assert np.isnan(sm[2]).all() and np.isnan(sm[3]).all()
    assert np.isnan(t.log_softmax(1).numpy()[0]).all()
    # along dim 0 (the tiled path) the same rules hold
    assert_close(ember.from_numpy(np.ascontiguousarray(a.T)).softmax(0), np_softmax(a.T, 0))
    assert_close(ember.from_numpy(np.ascontiguousarray(a.T)).log_softmax(0), np_softmax(a.T, 0, log=True))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_logsumexp_over_shape_zoo(dtype):
    for shape in SHAPE_ZOO:
        a = np.asarray(5 * RNG.standard_normal(shape), dtype=NP[dtype])
        for layout in ("contiguous", "strided"):
            t = ember.from_numpy(a) if layout == "contiguous" else noncontiguous(a)
            axes_list = [None, (0,), (-1,)] + ([(0, a.ndim - 1)] if a.ndim >= 2 else [])
            for axes, keepdim in itertools.product(axes_list, (False, True)):
                out = ember._C.logsumexp(t, None if axes is None else list(axes), keepdim)
                assert_close(out, np_logsumexp(a, axes, keepdim), dtype=dtype)


def test_logsumexp_special_values():
    inf, nan = np.inf, np.nan
    a = np.array([[-inf, -inf], [inf, 1.0], [nan, 1.0], [1000.0, 1000.0], [-inf, 0.0]])
    out = ember.from_numpy(a).logsumexp(1).numpy()
    assert out[0] == -inf and out[1] == inf and np.isnan(out[2])
    assert np.isclose(out[3], 1000 + np.log(2)) and out[4] == 0.0
    assert ember.zeros(0).logsumexp(0).item() == -inf
    col = ember.from_numpy(np.ascontiguousarray(a.T)).logsumexp(0).numpy()
    assert np.array_equal(col, out, equal_nan=True)


def test_logsumexp_of_integers_is_float32():
    out = ember.tensor([[1, 2], [3, 4]]).logsumexp(1)
    assert_close(out, np_logsumexp(np.array([[1, 2], [3, 4]]), (1,), False), dtype=ember.float32)


def test_logsumexp_of_a_long_row_and_column():
    a = RNG.standard_normal((3, 100000)).astype(np.float32)
    assert_close(ember.from_numpy(a).logsumexp(1), np_logsumexp(a, (1,), False))
    assert_close(ember.from_numpy(np.ascontiguousarray(a.T)).logsumexp(0), np_logsumexp(a, (1,), False))
    assert_close(ember.from_numpy(a).logsumexp((0, 1)), np_logsumexp(a, None, False))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=4), st.data())
def test_softmax_random_shapes_and_permutations(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    perm = data.draw(st.permutations(range(len(shape))))
    a = RNG.standard_normal(shape)
    t = ember.from_numpy(a).permute(*perm)
    assert_close(t.softmax(dim), np_softmax(a.transpose(perm), dim))
    assert_close(t.log_softmax(dim), np_softmax(a.transpose(perm), dim, log=True))


def test_results_do_not_depend_on_thread_count():
    a = ember.from_numpy(RNG.standard_normal((64, 3000)).astype(np.float32))
    before = ember.get_num_threads()
    runs = []
    try:
        for n in (1, 2):
            ember.set_num_threads(n)
            runs.append([a.softmax(1).numpy().tobytes(), a.softmax(0).numpy().tobytes(),
                         a.log_softmax(1).numpy().tobytes(), a.logsumexp((0, 1)).numpy().tobytes()])
    finally:
        ember.set_num_threads(before)
    assert runs[0] == runs[1]


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="softmax.*int64.*x.float"):
        ember.tensor([1, 2]).softmax(0)
    with pytest.raises(TypeError, match="log_softmax.*bool"):
        ember.tensor([True]).log_softmax(0)
    with pytest.raises(IndexError, match="softmax.*out of range"):
        ember.zeros(2, 3).softmax(2)
    with pytest.raises(IndexError, match="logsumexp.*out of range"):
        ember.zeros(2, 3).logsumexp(-3)
    with pytest.raises(ValueError, match="logsumexp.*more than once"):
        ember.zeros(2, 3).logsumexp((1, 1))
