"""CUDA backend. Device queries and the 'unavailable' errors are tested everywhere; copies, fills,
add and memory statistics need a GPU (marked with conftest.cuda, skipped with the reason elsewhere).
Every device result is compared with NumPy or with the same computation on the CPU."""
import gc
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import NP, SHAPE_ZOO, cuda, noncontiguous

ALL_DTYPES = [ember.float32, ember.float64, ember.int64, ember.int32, ember.bool]
MiB = 1 << 20


def sample(shape, dtype, seed=0):
    """A NumPy array of random values of `dtype` (0-d for shape ())."""
    rng = np.random.default_rng(seed)
    if dtype == ember.bool:
        values = rng.integers(0, 2, size=shape)
    elif dtype in (ember.float32, ember.float64):
        values = rng.standard_normal(size=shape)
    else:
        values = rng.integers(-1000, 1000, size=shape)
    return np.asarray(values).astype(NP[dtype])


def whole_sample(shape, dtype, seed=0):
    """Small integers (zeros and negatives included) in `dtype`: every dtype conversion is exact."""
    rng = np.random.default_rng(seed)
    return np.asarray(rng.integers(-3, 4, size=shape)).astype(NP[dtype])


# ---- everywhere: queries and the errors of an unusable CUDA ----------------------------------------

def test_availability_and_reason_agree():
    assert isinstance(ember.cuda.is_built(), bool)
    assert ember.cuda.is_available() == (ember.cuda.unavailable_reason() == "")


def test_is_built_reports_the_build():
    reason = ember.cuda.unavailable_reason()
    if ember.cuda.is_built():
        assert "built without CUDA" not in reason
    else:
        assert not ember.cuda.is_available()
        assert "built without CUDA" in reason


@pytest.mark.skipif(os.path.exists("/dev/nvidiactl"), reason="this machine has NVIDIA device nodes")
def test_unavailable_without_a_gpu():
    assert not ember.cuda.is_available()


@pytest.mark.skipif(ember.cuda.is_available(), reason="CUDA is available here")
def test_unavailable_queries_are_harmless():
    reason = ember.cuda.unavailable_reason()
    assert re.search(r"built without CUDA|no CUDA driver found|no CUDA device found|could not be initialised",
                     reason), reason
    assert ember.cuda.device_count() == 0
    assert ember.cuda.memory_allocated() == 0
    assert ember.cuda.memory_reserved() == 0
    ember.cuda.synchronize()
    ember.cuda.empty_cache()


@pytest.mark.skipif(ember.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("make", [
    lambda: ember.zeros(3, device="cuda"),
    lambda: ember.zeros(0, device="cuda"),
    lambda: ember.empty(2, 3, device="cuda:0"),
    lambda: ember.ones(4, dtype=ember.int64, device=ember.device("cuda")),
    lambda: ember.full((2,), 1.5, device="cuda"),
    lambda: ember.tensor([1.0, 2.0], device="cuda"),
    lambda: ember.arange(5, device="cuda"),
    lambda: ember.zeros_like(ember.ones(2), device="cuda"),
    lambda: ember.ones(3).cuda(),
    lambda: ember.ones(3).to("cuda"),
    lambda: ember.ones(3).to("cuda:1", ember.float64),
], ids=["zeros", "zeros-empty", "empty", "ones-int64", "full", "tensor", "arange", "zeros_like", ".cuda",
        ".to", ".to-dtype"])
def test_creating_a_cuda_tensor_when_unavailable_raises_the_reason(make):
    with pytest.raises(RuntimeError, match=re.escape(ember.cuda.unavailable_reason())):
        make()


@pytest.mark.skipif(not ember.cuda.is_built() or ember.cuda.is_available(),
                    reason="needs a CUDA build on a machine where CUDA is unusable")
def test_unavailable_error_names_the_operation():
    with pytest.raises(RuntimeError, match=r"allocating a tensor on cuda: CUDA is unavailable: "):
        ember.zeros(3, device="cuda")
    with pytest.raises(RuntimeError, match=r"synchronize: CUDA is unavailable"):
        ember._C.cuda_synchronize(0)


# ---- on a GPU: transfers ------------------------------------------------------------------------------

@cuda
def test_device_count_and_placement():
    assert ember.cuda.device_count() >= 1
    t = ember.zeros(2, device="cuda")
    assert t.is_cuda and t.device == "cuda:0" and str(t.device) == "cuda:0"


@cuda
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPE_ZOO, ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "noncontiguous"])
def test_round_trip_host_device_host(dtype, shape, layout):
    a = sample(shape, dtype)
    t = ember.from_numpy(a) if layout == "contiguous" else noncontiguous(a)
    d = t.cuda()
    assert d.is_cuda and d.shape == a.shape and d.dtype == dtype
    back = d.cpu()
    assert not back.is_cuda and back.dtype == dtype
    np.testing.assert_array_equal(back.numpy(), a)


