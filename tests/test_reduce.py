"""Reductions: sum, mean, prod, amax, amin, all, any, var, std, max/min along a dim, argmax/argmin.

Every op is compared with a float64 NumPy reference over the shape zoo, for every useful set of
axes, with and without keepdim, on contiguous and strided inputs; then dtypes, special values,
errors, accuracy on long inputs, and invariance to the thread count and to the SIMD path."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from conftest import (FLOAT_DTYPES, NP, SHAPE_ZOO, assert_close, capabilities, noncontiguous,
                      run_under_capability)

RNG = np.random.default_rng(1234)


def axis_sets(ndim):
    """None (all axes), each end axis, the middle one, first+last, and every axis listed."""
    if ndim == 0:
        return [None, (0,), (-1,)]
    sets = [None, (0,), (-1,), tuple(range(ndim))]
    if ndim >= 2:
        sets.append((0, ndim - 1))
    if ndim >= 3:
        sets += [(1,), (-3, -1)]
    return sets


def np_axis(a, axes):
    return None if axes is None or a.ndim == 0 else tuple(axes)


def count(shape, axes):
    if axes is None or len(shape) == 0:
        return int(np.prod(shape))
    return int(np.prod([shape[d] for d in axes]))


def reference(op, a, axes, keepdim, correction=1):
    """The float64 NumPy result of `op` (int64 for sum/prod of integers, bool for all/any)."""
    ax = np_axis(a, axes)
    wide = a.astype(np.float64) if a.dtype.kind == "f" else a.astype(np.int64)
    with np.errstate(all="ignore"):
        if op == "sum":
            return np.sum(wide, axis=ax, keepdims=keepdim)
        if op == "prod":
            return np.prod(wide, axis=ax, keepdims=keepdim)
        if op == "mean":
            return np.mean(wide, axis=ax, keepdims=keepdim) if a.size else \
                np.full(np.sum(wide, axis=ax, keepdims=keepdim).shape, np.nan)
        if op in ("amax", "amin"):
            return (np.max if op == "amax" else np.min)(a, axis=ax, keepdims=keepdim)
        if op in ("all", "any"):
            return (np.all if op == "all" else np.any)(a, axis=ax, keepdims=keepdim)
        if op in ("var", "std"):
            n = count(a.shape, axes)
            mean = np.sum(wide, axis=ax, keepdims=True) / max(n, 1)
            m2 = np.sum((wide - mean) ** 2, axis=ax, keepdims=keepdim)
            v = m2 / max(n - correction, 0)
            return np.sqrt(v) if op == "std" else v
    raise AssertionError(op)


def ember_call(op, t, axes, keepdim, correction=1):
    dims = None if axes is None else list(axes)
    if op in ("var", "std"):
        return getattr(ember._C, op)(t, dims, correction, keepdim)
    return getattr(ember._C, op)(t, dims, keepdim)


def data_for(op, shape, dtype):
    return np.asarray(_data_for(op, shape, dtype), dtype=NP[dtype])


def _data_for(op, shape, dtype):
    if dtype == ember.bool:
        return RNG.random(shape) < 0.7
    if dtype in (ember.int64, ember.int32):
        low, high = (-3, 4) if op != "prod" else (1, 3)
        return RNG.integers(low, high, size=shape).astype(NP[dtype])
    if op == "prod":  # near 1, so that products of 1000 terms stay in range
        return (1 + 0.01 * RNG.standard_normal(shape)).astype(NP[dtype])
    return RNG.standard_normal(shape).astype(NP[dtype])


def check_over_zoo(op, dtype, out_dtype):
    for shape, layout in itertools.product(SHAPE_ZOO, ("contiguous", "strided")):
        a = data_for(op, shape, dtype)
        t = ember.from_numpy(a) if layout == "contiguous" else noncontiguous(a)
        for axes, keepdim in itertools.product(axis_sets(a.ndim), (False, True)):
            if op in ("amax", "amin") and count(shape, axes) == 0:
                with pytest.raises(RuntimeError if axes is None else IndexError, match=f"{op}.*zero-size"):
                    ember_call(op, t, axes, keepdim)
                continue
            out = ember_call(op, t, axes, keepdim)
            expected = reference(op, a, axes, keepdim)
            assert_close(out, expected, dtype=out_dtype or dtype)


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "amax", "amin", "var", "std"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_reductions_over_shape_zoo(op, dtype):
    check_over_zoo(op, dtype, None)


@pytest.mark.parametrize("dtype", [ember.int64, ember.int32, ember.bool])
@pytest.mark.parametrize("op", ["sum", "prod", "amax", "amin", "all", "any"])
def test_integer_and_bool_reductions(op, dtype):
    out_dtype = {"sum": ember.int64, "prod": ember.int64, "all": ember.bool, "any": ember.bool}.get(op, dtype)
    check_over_zoo(op, dtype, out_dtype)


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_all_any_of_floats(op, dtype):
    a = np.array([[0.0, 1.0, np.nan], [0.0, 0.0, 0.0], [2.0, -1.0, np.inf]], dtype=NP[dtype])
    for axes in (None, (0,), (1,)):
        assert_close(ember_call(op, ember.from_numpy(a), axes, False), reference(op, a != 0, axes, False),
                     dtype=ember.bool)


def test_empty_reductions_follow_pytorch():
    t = ember.zeros(3, 0)
    assert_close(t.sum(1), np.zeros(3), dtype=ember.float32)
    assert_close(t.prod(1), np.ones(3), dtype=ember.float32)
    assert_close(t.mean(1), np.full(3, np.nan))
    assert_close(t.var(1), np.full(3, np.nan))
    assert_close(t.all(1), np.ones(3, bool))
    assert_close(t.any(1), np.zeros(3, bool))
    assert t.amax(0).shape == (0,)  # nothing to reduce into: fine
    assert ember.zeros(0, dtype=ember.int64).sum().item() == 0


def test_zero_dim_input():
    t = ember.tensor(2.5)
    for axes in (None, [0], [-1], []):
        assert ember._C.sum(t, axes, False).shape == ()
        assert ember._C.sum(t, axes, True).shape == ()
        assert ember._C.sum(t, axes, False).item() == 2.5
    assert t.amax().item() == 2.5
    assert t.max(0).indices.item() == 0
    assert t.argmax().item() == 0
    assert np.isnan(t.var().item())  # one element, correction 1: 0 / 0
    assert t.var(correction=0).item() == 0


def test_empty_dim_list_reduces_all_axes():
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    assert_close(ember._C.sum(ember.from_numpy(a), [], False), a.astype(np.float64).sum())


def test_result_dtypes():
    i = ember.tensor([[1, 2], [3, 4]], dtype=ember.int32)
    b = ember.tensor([True, False, True])
    assert i.sum().dtype == ember.int64 and i.sum().item() == 10
    assert i.prod().dtype == ember.int64 and i.prod().item() == 24
    assert b.sum().dtype == ember.int64 and b.sum().item() == 2
    assert i.amax().dtype == ember.int32 and b.amax().dtype == ember.bool
    assert i.all().dtype == ember.bool
    assert ember.tensor([1.0]).sum().dtype == ember.float32
    assert ember.tensor([1.0], dtype=ember.float64).mean().dtype == ember.float64


def test_integer_sum_wraps_like_int64():
    big = np.array([2**62, 2**62, 2**62], dtype=np.int64)
    assert ember.from_numpy(big).sum().item() == int(big.sum())  # NumPy wraps the same way


# ---- special values ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_and_inf_propagate(dtype):
    a = np.array([[1.0, np.nan, 3.0, np.nan], [np.inf, -np.inf, 0.0, 1.0], [-1.0, 5.0, 5.0, 2.0]], NP[dtype])
    t = ember.from_numpy(a)
    with np.errstate(invalid="ignore"):
        for op in ("sum", "mean", "amax", "amin", "var"):
            for axes in (None, (0,), (1,)):
                assert_close(ember_call(op, t, axes, False), reference(op, a, axes, False))
    values, indices = t.max(1)
    assert np.isnan(values.tolist()[0]) and indices.tolist() == [1, 0, 1]  # first NaN; first of ties
    values, indices = t.min(1)
    assert indices.tolist() == [1, 1, 0]
    assert t.argmax(1).tolist() == [1, 0, 1] and t.argmin(1).tolist() == [1, 1, 0]
    assert t.argmax(0).tolist() == [1, 0, 2, 0]
    assert t.argmax().item() == 1
    # NaN in a long row (SIMD body and tail) and in a column reduction
    long = np.ones(1000, NP[dtype])
    for pos in (0, 5, 517, 999):
        long2 = long.copy()
        long2[pos] = np.nan
        assert np.isnan(ember.from_numpy(long2).amax().item())
        assert np.isnan(ember.from_numpy(long2).amin().item())
        assert ember.from_numpy(long2).argmax().item() == pos
        assert np.isnan(ember.from_numpy(long2.reshape(1000, 1).repeat(3, 1)).amax(0).tolist()[0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape,dim", [((7, 33), 0), ((7, 33), 1), ((4, 1, 5), 2), ((2, 3, 129), 1),
                                       ((1000,), 0), ((65, 129), -1), ((33, 7), -2)])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_max_min_arg_along_dim(dtype, shape, dim, layout):
    a = RNG.integers(-5, 5, size=shape).astype(NP[dtype])  # many ties: first occurrence matters
    t = ember.from_numpy(a) if layout == "contiguous" else noncontiguous(a)
    for keepdim in (False, True):
        for name, np_arg in (("max", np.argmax), ("min", np.argmin)):
            values, indices = getattr(t, name)(dim, keepdim)
            expected_idx = np_arg(a, axis=dim)
            expected_val = np.take_along_axis(a, np.expand_dims(expected_idx, dim), dim)
            if not keepdim:
                expected_val = np.squeeze(expected_val, dim)
            else:
                expected_idx = np.expand_dims(expected_idx, dim)
            assert_close(indices, expected_idx, dtype=ember.int64)
            assert_close(values, expected_val, dtype=dtype)
            assert_close(getattr(t, "arg" + name)(dim, keepdim), expected_idx, dtype=ember.int64)
        flat = t.argmax(None, keepdim)
        assert flat.shape == ((1,) * a.ndim if keepdim else ())
        assert flat.reshape(-1).tolist()[0] == np.argmax(a)


def test_arg_reductions_of_integers():
    a = np.array([[3, 9, 9], [-2, -7, -7]], dtype=np.int32)
    t = ember.from_numpy(a)
    assert t.argmax(1).tolist() == [1, 0] and t.argmin(1).tolist() == [0, 1]
    assert t.max(0).values.dtype == ember.int32
    b = ember.tensor([[False, True], [False, False]])
    assert b.max(1).indices.tolist() == [1, 0]


# ---- var / std numerics ---------------------------------------------------------------------------------
@pytest.mark.parametrize("axes", [None, (0,), (1,)])
def test_var_is_stable_for_large_means(axes):
    a = (1e4 + 1e-2 * RNG.standard_normal((2000, 300))).astype(np.float32)
    for t in (ember.from_numpy(a), noncontiguous(a)):
        assert_close(ember_call("var", t, axes, False), reference("var", a, axes, False), rtol=1e-4)
        assert_close(ember_call("std", t, axes, False), reference("std", a, axes, False), rtol=1e-4)


@pytest.mark.parametrize("correction", [0, 1, 2, 5, 0.5])
def test_var_correction(correction):
    a = RNG.standard_normal((4, 5)).astype(np.float64)
    for axes in (None, (0,), (1,)):
        with np.errstate(all="ignore"):
            expected = reference("var", a, axes, False, correction)
        assert_close(ember_call("var", ember.from_numpy(a), axes, False, correction), expected)
    assert ember.tensor([1.0, 2.0]).var(correction=2).item() == np.inf  # N - correction = 0


def test_unbiased_keyword():
    a = RNG.standard_normal(50)
    t = ember.from_numpy(a)
    assert np.isclose(t.var(unbiased=False).item(), a.var())
    assert np.isclose(t.std(unbiased=True).item(), a.std(ddof=1))


# ---- long inputs: accuracy, layouts, threads, SIMD paths ------------------------------------------------
def test_sum_of_16m_float32_is_accurate():
    a = RNG.random(1 << 24, dtype=np.float32)
    exact = a.astype(np.float64).sum()
    got = ember.from_numpy(a).sum().item()
    assert abs(got - exact) <= 2 * np.spacing(np.float32(exact))  # about one rounding of the result
    assert abs(ember.from_numpy(a).mean().item() - exact / a.size) < 1e-6
    assert_close(ember.from_numpy(a.reshape(4096, 4096)).sum(0), a.reshape(4096, 4096).astype(np.float64).sum(0))


def layouts_case():
    """(array, the same as a tensor, axes) exercising rows, columns, multi-run rows, a permuted view
    and the reordering copy, with enough elements to split the work into tasks."""
    a = RNG.standard_normal((3, 70000)).astype(np.float32)
    b = RNG.standard_normal((40000, 3)).astype(np.float32)
    c = RNG.standard_normal((30, 40, 50))
    cases = [(a, (1,)), (a, None), (b, (0,)), (b, (1,)), (c, (0, 2)), (c, (1,)), (c, (0, 1))]
    out = [(x, ember.from_numpy(x), axes) for x, axes in cases]
    out.append((c.transpose(2, 0, 1), ember.from_numpy(c).permute(2, 0, 1), (1, 2)))
    return out


@pytest.mark.parametrize("op", ["sum", "mean", "var", "amax", "logsumexp"])
def test_layouts_of_long_inputs(op):
    for a, t, axes in layouts_case():
        if op == "logsumexp":
            m = np.max(a.astype(np.float64), axis=axes, keepdims=True)
            expected = np.log(np.sum(np.exp(a - m), axis=axes)) + np.squeeze(m, axes)
            assert_close(ember._C.logsumexp(t, None if axes is None else list(axes), False), expected)
        else:
            assert_close(ember_call(op, t, axes, False), reference(op, a, axes, False))


def test_results_do_not_depend_on_thread_count():
    big = RNG.standard_normal(1 << 20).astype(np.float32)
    cases = layouts_case() + [(big, ember.from_numpy(big), None)]
    before = ember.get_num_threads()
    runs = []
    try:
        for n in (1, 2, 3):
            ember.set_num_threads(n)
            out = []
            for _, t, axes in cases:
                dims = None if axes is None else list(axes)
                out += [ember._C.sum(t, dims, False).numpy().tobytes(), ember._C.var(t, dims, 1, False).numpy().tobytes(),
                        ember._C.logsumexp(t, dims, False).numpy().tobytes()]
                out.append(ember._C.argmax(t, None, False).numpy().tobytes())
            runs.append(out)
    finally:
        ember.set_num_threads(before)
    assert runs[0] == runs[1] == runs[2]


_CAPABILITY_SCRIPT = """
import hashlib, numpy as np, ember
rng = np.random.default_rng(7)
h = hashlib.sha256()
for n in (1, 31, 64, 1000, 1025, 100003):
    for dt in (np.float32, np.float64):
        a = ember.from_numpy(rng.standard_normal(n).astype(dt))
        for r in (a.sum(), a.var(), a.amax(), a.amin(), a.mean()):
            h.update(r.numpy().tobytes())
