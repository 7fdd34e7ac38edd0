"""Tensor factories, random generation and NumPy / DLPack import."""
import builtins
import functools
import numbers
import warnings

import numpy as np

from . import _C
from . import _dtype
from .tensor import Tensor, _shape_args


def _grad_option(factory):
    """Adds PyTorch's requires_grad= keyword to a factory: the new tensor becomes a leaf that
    requires grad (float dtypes only)."""
    @functools.wraps(factory)
    def make(*args, requires_grad=False, **kwargs):
        out = factory(*args, **kwargs)
        if requires_grad:
            out.requires_grad_(True)
        return out
    return make


def _infer_dtype(value):
    if isinstance(value, builtins.bool):
        return _dtype.bool
    if isinstance(value, numbers.Integral):
        return _dtype.int64
    return _dtype.get_default_dtype()


def _dt(dtype, default, op):
    return default if dtype is None else _dtype.as_dtype(dtype, op)


@_grad_option
def tensor(data, dtype=None, device=None):
    """A new tensor holding a copy of `data` (nested lists, Python scalars, a NumPy array or a
    tensor). Python floats become the default float dtype (float32), ints int64, bools bool."""
    if isinstance(data, Tensor):
        out = _C.clone(data)
    else:
        if isinstance(data, np.ndarray):
            arr = data
            default = _dtype.from_numpy_dtype(arr.dtype, "tensor") if dtype is None else None
        else:
            arr = np.asarray(data)
            if arr.dtype == object or arr.dtype.kind not in "biuf":
                raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} data "
                                f"(NumPy sees dtype {arr.dtype}); give numbers, nested lists or an array")
            if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
                raise ValueError(f"tensor: value {int(arr.max())} does not fit in int64 (the largest integer "
                                 "dtype); pass floats for such magnitudes")
            default = {"b": _dtype.bool, "i": _dtype.int64, "u": _dtype.int64}.get(
                arr.dtype.kind, _dtype.get_default_dtype())
        target = _dt(dtype, default, "tensor")
        arr = np.asarray(arr, dtype=_dtype.TO_NUMPY[target], order="C")  # keeps 0-d (ascontiguousarray makes it 1-d)
        out = _C.clone(_C.from_numpy(arr))
        return out if device is None else _C.to_device(out, device)
    if dtype is not None:
        out = _C.to_dtype(out, _dtype.as_dtype(dtype, "tensor"))
    return out if device is None else _C.to_device(out, device)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but returns `data` itself when it is already a tensor of that dtype/device."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if isinstance(data, np.ndarray) and dtype is None and device is None:
        return from_numpy(data)
    return tensor(data, dtype, device)


def from_numpy(array):
    """A tensor sharing memory with a NumPy array (writes show through both ways).

    A read-only array is shared too, as in PyTorch, with a UserWarning: ember tensors have no
    read-only mode, so writing to the tensor changes the array despite its flag. Pass
    array.copy() to get a tensor of your own."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    _dtype.from_numpy_dtype(array.dtype, "from_numpy")
    if not array.flags.writeable:
        warnings.warn("from_numpy: the NumPy array is read-only, but the tensor sharing its memory can be "
                      "written; writes will change the array. Pass array.copy() to avoid this.",
                      UserWarning, stacklevel=2)
    return _C.from_numpy(array)


def from_dlpack(obj):
    """A tensor sharing memory with any DLPack producer (NumPy, PyTorch, JAX, CuPy, ...)."""
    if isinstance(obj, Tensor):
        return obj
    if hasattr(obj, "__dlpack__"):
        try:
            capsule = obj.__dlpack__(max_version=(1, 0))
        except TypeError:  # producers predating DLPack 1.0 take no max_version
            capsule = obj.__dlpack__()
    else:
        capsule = obj
    return _C.from_dlpack_capsule(capsule)


@_grad_option
def empty(*shape, dtype=None, device=None):
    """An uninitialised tensor."""
    return _C.empty(_shape_args(shape, "empty"), _dt(dtype, _dtype.get_default_dtype(), "empty"), device)


@_grad_option
def zeros(*shape, dtype=None, device=None):
    return _C.full(_shape_args(shape, "zeros"), 0.0, _dt(dtype, _dtype.get_default_dtype(), "zeros"), device)


@_grad_option
def ones(*shape, dtype=None, device=None):
    return _C.full(_shape_args(shape, "ones"), 1.0, _dt(dtype, _dtype.get_default_dtype(), "ones"), device)


@_grad_option
def full(shape, fill_value, dtype=None, device=None):
    """A tensor filled with fill_value; the dtype follows fill_value's type when not given."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _C.full(_shape_args((shape,), "full"), fill_value, _dt(dtype, _infer_dtype(fill_value), "full"), device)