@cuda
@pytest.mark.parametrize("dtype", [ember.float32, ember.int64, ember.bool], ids=str)
def test_device_views_copy_like_numpy(dtype):
    a = sample((4, 7, 33), dtype, seed=1)
    d = ember.from_numpy(a).cuda()
    views = {
        "permute": (d.permute(2, 0, 1), a.transpose(2, 0, 1)),
        "transpose": (d.transpose(0, 2), a.swapaxes(0, 2)),
        "reversed": (ember._C.as_strided(d, [4, 7, 33], [-231, 33, -1], 3 * 231 + 32), a[::-1, :, ::-1]),
        "every-other": (ember._C.as_strided(d, [4, 4, 17], [231, 66, 2], 0), a[:, ::2, ::2]),
        "expanded": (ember._C.as_strided(d, [5, 4, 33], [0, 231, 1], 0), np.broadcast_to(a[:, 0, :], (5, 4, 33))),
    }
    for name, (view, expected) in views.items():
        assert view.is_cuda, name
        np.testing.assert_array_equal(view.cpu().numpy(), expected, err_msg=name)
        np.testing.assert_array_equal(view.contiguous().cpu().numpy(), expected, err_msg=name)
        np.testing.assert_array_equal(view.clone().cpu().numpy(), expected, err_msg=name)


@cuda
@pytest.mark.parametrize("src_dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("dst_dtype", ALL_DTYPES, ids=str)
def test_dtype_conversion_on_device_matches_numpy(src_dtype, dst_dtype):
    a = whole_sample((33, 7), src_dtype)
    expected = a.astype(NP[dst_dtype])
    for t in (ember.from_numpy(a), noncontiguous(a)):
        d = t.cuda()
        np.testing.assert_array_equal(d.to(dst_dtype).cpu().numpy(), expected)      # device -> device
        np.testing.assert_array_equal(t.to("cuda", dst_dtype).cpu().numpy(), expected)
        host = ember.empty(33, 7, dtype=dst_dtype)
        host.copy_(d)                                                                # converted on the way out
        np.testing.assert_array_equal(host.numpy(), expected)
        on_device = ember.empty(33, 7, dtype=dst_dtype, device="cuda")
        on_device.copy_(t)                                                           # converted on the way in
        np.testing.assert_array_equal(on_device.cpu().numpy(), expected)


@st.composite
def broadcast_pair(draw):
    """(dst_shape, src_shape) with src broadcastable to dst: dims kept, set to 1, or dropped in front."""
    dst = draw(st.lists(st.integers(0, 5), min_size=0, max_size=4))
    src = [d if draw(st.booleans()) else 1 for d in dst]
    drop = draw(st.integers(0, len(src)))
    return tuple(dst), tuple(src[drop:])


@cuda
@settings(max_examples=40, deadline=None)
@given(pair=broadcast_pair(), src_dtype=st.sampled_from(ALL_DTYPES), dst_dtype=st.sampled_from(ALL_DTYPES),
       src_on_device=st.booleans(), strided_dst=st.booleans())
def test_broadcasting_copy_into_device_tensor(pair, src_dtype, dst_dtype, src_on_device, strided_dst):
    dst_shape, src_shape = pair
    a = whole_sample(src_shape, src_dtype, seed=2)
    src = ember.from_numpy(a).cuda() if src_on_device else noncontiguous(a)
    expected = np.broadcast_to(a, dst_shape).astype(NP[dst_dtype])
    if strided_dst:  # every other element of a larger device buffer
        big = ember.zeros([2 * s + 1 for s in dst_shape], dtype=dst_dtype, device="cuda")
        strides = [2 * s for s in big.stride()]
        dst = ember._C.as_strided(big, list(dst_shape), strides, sum(big.stride()))
    else:
        dst = ember.empty(dst_shape, dtype=dst_dtype, device="cuda")
    dst.copy_(src)
    np.testing.assert_array_equal(dst.cpu().numpy(), expected)
    if strided_dst:  # nothing outside the view was written
        untouched = np.ones([2 * s + 1 for s in dst_shape], dtype=bool)
        untouched[tuple(slice(1, 1 + 2 * s, 2) for s in dst_shape)] = False
        assert not big.cpu().numpy()[untouched].any()


@cuda
def test_copy_from_device_into_strided_host_view():
    a = sample((7, 33), ember.float64, seed=3)
    host = ember.zeros(7, 66, dtype=ember.float64)
    ember._C.as_strided(host, [7, 33], [66, 2], 1).copy_(ember.from_numpy(a).cuda())
    expected = np.zeros((7, 66))
    expected[:, 1::2] = a
    np.testing.assert_array_equal(host.numpy(), expected)


@cuda
def test_to_cuda_and_cpu_spellings():
    a = sample((3, 4), ember.float32)
    t = ember.from_numpy(a)
    for d in (t.cuda(), t.cuda(0), t.to("cuda"), t.to("cuda:0"), t.to(ember.device("cuda", 0)),
              ember.tensor(a, device="cuda"), ember.as_tensor(a, device="cuda")):
        assert d.is_cuda and d.device == "cuda:0"
        np.testing.assert_array_equal(d.cpu().numpy(), a)
        np.testing.assert_array_equal(d.to("cpu").numpy(), a)
        np.testing.assert_array_equal(np.asarray(d), a)
    assert ember.full((), 3.5, device="cuda").item() == 3.5


@cuda
def test_nonexistent_device_index_raises():
    with pytest.raises(RuntimeError, match=r"cuda:99 does not exist"):
        ember.zeros(3, device="cuda:99")


# ---- on a GPU: fill and add ------------------------------------------------------------------------------

@cuda
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (1000,), (3, 0), (65, 129)], ids=str)
def test_fill_on_device(dtype, shape):
    np_dtype = NP[dtype]
    np.testing.assert_array_equal(ember.zeros(shape, dtype=dtype, device="cuda").cpu().numpy(),
                                  np.zeros(shape, np_dtype))
    np.testing.assert_array_equal(ember.ones(shape, dtype=dtype, device="cuda").cpu().numpy(),
                                  np.ones(shape, np_dtype))
    for value in (-3, 2.5, True):
        got = ember.full(shape, value, dtype=dtype, device="cuda")
        assert got.is_cuda and got.dtype == dtype
        np.testing.assert_array_equal(got.cpu().numpy(), np.full(shape, np.float64(value)).astype(np_dtype))


