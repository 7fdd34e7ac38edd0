"""Module-level forms of the tensor operations: ember.exp(x), ember.where(c, a, b), ember.cat(...)."""
from . import _C
from ._fn import reduce as _R, shape as _S
from ._fn.elementwise import (add, sub, mul, div, pow, maximum, minimum, remainder, neg, abs, sign, exp, log,
                              log1p, sqrt, rsqrt, sin, cos, tanh, sigmoid, relu, silu, leaky_relu, elu, gelu,
                              softplus, clamp, where)
from .tensor import _dims

floor_divide = _C.floor_divide
eq, ne, lt, le, gt, ge = _C.eq, _C.ne, _C.lt, _C.le, _C.gt, _C.ge
matmul = _R.matmul
true_divide = div
clip = clamp


def sum(x, dim=None, keepdim=False, dtype=None): return x.sum(dim, keepdim, dtype)
def mean(x, dim=None, keepdim=False): return _R.mean(x, _dims(dim), keepdim)
def prod(x, dim=None, keepdim=False): return _R.prod(x, _dims(dim), keepdim)
def amax(x, dim=None, keepdim=False): return _R.amax(x, _dims(dim), keepdim)
def amin(x, dim=None, keepdim=False): return _R.amin(x, _dims(dim), keepdim)
def max(x, dim=None, keepdim=False): return x.max(dim, keepdim)
def min(x, dim=None, keepdim=False): return x.min(dim, keepdim)
def argmax(x, dim=None, keepdim=False): return _C.argmax(x, dim, keepdim)
def argmin(x, dim=None, keepdim=False): return _C.argmin(x, dim, keepdim)
def var(x, dim=None, *, correction=1, keepdim=False, unbiased=None): return x.var(dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
def std(x, dim=None, *, correction=1, keepdim=False, unbiased=None): return x.std(dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
def all(x, dim=None, keepdim=False): return _C.all(x, _dims(dim), keepdim)
def any(x, dim=None, keepdim=False): return _C.any(x, _dims(dim), keepdim)
def logsumexp(x, dim, keepdim=False): return _R.logsumexp(x, _dims(dim), keepdim)
def softmax(x, dim): return _R.softmax(x, dim)
def log_softmax(x, dim): return _R.log_softmax(x, dim)


def reshape(x, shape): return x.reshape(shape)
def transpose(x, dim0, dim1): return _S.transpose(x, dim0, dim1)
def permute(x, dims): return x.permute(dims)
def squeeze(x, dim=None): return x.squeeze(dim)
def unsqueeze(x, dim): return _S.unsqueeze(x, dim)
def flatten(x, start_dim=0, end_dim=-1): return _S.flatten(x, start_dim, end_dim)
def broadcast_to(x, shape): return x.broadcast_to(shape)
def broadcast_shapes(*shapes):
    out = []
    for s in shapes:
        out = _C.broadcast_shapes(out, list(s))
    return tuple(out)


cat = _S.cat
concatenate = cat
stack = _S.stack


def split(x, split_size_or_sections, dim=0): return _S.split(x, split_size_or_sections, dim)
def chunk(x, chunks, dim=0): return _S.chunk(x, chunks, dim)


def index_select(x, dim, index): return _S.index_select(x, dim, index)
def gather(x, dim, index): return _S.gather(x, dim, index)
def scatter_add(x, dim, index, src): return _S.scatter_add(x, dim, index, src)
def masked_fill(x, mask, value): return _S.masked_fill(x, mask, value)
def nonzero(x, *, as_tuple=False): return x.nonzero(as_tuple=as_tuple)
