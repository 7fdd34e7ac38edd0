"""ember.Tensor: the extension's tensor type with its Python-facing methods.

The class itself lives in the compiled core (`_C.Tensor`: storage, shape, strides, dtype, device).
This module attaches the operators and methods, each a call into one `_C` function, so that the
class stays a single type with no wrapper objects between Python and the kernels.
"""
import builtins
import copy

import numpy as np

from . import _C
from . import _dtype
from . import autograd as _autograd
from ._fn import elementwise as _E, reduce as _R, shape as _S

Tensor = _C.Tensor
Tensor.__module__ = "ember"
Tensor.__doc__ = """A multi-dimensional array of one dtype on one device, with NumPy broadcasting,
zero-copy views (reshape, transpose, slicing, expand) and NumPy / DLPack interop."""


def _shape_args(shape, op):
    """`f(2, 3)` and `f((2, 3))` both mean shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (builtins.int, np.integer)) or isinstance(s, builtins.bool):
            raise TypeError(f"{op}: shape entries must be integers, got {shape!r}")
    return [builtins.int(s) for s in shape]


def _dims(dim):
    """None, an int or a sequence of ints -> None or a list of ints (for reductions)."""
    if dim is None:
        return None
    if isinstance(dim, (builtins.int, np.integer)):
        return [builtins.int(dim)]
    return [builtins.int(d) for d in dim]


def _not_constructible(cls, *args, **kwargs):
    raise TypeError(f"{cls.__name__}() cannot be called directly; make tensors with ember.tensor(data), "
                    "ember.zeros(shape), ember.empty(shape) or ember.from_numpy(array)")


# Without this, Tensor.__new__(Tensor) (or a subclass's) returns an instance whose C++ tensor was
# never built, and the first use of it dereferences null. The extension makes its own instances
# without going through __new__.
Tensor.__new__ = staticmethod(_not_constructible)


def _checked_dim(dim, ndim, op):
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor with {ndim} dimension(s)")
    return dim


def _unpickle(array, device, requires_grad=False):
    out = _C.to_device(_C.clone(_C.from_numpy(array)), device)
    out._requires_grad = requires_grad
    return out


def _set_requires_grad(t, value, op):
    value = builtins.bool(value)
    if value and not (t.dtype.is_floating_point):
        raise RuntimeError(f"{op}: only floating-point tensors can require gradients, got {t.dtype}; "
                           "convert with .float() first")
    if not value and t._grad_fn is not None:
        raise RuntimeError(f"{op}: you can only change requires_grad of leaf tensors; this one was produced by "
                           f"{type(t._grad_fn).__name__}. Use .detach() to get a tensor that does not require grad")
    t._requires_grad = value


def _format(t):
    a = t.cpu().numpy() if t.dtype != _dtype.bool else t.cpu().numpy().astype(builtins.bool)
    if t.dtype.is_floating_point:
        finite = a[np.isfinite(a)]
        whole = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        body = np.array2string(a, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec_equal" if whole else "fixed", threshold=1000, edgeitems=3)
    else:
        body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
    return body


class _Methods:
    """Copied onto Tensor below; not a class of its own."""

    # ---- autograd ------------------------------------------------------------------------------
    # Class-level defaults; a tensor's own values live in its instance dict once set.
    _requires_grad = False
    _grad_fn = None
    grad = None

    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded for backward()."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        _set_requires_grad(self, value, "requires_grad")

    def requires_grad_(self, requires_grad=True):
        """Sets requires_grad in place and returns self."""
        _set_requires_grad(self, requires_grad, "requires_grad_")
        return self

    @property
    def grad_fn(self):
        """The graph node that produced this tensor (None for leaves)."""
        return self._grad_fn

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded operation (inputs and parameters)."""
        return self._grad_fn is None

    @property
    def retains_grad(self):
        fn = self._grad_fn
        return fn is not None and fn._retained is not None and fn._retained() is self

    def retain_grad(self):
        """Keeps .grad on this non-leaf tensor after backward()."""
        _autograd.retain_grad(self)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulates the gradient of this tensor into .grad of every leaf it depends on."""
        if gradient is None and inputs is None and not create_graph and self._grad_fn is not None:
            _autograd._backward_scalar(self, retain_graph)  # the training-loop case, with fewer checks
            return
        _autograd.backward([self], None if gradient is None else [gradient], retain_graph, create_graph, inputs)

    def detach(self):
        """The same memory, cut out of the graph (requires_grad False)."""
        return _C.alias(self)

    def detach_(self):
        """Cuts this tensor out of the graph in place."""
        if "_grad_view" in self.__dict__:
            raise RuntimeError("detach_: cannot detach a view of a tensor that requires grad in place; use detach()")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """The same memory without autograd history (like detach())."""
        return _C.alias(self)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected an ember.Tensor, got {type(value).__name__}")
        if value.shape != self.shape or value.dtype != self.dtype or value.device != self.device:
            raise ValueError(f"data: the new data must match shape {self.shape}, dtype {self.dtype} and device "
                             f"{self.device}; got shape {value.shape}, dtype {value.dtype}, device {value.device}")
        _C.copy_(self, value)

    # ---- metadata ----------------------------------------------------------------------------
    def size(self, dim=None):
        """The shape, or the size of one dimension."""
        return self.shape if dim is None else self.shape[_checked_dim(dim, self.ndim, "size")]

    def stride(self, dim=None):
        """Strides in elements, or the stride of one dimension."""
        return self._strides if dim is None else self._strides[_checked_dim(dim, self.ndim, "stride")]

    @property
    def T(self):
        """All dimensions reversed (a view)."""
        return _S.permute(self, list(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        """The last two dimensions swapped (a view)."""
        return _S.transpose(self, -2, -1)

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def __repr__(self):
        extras = ""
        if self.dtype not in (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool):
            extras += f", dtype={self.dtype}"
        if self.is_cuda:
            extras += f", device='{self.device}'"
        if self._grad_fn is not None:
            extras += f", grad_fn=<{type(self._grad_fn).__name__}Backward>"
        elif self._requires_grad:
            extras += ", requires_grad=True"
        if self.numel() == 0 and self.ndim != 1:
            return f"tensor([], size={self.shape}{extras})"
        return f"tensor({_format(self)}{extras})"

    __str__ = __repr__

    def __format__(self, spec):
        """A 0-d tensor formats as its value (f"{loss:.4f}"); others only with an empty spec."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"format: the spec {spec!r} applies to 0-d tensors only, got shape {self.shape}; "
                            "format t.tolist() or single elements instead")
        return str(self)

    def __reduce__(self):
        """Pickles the values (through NumPy), dtype and device; views come back as fresh tensors."""
        return _unpickle, (np.array(self.cpu()), str(self.device), self._requires_grad)

    def __copy__(self):
        return _S.clone(self)

    def __deepcopy__(self, memo):
        """A new leaf with copied values, the same requires_grad, .grad and attributes."""
        if self._grad_fn is not None:
            raise RuntimeError("deepcopy: only leaf tensors (not results of recorded operations) can be deep-copied; "
                               "use .detach().clone()")
        out = memo[id(self)] = _C.clone(self)
        for key, value in self.__dict__.items():
            if key not in ("_grad_view", "_views", "_views_prune_at", "_view_root"):
                setattr(out, key, copy.deepcopy(value, memo))
        return out

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.numel()} elements is "
                               "ambiguous; use .any() or .all()")
        return builtins.bool(self.item())

    def __float__(self):
        return builtins.float(self.item())

    def __int__(self):
        return builtins.int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # ---- views and copies --------------------------------------------------------------------
    def reshape(self, *shape):
        """Same data in a new shape; a view when the strides allow it, else a copy."""
        return _S.reshape(self, _shape_args(shape, "reshape"))

    def view(self, *shape):
        """Same data in a new shape, always a view (RuntimeError when impossible: use reshape)."""
        return _S.view(self, _shape_args(shape, "view"))

    def view_as(self, other):
        return _S.view(self, list(other.shape))

    def reshape_as(self, other):
        return _S.reshape(self, list(other.shape))

    def transpose(self, dim0, dim1):
        return _S.transpose(self, dim0, dim1)

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t: expected a tensor with at most 2 dimensions, got shape {self.shape}")
        return _S.transpose(self, 0, 1) if self.ndim == 2 else self

    def permute(self, *dims):
        return _S.permute(self, _shape_args(dims, "permute"))

    def squeeze(self, dim=None):
        return _S.squeeze(self, _dims(dim))

    def unsqueeze(self, dim):
        return _S.unsqueeze(self, dim)

    def expand(self, *sizes):
        return _S.expand(self, _shape_args(sizes, "expand"))

    def expand_as(self, other):
        return _S.expand(self, list(other.shape))

    def broadcast_to(self, shape):
        return _S.broadcast_to(self, _shape_args((shape,), "broadcast_to"))

    def flatten(self, start_dim=0, end_dim=-1):
        return _S.flatten(self, start_dim, end_dim)

    def ravel(self):
        return _S.flatten(self, 0, -1)

    def contiguous(self):
        return self if self.is_contiguous() else _S.contiguous(self)

    def clone(self):
        return _S.clone(self)

    def copy_(self, src):
        """Copies src (broadcast to this shape, converted to this dtype and device) into self."""
        return _S.copy_(self, src if isinstance(src, Tensor) else _tensor_like(src, self))

    def fill_(self, value):
        if isinstance(value, Tensor):
            value = value.item()
        if not isinstance(value, (builtins.int, builtins.float, np.number, np.bool_)):
            raise TypeError(f"fill_: the value must be a Python number, got {type(value).__name__}")
        return _S.fill_(self, value)

    def zero_(self):
        return self.fill_(0)

    def split(self, split_size_or_sections, dim=0):
        return _S.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _S.chunk(self, chunks, dim)

    def __getitem__(self, index):
        return _S.getitem(self, index)

    def __setitem__(self, index, value):
        _S.setitem(self, index, value)

    # ---- gather / scatter (cpu/index.cpp) ----------------------------------------------------------
    def index_select(self, dim, index): return _S.index_select(self, dim, index)
    def gather(self, dim, index): return _S.gather(self, dim, index)
    def scatter_add_(self, dim, index, src): return _S.scatter_add_(self, dim, index, src)
    def masked_fill(self, mask, value): return _S.masked_fill(self, mask, value)

    def nonzero(self, *, as_tuple=False):
        """Positions of the nonzero elements: (count, ndim) int64, or one 1-d tensor per dim."""
        out = _C.nonzero(self)
        return tuple(out[:, d] for d in range(self.ndim)) if as_tuple else out

    # ---- dtype and device --------------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, copy=False):
        """to(dtype), to(device), to(device, dtype), to(other_tensor): converted (a copy only when
        something changes, or copy=True)."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, _C.device)):
                device = a
            else:
                dtype = a
        out = self
        if device is not None and out.device != device:
            out = _S.to_device(out, device)
        if dtype is not None and out.dtype != dtype:
            out = _S.to_dtype(out, _dtype.as_dtype(dtype, "to"))
        if copy and out is self:
            out = _S.clone(self)
        return out

    def type(self, dtype=None):
        return str(self.dtype) if dtype is None else self.to(dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def bool(self):
        return self.to(_dtype.bool)

    def cpu(self):
        return _S.to_device(self, "cpu") if self.is_cuda else self

    def cuda(self, device=None):
        return _S.to_device(self, "cuda" if device is None else
                            (f"cuda:{device}" if isinstance(device, builtins.int) else device))

    # ---- NumPy, Python and DLPack exchange -----------------------------------------------------
    def numpy(self):
        """A NumPy array sharing this tensor's memory (CPU tensors only)."""
        if self.is_cuda:
            raise TypeError(f"numpy: cannot view a tensor on {self.device} as a NumPy array; "
                            "copy it to the host first with .cpu()")
        return np.asarray(memoryview(self))

    def __array__(self, dtype=None, copy=None):
        a = self.numpy() if not self.is_cuda else self.cpu().numpy()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError(f"__array__: converting {self.dtype} to {np.dtype(dtype)} needs a copy")
            return a.astype(dtype)
        return a.copy() if copy else a

    def tolist(self):
        """Nested Python lists of Python scalars (a scalar for a 0-d tensor)."""
        return self.cpu().numpy().tolist()

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            raise BufferError(f"__dlpack__: the tensor lives on {self.device}; cross-device export "
                              "is not supported, move it first with .to()")
        if self.is_cuda:
            from . import cuda
            cuda.synchronize(self.device)
        src = _S.clone(self) if copy else self
        versioned = max_version is not None and max_version[0] >= 1
        return _C.to_dlpack(src, versioned)

    def __dlpack_device__(self):
        return (2, self.device.index) if self.is_cuda else (1, 0)

    # ---- arithmetic (NumPy broadcasting; Python scalars on either side) ------------------------
    __add__ = _E.add
    def __radd__(self, other): return _E.add(other, self)
    __iadd__ = _E.add_
    __sub__ = _E.sub
    def __rsub__(self, other): return _E.sub(other, self)
    __isub__ = _E.sub_
    __mul__ = _E.mul
    def __rmul__(self, other): return _E.mul(other, self)
    __imul__ = _E.mul_
    __truediv__ = _E.div
    def __rtruediv__(self, other): return _E.div(other, self)
    __itruediv__ = _E.div_
    def __floordiv__(self, other): return _C.floor_divide(self, other)
    def __rfloordiv__(self, other): return _C.floor_divide(other, self)
    def __mod__(self, other): return _E.remainder(self, other)
    def __rmod__(self, other): return _E.remainder(other, self)
    __pow__ = _E.pow
    def __rpow__(self, other): return _E.pow(other, self)
    __ipow__ = _E.pow_
    __matmul__ = _R.matmul
    def __rmatmul__(self, other): return _R.matmul(other, self)
    __neg__ = _E.neg
    def __pos__(self): return self
    def __abs__(self): return _E.abs(self)
    # None and strings are never equal to a tensor (as in PyTorch), so `t == None` is False
    def __eq__(self, other): return NotImplemented if isinstance(other, (str, type(None))) else _C.eq(self, other)
    def __ne__(self, other): return NotImplemented if isinstance(other, (str, type(None))) else _C.ne(self, other)
    def __lt__(self, other): return _C.lt(self, other)
    def __le__(self, other): return _C.le(self, other)
    def __gt__(self, other): return _C.gt(self, other)
    def __ge__(self, other): return _C.ge(self, other)

    add = _E.add
    sub = _E.sub
    mul = _E.mul
    div = _E.div
    pow = _E.pow
    def floor_divide(self, other): return _C.floor_divide(self, other)
    remainder = _E.remainder
    def matmul(self, other): return _R.matmul(self, other)
    add_ = _E.add_
    sub_ = _E.sub_
    mul_ = _E.mul_
    div_ = _E.div_
    pow_ = _E.pow_
    maximum = _E.maximum
    minimum = _E.minimum
    def eq(self, other): return _C.eq(self, other)
    def ne(self, other): return _C.ne(self, other)
    def lt(self, other): return _C.lt(self, other)
    def le(self, other): return _C.le(self, other)
    def gt(self, other): return _C.gt(self, other)
    def ge(self, other): return _C.ge(self, other)

    def where(self, condition, other):
        """Elements of self where condition holds, else of other."""
        return _E.where(condition, self, other)

    # ---- elementwise functions -----------------------------------------------------------------
    neg = _E.neg
    abs = _E.abs
    sign = _E.sign
    exp = _E.exp
    log = _E.log
    log1p = _E.log1p
    sqrt = _E.sqrt
    rsqrt = _E.rsqrt
    sin = _E.sin
    cos = _E.cos
    tanh = _E.tanh
    sigmoid = _E.sigmoid
    relu = _E.relu
    neg_ = _E.neg_
    abs_ = _E.abs_
    exp_ = _E.exp_
    log_ = _E.log_
    sqrt_ = _E.sqrt_
    tanh_ = _E.tanh_
    sigmoid_ = _E.sigmoid_
    relu_ = _E.relu_

    def clamp(self, min=None, max=None):
        """Limits every element to [min, max] (either bound may be None, or a tensor)."""
        return _clamp(self, min, max)

    clip = clamp

    def clamp_(self, min=None, max=None):
        return _E.clamp_(self, min, max)

    # ---- reductions ------------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        out = _R.sum(self, _dims(dim), keepdim)
        return out if dtype is None else out.to(dtype)

    def mean(self, dim=None, keepdim=False):
        return _R.mean(self, _dims(dim), keepdim)

    def prod(self, dim=None, keepdim=False):
        return _R.prod(self, _dims(dim), keepdim)

    def max(self, dim=None, keepdim=False):
        """max(): the largest element; max(dim): (values, indices) along dim; max(tensor): maximum."""
        if isinstance(dim, Tensor):
            return _E.maximum(self, dim)
        if dim is None:
            return _R.amax(self, None, keepdim)
        return _MinMax(*_R.max_dim(self, dim, keepdim))

    def min(self, dim=None, keepdim=False):
        """min(): the smallest element; min(dim): (values, indices) along dim; min(tensor): minimum."""
        if isinstance(dim, Tensor):
            return _E.minimum(self, dim)
        if dim is None:
            return _R.amin(self, None, keepdim)
        return _MinMax(*_R.min_dim(self, dim, keepdim))

    def amax(self, dim=None, keepdim=False):
        return _R.amax(self, _dims(dim), keepdim)

    def amin(self, dim=None, keepdim=False):
        return _R.amin(self, _dims(dim), keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _C.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _C.argmin(self, dim, keepdim)

    def var(self, dim=None, *, correction=1, keepdim=False, unbiased=None):
        if unbiased is not None:
            correction = 1 if unbiased else 0
        return _R.var(self, _dims(dim), correction, keepdim)

    def std(self, dim=None, *, correction=1, keepdim=False, unbiased=None):
        if unbiased is not None:
            correction = 1 if unbiased else 0
        return _R.std(self, _dims(dim), correction, keepdim)

    def all(self, dim=None, keepdim=False):
        return _C.all(self, _dims(dim), keepdim)

    def any(self, dim=None, keepdim=False):
        return _C.any(self, _dims(dim), keepdim)

    def logsumexp(self, dim, keepdim=False):
        return _R.logsumexp(self, _dims(dim), keepdim)

    def softmax(self, dim):
        return _R.softmax(self, dim)

    def log_softmax(self, dim):
        return _R.log_softmax(self, dim)


class _MinMax(tuple):
    """(values, indices) from max(dim) / min(dim), also readable as .values and .indices."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


def _clamp(t, lo, hi):
    return _E.clamp(t, lo, hi)


def _tensor_like(value, like):
    """A Python scalar or array-like as a tensor on like's device (for copy_ / setitem sources)."""
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"copy_: the source must be a tensor, a number or an array-like of numbers, "
                        f"got {type(value).__name__} (NumPy sees dtype {a.dtype})")
    return _C.to_device(_C.from_numpy(np.asarray(a, dtype=_dtype.TO_NUMPY[like.dtype], order="C")), like.device)


_SKIP = {"__dict__", "__module__", "__weakref__", "__doc__", "__qualname__"}
for _name, _value in vars(_Methods).items():
    if _name not in _SKIP:
        setattr(Tensor, _name, _value)
del _name, _value