@cuda
def test_fill_special_float_values():
    for value in (-0.0, float("inf"), float("nan")):
        got = ember.full((129,), value, dtype=ember.float32, device="cuda").cpu().numpy()
        expected = np.full(129, value, np.float32)
        np.testing.assert_array_equal(got, expected)
        assert (np.signbit(got) == np.signbit(expected)).all()  # -0.0 is not all-zero bytes


@cuda
def test_fill_of_strided_device_view():
    big = ember.zeros(6, 10, device="cuda")
    ember._C.as_strided(big, [3, 5], [20, 2], 1).fill_(7)
    expected = np.zeros((6, 10), np.float32)
    expected[::2, 1::2] = 7
    np.testing.assert_array_equal(big.cpu().numpy(), expected)


@cuda
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (7,), (33, 129)], ids=str)
def test_add_on_device_agrees_with_cpu(dtype, shape):
    if not hasattr(ember._C, "add"):
        pytest.skip("the elementwise ops are not in this build")
    a, b = sample(shape, dtype, seed=4), sample(shape, dtype, seed=5)
    got = ember.from_numpy(a).cuda() + ember.from_numpy(b).cuda()
    assert got.is_cuda and got.dtype == dtype and got.shape == shape
    on_cpu = (ember.from_numpy(a) + ember.from_numpy(b)).numpy()
    np.testing.assert_array_equal(got.cpu().numpy(), on_cpu)
    np.testing.assert_array_equal(on_cpu, (a | b) if dtype == ember.bool else a + b)


# ---- on a GPU: memory ------------------------------------------------------------------------------------

@cuda
def test_memory_statistics_go_up_and_back_down():
    gc.collect()  # tensors of earlier tests die now, not in the middle of this one
    base = ember.cuda.memory_allocated()
    x = ember.empty(MiB, device="cuda")  # 4 MiB
    assert ember.cuda.memory_allocated() >= base + 4 * MiB
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    del x
    assert ember.cuda.memory_allocated() == base
    reserved = ember.cuda.memory_reserved()
    assert reserved >= base + 4 * MiB  # the block stays cached
    y = ember.empty(MiB, device="cuda")
    assert ember.cuda.memory_reserved() == reserved  # and is reused: no new device memory
    del y
    ember.cuda.empty_cache()
    assert ember.cuda.memory_reserved() == ember.cuda.memory_allocated() == base


@cuda
def test_more_than_2_to_the_31_elements():
    n = 2**31 + 8
    x = ember.zeros(n, dtype=ember.bool, device="cuda")
    ember._C.as_strided(x, [3], [1], n - 3).copy_(ember.tensor([True, True, False]))
    reversed_copy = ember._C.as_strided(x, [n], [-1], n - 1).contiguous()  # strided kernel past 2^31
    assert reversed_copy._storage_nbytes() == n
    assert ember._C.as_strided(reversed_copy, [4], [1], 0).cpu().tolist() == [False, True, True, False]
    assert not ember._C.as_strided(reversed_copy, [8], [1], n - 8).cpu().numpy().any()
    del x, reversed_copy
    ones = ember.ones(n, dtype=ember.bool, device="cuda")  # fill kernel past 2^31
    assert ember._C.as_strided(ones, [8], [1], n - 8).cpu().numpy().all()
    del ones
    ember.cuda.empty_cache()


@cuda
@pytest.mark.skipif(ember.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_copy_between_devices():
    a = sample((7, 33), ember.float32)
    d1 = ember.from_numpy(a).to("cuda:1")
    assert d1.device == "cuda:1"
    d0 = d1.T.to("cuda:0")
    assert d0.device == "cuda:0"
    np.testing.assert_array_equal(d0.cpu().numpy(), a.T)
