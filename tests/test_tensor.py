"""The tensor itself: creation, dtypes, metadata, conversion, copies and their errors."""
import math

import numpy as np
import pytest

import ember
from conftest import NP, SHAPE_ZOO, assert_close, noncontiguous

ALL_DTYPES = [ember.float32, ember.float64, ember.int64, ember.int32, ember.bool]


@pytest.mark.parametrize("shape", SHAPE_ZOO)
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_zeros_ones_full_empty(shape, dtype):
    assert_close(ember.zeros(shape, dtype=dtype), np.zeros(shape, NP[dtype]), dtype)
    assert_close(ember.ones(*shape, dtype=dtype), np.ones(shape, NP[dtype]), dtype)
    assert_close(ember.full(shape, 3, dtype=dtype), np.full(shape, 3, NP[dtype]), dtype)
    e = ember.empty(shape, dtype=dtype)
    assert e.shape == shape and e.dtype == dtype and e.is_contiguous()


def test_default_dtypes_follow_pytorch():
    assert ember.zeros(2).dtype == ember.float32
    assert ember.tensor([1.5, 2]).dtype == ember.float32
    assert ember.tensor([1, 2]).dtype == ember.int64
    assert ember.tensor([True, False]).dtype == ember.bool
    assert ember.tensor(np.zeros(2, np.float64)).dtype == ember.float64
    assert ember.tensor(np.zeros(2, np.int32)).dtype == ember.int32
    assert ember.full((2,), 7).dtype == ember.int64
    assert ember.full((2,), 7.0).dtype == ember.float32
    assert ember.full((2,), True).dtype == ember.bool
    assert ember.arange(5).dtype == ember.int64
    assert ember.arange(0, 1, 0.25).dtype == ember.float32


def test_tensor_from_nested_lists_and_scalars():
    t = ember.tensor([[1, 2, 3], [4, 5, 6]], dtype=ember.float64)
    assert_close(t, np.array([[1, 2, 3], [4, 5, 6]], np.float64), ember.float64)
    s = ember.tensor(2.5)
    assert s.shape == () and s.item() == 2.5 and isinstance(s.item(), float)
    assert ember.tensor(3).item() == 3 and isinstance(ember.tensor(3).item(), int)
    assert ember.tensor(True).item() is True
    assert ember.tensor([]).shape == (0,)


def test_tensor_copies_its_input():
    a = np.arange(4.0)
    t = ember.tensor(a)
    a[0] = 100
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_int64_item_keeps_precision():
    big = 2**62 + 1
    assert ember.tensor([big]).item() == big


@pytest.mark.parametrize("bad", [["a", "b"], [[1, 2], [3]], {"x": 1}])
def test_tensor_rejects_non_numeric_data(bad):
    with pytest.raises((TypeError, ValueError)):
        ember.tensor(bad)


def test_factories_with_bad_arguments():
    with pytest.raises(ValueError, match="negative dimension -1"):
        ember.zeros(2, -1)
    with pytest.raises(TypeError, match="shape entries must be integers"):
        ember.zeros(2.5)
    with pytest.raises(TypeError, match="unsupported dtype"):
        ember.zeros(2, dtype="complex64")
    with pytest.raises(ValueError, match="step must be nonzero"):
        ember.arange(0, 5, 0)
    with pytest.raises(ValueError, match="inconsistent with the sign of step"):
        ember.arange(5, 0, 1)
    with pytest.raises(ValueError, match="non-negative"):
        ember.linspace(0, 1, -2)
    with pytest.raises(ValueError, match="device"):
        ember.zeros(2, device="tpu")


@pytest.mark.parametrize("args", [(5,), (2, 9), (1, 10, 3), (10, 1, -3), (0.5, 2.0, 0.25), (-3, 3, 0.7)])
def test_arange_matches_numpy(args):
    expected = np.arange(*args)
    dtype = ember.int64 if expected.dtype.kind == "i" else ember.float32
    assert_close(ember.arange(*args), expected.astype(NP[dtype]), dtype)


