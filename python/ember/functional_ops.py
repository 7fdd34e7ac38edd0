"""Module-level forms of the tensor operations: ember.exp(x), ember.where(c, a, b), ember.cat(...)."""
from . import _C
from .tensor import _clamp, _dims

add, sub, mul, div, pow = _C.add, _C.sub, _C.mul, _C.div, _C.pow
floor_divide, remainder, maximum, minimum = _C.floor_divide, _C.remainder, _C.maximum, _C.minimum
eq, ne, lt, le, gt, ge = _C.eq, _C.ne, _C.lt, _C.le, _C.gt, _C.ge
matmul = _C.matmul
true_divide = div


neg, abs, sign, exp, log, log1p, sqrt = _C.neg, _C.abs, _C.sign, _C.exp, _C.log, _C.log1p, _C.sqrt
rsqrt, sin, cos, tanh, sigmoid, relu, silu = _C.rsqrt, _C.sin, _C.cos, _C.tanh, _C.sigmoid, _C.relu, _C.silu


def leaky_relu(x, negative_slope=0.01):
    return _C.leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    return _C.elu(x, alpha)


def gelu(x, approximate="none"):
    """GELU: x * Phi(x) exactly, or its tanh approximation with approximate='tanh'."""
    return _C.gelu(x, approximate)


def softplus(x, beta=1.0, threshold=20.0):
    return _C.softplus(x, beta, threshold)


def clamp(x, min=None, max=None):
    return _clamp(x, min, max)


clip = clamp


def where(condition, x, y):
    """Elements of x where condition is true, else of y (tensors or Python scalars, broadcast)."""
    return _C.where(condition, x, y)


def sum(x, dim=None, keepdim=False, dtype=None): return x.sum(dim, keepdim, dtype)
def mean(x, dim=None, keepdim=False): return _C.mean(x, _dims(dim), keepdim)
def prod(x, dim=None, keepdim=False): return _C.prod(x, _dims(dim), keepdim)
def amax(x, dim=None, keepdim=False): return _C.amax(x, _dims(dim), keepdim)
def amin(x, dim=None, keepdim=False): return _C.amin(x, _dims(dim), keepdim)
def max(x, dim=None, keepdim=False): return x.max(dim, keepdim)
def min(x, dim=None, keepdim=False): return x.min(dim, keepdim)
def argmax(x, dim=None, keepdim=False): return _C.argmax(x, dim, keepdim)
def argmin(x, dim=None, keepdim=False): return _C.argmin(x, dim, keepdim)
def var(x, dim=None, *, correction=1, keepdim=False, unbiased=None): return x.var(dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
def std(x, dim=None, *, correction=1, keepdim=False, unbiased=None): return x.std(dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
def all(x, dim=None, keepdim=False): return _C.all(x, _dims(dim), keepdim)
def any(x, dim=None, keepdim=False): return _C.any(x, _dims(dim), keepdim)
def logsumexp(x, dim, keepdim=False): return _C.logsumexp(x, _dims(dim), keepdim)
def softmax(x, dim): return _C.softmax(x, dim)
def log_softmax(x, dim): return _C.log_softmax(x, dim)


def reshape(x, shape): return x.reshape(shape)
def transpose(x, dim0, dim1): return _C.transpose(x, dim0, dim1)
def permute(x, dims): return x.permute(dims)
def squeeze(x, dim=None): return x.squeeze(dim)
def unsqueeze(x, dim): return _C.unsqueeze(x, dim)
def flatten(x, start_dim=0, end_dim=-1): return _C.flatten(x, start_dim, end_dim)
def broadcast_to(x, shape): return x.broadcast_to(shape)
def broadcast_shapes(*shapes):
    out = []
    for s in shapes:
        out = _C.broadcast_shapes(out, list(s))
    return tuple(out)


def cat(tensors, dim=0):
    """Joins tensors along an existing dimension."""
    return _C.cat(list(tensors), dim)


concatenate = cat


def stack(tensors, dim=0):
    """Joins tensors along a new dimension."""
    return _C.stack(list(tensors), dim)


def split(x, split_size_or_sections, dim=0): return _C.split(x, split_size_or_sections, dim)
def chunk(x, chunks, dim=0): return _C.chunk(x, chunks, dim)


def index_select(x, dim, index): return _C.index_select(x, dim, index)
def gather(x, dim, index): return _C.gather(x, dim, index)
def scatter_add(x, dim, index, src): return _C.scatter_add_(_C.clone(x), dim, index, src)
def masked_fill(x, mask, value): return _C.masked_fill(x, mask, value)
def nonzero(x, *, as_tuple=False): return x.nonzero(as_tuple=as_tuple)
