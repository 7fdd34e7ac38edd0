"""CUDA device queries. On a machine without a usable GPU everything here still imports:
`is_available()` is False and `unavailable_reason()` says why."""
from . import _C

__all__ = ["is_available", "unavailable_reason", "device_count", "synchronize", "is_built",
           "memory_allocated", "memory_reserved", "empty_cache"]


def is_built():
    """True when this ember was compiled with its CUDA backend."""
    return _C.cuda_is_built()


def unavailable_reason():
    """Why CUDA cannot be used here ('' when it can): built without CUDA, no driver, or no device."""
    return _C.cuda_unavailable_reason()


def is_available():
    """True when ember was built with CUDA and a CUDA device is present and usable."""
    return unavailable_reason() == ""


def device_count():
    """Number of usable CUDA devices (0 when CUDA is unavailable)."""
    return _C.cuda_device_count() if is_available() else 0


def _index(device):
    if device is None:
        return 0
    if isinstance(device, int):
        return device
    d = _C.device(device) if isinstance(device, str) else device
    return d.index or 0


def synchronize(device=None):
    """Waits for all work queued on the device to finish."""
    if is_available():
        _C.cuda_synchronize(_index(device))


def memory_allocated(device=None):
    """Bytes held by live tensors on the device."""
    return _C.cuda_memory_allocated(_index(device)) if is_available() else 0


def memory_reserved(device=None):
    """Bytes the caching allocator holds on the device (live plus cached)."""
    return _C.cuda_memory_reserved(_index(device)) if is_available() else 0


def empty_cache():
    """Returns cached, unused device memory to the driver."""
    if is_available():
        _C.cuda_empty_cache()