@pytest.mark.parametrize("steps", [0, 1, 2, 7, 100])
def test_linspace_matches_numpy_and_hits_both_ends(steps):
    t = ember.linspace(-1.5, 2.5, steps, dtype=ember.float64)
    assert_close(t, np.linspace(-1.5, 2.5, steps))
    if steps > 1:
        assert t[0].item() == -1.5 and t[-1].item() == 2.5


@pytest.mark.parametrize("n,m", [(0, None), (1, None), (3, None), (3, 5), (5, 2)])
def test_eye(n, m):
    assert_close(ember.eye(n, m), np.eye(n, m, dtype=np.float32))


@pytest.mark.parametrize("fn", [ember.zeros_like, ember.ones_like, ember.empty_like])
def test_like_factories_keep_shape_and_dtype(fn):
    a = ember.zeros(3, 4, dtype=ember.int32)
    b = fn(a)
    assert b.shape == (3, 4) and b.dtype == ember.int32
    assert fn(a, dtype=ember.float64).dtype == ember.float64
    assert ember.full_like(a, 7).tolist() == [[7] * 4] * 3


def test_metadata():
    t = ember.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.dim() == 3 and t.numel() == 24
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.stride() == (12, 4, 1) and t.stride(0) == 12
    assert len(t) == 2 and t.element_size() == 4
    assert t.device == ember.device("cpu") and t.device == "cpu" and str(t.device) == "cpu"
    assert t.dtype == ember.float32 and repr(t.dtype) == "ember.float32"
    assert t.is_contiguous() and not t.is_cuda
    with pytest.raises(TypeError, match="0-d"):
        len(ember.tensor(1.0))


def test_repr_is_readable():
    assert repr(ember.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ember.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ember.tensor([0.5, 0.25], dtype=ember.float64)) == "tensor([0.5000, 0.2500], dtype=ember.float64)"
    assert repr(ember.zeros(2, 0)) == "tensor([], size=(2, 0))"
    assert "dtype=ember.int32" in repr(ember.zeros(2, dtype=ember.int32))


@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("dst", ALL_DTYPES)
def test_to_dtype_converts_like_numpy(src, dst):
    a = np.array([[0, 1.7, -2.2], [3.0, 0.0, 126.9]])
    t = ember.tensor(a.astype(NP[src]))
    out = t.to(dst)
    assert out.dtype == dst
    assert_close(out, a.astype(NP[src]).astype(NP[dst]))
    if src == dst:
        assert out is t


def test_dtype_shorthands_and_to_overloads():
    t = ember.arange(6).reshape(2, 3)
    assert t.float().dtype == ember.float32 and t.double().dtype == ember.float64
    assert t.long().dtype == ember.int64 and t.int().dtype == ember.int32 and t.bool().dtype == ember.bool
    assert t.to(ember.float64).dtype == ember.float64
    assert t.to("cpu", ember.float32).dtype == ember.float32
    assert t.to(ember.zeros(1, dtype=ember.float64)).dtype == ember.float64
    assert t.to(float).dtype == ember.float32 and t.to(np.float64).dtype == ember.float64
    c = t.to(copy=True)
    assert not c._shares_storage(t)
    assert t.cpu() is t