def _like(t, dtype, device):
    return (t.dtype if dtype is None else _dtype.as_dtype(dtype)), (t.device if device is None else device)


@_grad_option
def empty_like(t, dtype=None, device=None):
    dtype, device = _like(t, dtype, device)
    return _C.empty(list(t.shape), dtype, device)


@_grad_option
def zeros_like(t, dtype=None, device=None):
    dtype, device = _like(t, dtype, device)
    return _C.full(list(t.shape), 0.0, dtype, device)


@_grad_option
def ones_like(t, dtype=None, device=None):
    dtype, device = _like(t, dtype, device)
    return _C.full(list(t.shape), 1.0, dtype, device)


@_grad_option
def full_like(t, fill_value, dtype=None, device=None):
    dtype, device = _like(t, dtype, device)
    return _C.full(list(t.shape), fill_value, dtype, device)


@_grad_option
def arange(start, end=None, step=1, dtype=None, device=None):
    """Values from start (default 0) up to but excluding end, spaced by step. int64 when all of
    start, end and step are integers, else the default float dtype."""
    if end is None:
        start, end = 0, start
    default = _dtype.int64 if all(isinstance(v, numbers.Integral) for v in (start, end, step)) \
        else _dtype.get_default_dtype()
    return _C.arange(builtins.float(start), builtins.float(end), builtins.float(step),
                     _dt(dtype, default, "arange"), device)


@_grad_option
def linspace(start, end, steps, dtype=None, device=None):
    """`steps` evenly spaced values from start to end, both included."""
    return _C.linspace(builtins.float(start), builtins.float(end), builtins.int(steps),
                       _dt(dtype, _dtype.get_default_dtype(), "linspace"), device)


@_grad_option
def eye(n, m=None, dtype=None, device=None):
    """The n x m identity matrix (m defaults to n)."""
    return _C.eye(n, m, _dt(dtype, _dtype.get_default_dtype(), "eye"), device)


def manual_seed(seed):
    """Seeds the one random generator; results do not depend on the thread count."""
    _C.manual_seed(builtins.int(seed))


@_grad_option
def rand(*shape, dtype=None, device=None):
    """Uniform samples in [0, 1)."""
    return _C.rand(_shape_args(shape, "rand"), _dt(dtype, _dtype.get_default_dtype(), "rand"), device)


@_grad_option
def randn(*shape, dtype=None, device=None):
    """Standard normal samples."""
    return _C.randn(_shape_args(shape, "randn"), _dt(dtype, _dtype.get_default_dtype(), "randn"), device)


def randint(low, high=None, size=None, dtype=None, device=None):
    """Integers uniform in [low, high); randint(high, size) means low = 0."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low, high, size) or randint(high, size)")
        low, high, size = 0, low, high
    elif high is None:
        raise TypeError("randint: missing high")
    return _C.randint(builtins.int(low), builtins.int(high), _shape_args((size,), "randint"),
                      _dt(dtype, _dtype.int64, "randint"), device)


@_grad_option
def rand_like(t, dtype=None, device=None):
    dtype, device = _like(t, dtype, device)
    return _C.rand(list(t.shape), dtype, device)


@_grad_option
def randn_like(t, dtype=None, device=None):
    dtype, device = _like(t, dtype, device)
    return _C.randn(list(t.shape), dtype, device)
