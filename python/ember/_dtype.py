"""Turning user-facing dtype and device arguments into the extension's objects."""
import builtins

import numpy as np

from . import _C

_C.dtype.__repr__ = _C.dtype.__str__ = lambda self: f"ember.{self.name}"
float32 = _C.dtype.float32
float64 = _C.dtype.float64
int64 = _C.dtype.int64
int32 = _C.dtype.int32
bool = _C.dtype.bool
float = float32
double = float64
long = int64
int = int32

_DEFAULT_FLOAT = float32

_BY_NAME = {"float32": float32, "float": float32, "float64": float64, "double": float64,
            "int64": int64, "long": int64, "int32": int32, "int": int32, "bool": bool}
_FROM_NUMPY = {np.dtype(np.float32): float32, np.dtype(np.float64): float64,
               np.dtype(np.int64): int64, np.dtype(np.int32): int32, np.dtype(np.bool_): bool}
TO_NUMPY = {float32: np.float32, float64: np.float64, int64: np.int64, int32: np.int32, bool: np.bool_}


def get_default_dtype():
    """The dtype of tensors made from Python floats: float32 unless changed."""
    return _DEFAULT_FLOAT


def set_default_dtype(dtype):
    """Sets the dtype that Python floats become (float32 or float64), as torch.set_default_dtype."""
    global _DEFAULT_FLOAT
    dtype = as_dtype(dtype)
    if dtype not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 or float64 can be the default, got {dtype}")
    _C.set_default_float_dtype(dtype)
    _DEFAULT_FLOAT = dtype


def as_dtype(dtype, op="dtype"):
    """ember dtype from an ember dtype, a name, a NumPy dtype or the Python types float/int/bool."""
    if isinstance(dtype, _C.dtype):
        return dtype
    if dtype is builtins.float:
        return _DEFAULT_FLOAT
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool
    if isinstance(dtype, str) and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        np_dtype = None
    if np_dtype in _FROM_NUMPY:
        return _FROM_NUMPY[np_dtype]
    raise TypeError(f"{op}: unsupported dtype {dtype!r}; use one of ember.float32, ember.float64, "
                    "ember.int64, ember.int32, ember.bool")


def from_numpy_dtype(np_dtype, op):
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"{op}: NumPy dtype {np.dtype(np_dtype)} is not supported (supported: float32, "
                        "float64, int64, int32, bool); convert first, e.g. arr.astype(numpy.float32)") from None