def test_item_and_tolist():
    assert ember.tensor([[1.5]]).item() == 1.5
    with pytest.raises(ValueError, match="one element"):
        ember.zeros(2).item()
    assert ember.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert ember.tensor(2.0).tolist() == 2.0
    assert float(ember.tensor(2.5)) == 2.5 and int(ember.tensor(7)) == 7
    assert bool(ember.tensor([1])) is True
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.zeros(2))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_clone_and_contiguous_of_strided_views(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    v = noncontiguous(a)
    c = v.contiguous()
    assert c.is_contiguous() and not c._shares_storage(v)
    assert_close(c, a)
    assert_close(v.clone(), a)
    assert c.contiguous() is c


def test_copy_broadcasts_and_converts():
    dst = ember.zeros(2, 3, dtype=ember.float64)
    dst.copy_(ember.tensor([1, 2, 3]))
    assert dst.tolist() == [[1.0, 2.0, 3.0]] * 2
    dst.copy_(np.array([[7.0], [8.0]]))
    assert dst.tolist() == [[7.0] * 3, [8.0] * 3]
    with pytest.raises(ValueError, match="broadcast"):
        dst.copy_(ember.zeros(4))
    dst.fill_(2.5)
    assert dst.tolist() == [[2.5] * 3] * 2
    dst.zero_()
    assert dst.tolist() == [[0.0] * 3] * 2


def test_nan_and_inf_survive_conversion():
    t = ember.tensor([math.nan, math.inf, -math.inf])
    d = t.double()
    assert math.isnan(d[0].item()) and d[1].item() == math.inf and d[2].item() == -math.inf


def test_large_copy_uses_threads_consistently():
    a = np.random.default_rng(1).standard_normal((1000, 513)).astype(np.float32)
    v = ember.from_numpy(a).T  # strided view, many rows
    ember.set_num_threads(1)
    one = v.contiguous().numpy().copy()
    ember.set_num_threads(2)
    two = v.contiguous().numpy()
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(two, a.T)


def test_set_num_threads_validates():
    n = ember.get_num_threads()
    with pytest.raises(ValueError, match="positive"):
        ember.set_num_threads(0)
    assert ember.get_num_threads() == n


def test_set_flush_denormal_flushes_on_every_thread():
    # 1e-39 is a float32 denormal: with the mode on it reads as zero and results are flushed, on
    # the calling thread and on the worker threads alike (checked on the bits: the mode also
    # changes how NumPy compares floats on this thread).
    tiny = np.float32(1e-39)
    doubled = (np.full(1, tiny) * np.float32(2)).view(np.uint32)[0]
    assert doubled != 0
    x = ember.full([1 << 20], float(tiny))  # enough elements for every thread to take a part
    threads = ember.get_num_threads()
    try:
        ember.set_num_threads(2)
        assert ember.set_flush_denormal(True) is True
        assert not (x * 2.0).numpy().view(np.uint32).any()
        ember.set_num_threads(4)  # a larger team: threads that join get the mode too
        assert not (x * 2.0).numpy().view(np.uint32).any()
    finally:
        assert ember.set_flush_denormal(False) is True
        ember.set_num_threads(threads)
    assert ((x * 2.0).numpy().view(np.uint32) == doubled).all()


def test_full_and_fill_keep_large_ints_exact():
    big = 2**62 + 3
    assert ember.full((2,), big).tolist() == [big, big]
    t = ember.zeros(2, dtype=ember.int64)
    t.fill_(big)
    assert t.tolist() == [big, big]
    t.fill_(ember.tensor(5))
    assert t.tolist() == [5, 5]
    assert ember.full((1,), np.float32(1.5)).dtype == ember.float32


def test_default_dtype_governs_python_floats_and_integer_math():
    ints = ember.tensor([1, 2])
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.get_default_dtype() == ember.float64
        assert ember.tensor([1.5]).dtype == ember.float64
        assert ember.zeros(2).dtype == ember.float64
        assert (ints / 2).dtype == ember.float64
        assert (ints + 0.5).dtype == ember.float64
        assert ints.exp().dtype == ember.float64
        assert (ember.zeros(2, dtype=ember.float32) + 0.5).dtype == ember.float32
    finally:
        ember.set_default_dtype(ember.float32)
    assert (ints / 2).dtype == ember.float32 and ember.tensor([1.5]).dtype == ember.float32
    with pytest.raises(TypeError, match="only float32 or float64"):
        ember.set_default_dtype(ember.int64)


def test_openmp_spin_count_is_set_only_while_the_runtime_loads():
    # ember bounds its OpenMP runtime's spinning (see ember/__init__.py) without leaving the setting
    # to other libraries or child processes, and keeps a value the user set
    import os
    import subprocess
    import sys
    code = "import os, ember; print(os.environ.get('GOMP_SPINCOUNT'))"
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip() == "None"
    env["GOMP_SPINCOUNT"] = "123"
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip() == "123"
