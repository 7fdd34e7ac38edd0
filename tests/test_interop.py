"""Zero-copy exchange with NumPy (buffer protocol, __array__, from_numpy) and DLPack (NumPy,
and PyTorch when installed)."""
import gc

import numpy as np
import pytest

import ember
from conftest import NP, assert_close

ALL_DTYPES = [ember.float32, ember.float64, ember.int64, ember.int32, ember.bool]

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_numpy_is_zero_copy_both_ways(dtype):
    a = (np.arange(12) % 3).reshape(3, 4).astype(NP[dtype])
    t = ember.from_numpy(a)
    assert t.dtype == dtype and t.shape == (3, 4)
    n = t.numpy()
    assert n.dtype == a.dtype and np.shares_memory(n, a)
    n[1, 2] = 1
    a[0, 0] = 1
    assert t.tolist()[1][2] == 1 and t.tolist()[0][0] == 1


def test_from_numpy_keeps_the_array_alive():
    t = ember.from_numpy(np.arange(1000.0))
    gc.collect()
    assert t.numpy()[999] == 999.0


def test_numpy_view_keeps_the_tensor_alive():
    n = ember.arange(1000).numpy()
    gc.collect()
    assert n[999] == 999


@pytest.mark.parametrize("index", [np.s_[::-1], np.s_[1::3], np.s_[:, ::-2], np.s_[::2, 1:]])
def test_from_numpy_strided_and_negative_strides(index):
    base = np.arange(35.0).reshape(5, 7)
    a = base[index]
    t = ember.from_numpy(a)
    assert_close(t, a)
    assert_close(t.contiguous(), a)
    assert np.shares_memory(t.numpy(), base)


def test_from_numpy_rejects_unsupported_dtypes():
    with pytest.raises(TypeError, match="float16 is not supported.*astype"):
        ember.from_numpy(np.zeros(3, np.float16))
    with pytest.raises(TypeError, match="expected a numpy.ndarray"):
        ember.from_numpy([1, 2])
    with pytest.raises(TypeError, match="not supported"):
        ember.tensor(np.zeros(2, np.complex64))


def test_buffer_protocol_and_array_protocol():
    t = ember.arange(6, dtype=ember.float32).reshape(2, 3)
    m = memoryview(t)
    assert m.format == "f" and m.shape == (2, 3) and m.strides == (12, 4)
    a = np.asarray(t)
    assert np.shares_memory(a, t.numpy())
    assert np.array(t).dtype == np.float32
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    c = t.__array__(copy=True)
    c[0, 0] = 100
    assert t.tolist()[0][0] == 0
    with pytest.raises(ValueError, match="needs a copy"):
        t.__array__(dtype=np.float64, copy=False)
    assert np.add(t, 1).tolist() == [[1, 2, 3], [4, 5, 6]]


def test_transposed_view_exports_its_strides():
    t = ember.arange(6, dtype=ember.float64).reshape(2, 3).T
    a = t.numpy()
    assert a.strides == (8, 24)
    np.testing.assert_array_equal(a, np.arange(6.0).reshape(2, 3).T)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_dlpack_round_trip_with_numpy(dtype):
    base = (np.arange(24) % 5).reshape(4, 6).astype(NP[dtype])
    t = ember.from_numpy(base)
    view = ember.from_numpy(base[::2, 1::2])
    a = np.from_dlpack(view)
    np.testing.assert_array_equal(a, base[::2, 1::2])
    assert np.shares_memory(a, base)
    back = ember.from_dlpack(np.asarray(a))
    assert back.shape == (2, 3) and back.stride() == view.stride()
    assert_close(back, base[::2, 1::2])
    assert t.__dlpack_device__() == (1, 0)


def test_dlpack_capsule_keeps_storage_alive():
    t = ember.arange(10000, dtype=ember.float32)
    capsule = t.__dlpack__()
    del t
    gc.collect()
    u = ember.from_dlpack(capsule)
    assert u[9999].item() == 9999.0 if hasattr(ember._C, "getitem") else u.tolist()[-1] == 9999.0


def test_unconsumed_capsule_is_freed():
    for _ in range(100):
        ember.zeros(1000).__dlpack__(max_version=(1, 0))
    gc.collect()


def test_dlpack_capsule_cannot_be_consumed_twice():
    capsule = ember.zeros(3).__dlpack__()
    ember.from_dlpack(capsule)
    with pytest.raises(ValueError, match="unconsumed DLPack capsule"):
        ember.from_dlpack(capsule)


def test_dlpack_copy_flag_and_device_check():
    t = ember.zeros(3)
    c = ember.from_dlpack(t.__dlpack__(copy=True))
    assert not c._shares_storage(t)
    with pytest.raises(BufferError, match="cross-device"):
        t.__dlpack__(dl_device=(2, 0))


@needs_torch
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_dlpack_round_trip_with_torch(dtype):
    base = ember.from_numpy((np.arange(30) % 4).reshape(5, 6).astype(NP[dtype]))
    view = ember._C.as_strided(base, [3, 2], [12, 2], 1)  # rows 0,2,4 and columns 1,3 of a 5x6
    tt = torch.from_dlpack(view)
    expected = base.numpy()[::2, 1:5:2]
    np.testing.assert_array_equal(tt.numpy(), expected)
    assert tt.stride() == (12, 2)
    assert tt.clone().shape == (3, 2)  # the torch tensor is usable
    back = ember.from_dlpack(tt)
    assert back.stride() == (12, 2)
    np.testing.assert_array_equal(back.numpy(), expected)
    assert back.data_ptr() == view.data_ptr()
    # memory is shared: a write in torch shows in ember
    tt[0, 0] = 1 if dtype != ember.bool else True
    assert base.numpy()[0, 1] == 1


@needs_torch
def test_torch_tensor_outlives_ember_tensor():
    t = ember.arange(100, dtype=ember.float64)
    tt = torch.from_dlpack(t)
    del t
    gc.collect()
    assert tt[99].item() == 99.0