m = ember.from_numpy(rng.standard_normal((300, 77)).astype(np.float32))
for r in (m.sum(0), m.var(0), m.amax(0), m.argmax(1), m.softmax(1), m.softmax(0), m.log_softmax(1), m.logsumexp(1)):
    h.update(r.numpy().tobytes())
# rows shorter than a vector (10 classes): masked tails
s = ember.from_numpy(rng.standard_normal((50, 10)).astype(np.float32))
target = ember.from_numpy(rng.integers(0, 10, 50))
for r in (s.softmax(1), s.log_softmax(1), s.logsumexp(1), ember.nn.functional.cross_entropy(s, target)):
    h.update(r.numpy().tobytes())
print(h.hexdigest())
"""


def test_simd_paths_agree_bit_for_bit():
    digests = {cap: run_under_capability(cap, _CAPABILITY_SCRIPT) for cap in capabilities()}
    assert len(set(digests.values())) == 1, digests


def test_broadcast_views_with_zero_strides():
    row = RNG.standard_normal((1, 5))
    col = RNG.standard_normal((7, 1))
    for a, shape in ((row, (1000, 5)), (col, (7, 1000))):
        t = ember.from_numpy(a).expand(*shape)
        full = np.broadcast_to(a, shape)
        for op in ("sum", "amax", "var"):
            for axes in (None, (0,), (1,)):
                assert_close(ember_call(op, t, axes, False), reference(op, full, axes, False))
        assert t.argmax(1).tolist() == np.argmax(full, axis=1).tolist()


def test_bench_sum_reports_rates_beside_numpy():
    from ember.bench.reduce import bench_sum
    rows = bench_sum(sizes=(1 << 12,), quick=True)
    assert len(rows) == 1 and rows[0]["unit"] == "GB/s" and rows[0]["ember"] > 0 and rows[0]["vs_numpy"] > 0


# ---- random shapes and axes -----------------------------------------------------------------------
@st.composite
def shape_and_axes(draw):
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=0, max_size=4)))
    axes = draw(st.none() | st.lists(st.integers(0, max(len(shape) - 1, 0)), unique=True, max_size=len(shape)))
    if axes is not None and len(shape) == 0:
        axes = None
    perm = draw(st.permutations(range(len(shape))))
    return shape, (None if not axes else tuple(axes)), perm, draw(st.booleans())


@settings(max_examples=60, deadline=None)
@given(shape_and_axes(), st.sampled_from(["sum", "mean", "amax", "var", "any", "prod"]))
def test_random_shapes_axes_and_permutations(case, op):
    shape, axes, perm, keepdim = case
    a = np.asarray(RNG.standard_normal(shape))
    if op == "any":
        a = np.asarray(a > 0.5)
    t = ember.from_numpy(np.ascontiguousarray(a)).permute(*perm) if len(shape) else ember.from_numpy(a)
    a = a.transpose(perm) if len(shape) else a
    if op == "amax" and count(a.shape, axes) == 0:
        with pytest.raises((IndexError, RuntimeError), match="amax.*zero-size"):
            ember_call(op, t, axes, keepdim)
        return
    assert_close(ember_call(op, t, axes, keepdim), reference(op, a, axes, keepdim))


# ---- errors -----------------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors():
    t = ember.zeros(2, 3)
    with pytest.raises(ValueError, match="sum.*dim 1 appears more than once"):
        ember._C.sum(t, [1, -1], False)
    with pytest.raises(IndexError, match="sum.*out of range"):
        t.sum(2)
    with pytest.raises(IndexError, match="amax.*out of range"):
        t.amax(-3)
    with pytest.raises(TypeError, match=r"mean\(\): could not infer output dtype.*Got: Long"):
        ember.tensor([1, 2]).mean()
    with pytest.raises(TypeError, match=r"mean\(\).*Got: Bool"):
        ember.tensor([True]).mean()
    with pytest.raises(TypeError, match="var.*floating"):
        ember.tensor([1, 2]).var()
    with pytest.raises(TypeError, match="std.*int32"):
        ember.tensor([1, 2], dtype=ember.int32).std()
    with pytest.raises(RuntimeError, match="amin.*zero-size.*specify the reduction dims"):
        ember.zeros(0).amin()
    with pytest.raises(IndexError, match=r"amax.*zero-size dimension \(dim 0 of shape \(0, 3\)\)"):
        ember.zeros(0, 3).amax(0)
    with pytest.raises(IndexError, match="max.*non-zero size"):
        ember.zeros(0, 3).max(0)
    with pytest.raises(IndexError, match="argmax.*no elements"):
        ember.zeros(0).argmax()
    with pytest.raises(TypeError, match="argmax.*Bool"):
        ember.tensor([True, False]).argmax()
    with pytest.raises(IndexError, match="argmin.*out of range"):
        t.argmin(5)


@pytest.mark.cuda
def test_cuda_inputs_reduce_on_their_device():
    if not ember.cuda.is_available():
        pytest.skip(f"CUDA unavailable: {ember.cuda.unavailable_reason()}")
    a = RNG.standard_normal((5, 7)).astype(np.float32)
    t = ember.from_numpy(a).cuda()
    out = t.sum(0)
    assert out.is_cuda
    assert_close(out, a.astype(np.float64).sum(0))
    values, indices = t.max(1)
    assert values.is_cuda and indices.is_cuda
    assert indices.cpu().tolist() == a.argmax(1).tolist()
