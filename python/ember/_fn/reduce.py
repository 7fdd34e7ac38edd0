"""Differentiable reductions, softmax-family ops and matmul.

A reduction's gradient is the output gradient reshaped to keepdim form and broadcast back over the
reduced dims (an expanded view: no copy until something needs one).
"""
from .. import _C
from .common import Function, Tensor, _Mode, _saved_output, cast_grad, meta


def _reduced_dims(ndim, dims):
    """The dims a reduction removes, as the kernels read `dims`: None and [] mean all of them; on a
    0-d tensor dim 0 / -1 names the tensor itself, so nothing is removed."""
    if dims is None or not dims:
        return list(range(ndim))
    if ndim == 0:
        return []
    return sorted(d % ndim for d in dims)


def _keepdim_shape(shape, dims):
    return [1 if i in dims else s for i, s in enumerate(shape)]


def _expand_back(g, shape, dims):
    """g (reduced over dims, with or without keepdim) broadcast back to shape."""
    return _C.expand(_C.reshape(g, _keepdim_shape(shape, dims)), list(shape))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape = x.shape
        ctx.dims = _reduced_dims(x.ndim, dims)
        return _C.sum(x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.dims), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape = x.shape
        ctx.dims = _reduced_dims(x.ndim, dims)
        count = 1
        for d in ctx.dims:
            count *= x.shape[d]
        ctx.count = count
        return _C.mean(x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(_C.div(g, ctx.count), ctx.shape, ctx.dims), None, None


class Prod(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims = _reduced_dims(x.ndim, dims)
        out = _C.prod(x, dims, keepdim)
        ctx.save_for_backward(x, _saved_output(out))
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, shape = ctx.dims, x.shape
        g_full = _expand_back(g, shape, dims)
        out_full = _expand_back(out, shape, dims)
        is_zero = _C.eq(x, 0)
        # Where no element of a slice is zero, d(prod)/dx_i = prod / x_i. Where exactly one is zero,
        # only that element gets a gradient: the product of the others.
        zeros = _expand_back(_C.sum(is_zero, dims, True), shape, dims)
        others = _expand_back(_C.prod(_C.where(is_zero, 1.0, x), dims, True), shape, dims)
        safe = _C.where(is_zero, 1.0, x)
        grad = _C.where(_C.eq(zeros, 0), _C.div(out_full, safe),
                        _C.where(_C.mul(_C.eq(zeros, 1), is_zero), others, 0.0))
        return _C.mul(g_full, grad), None, None


class AMax(Function):
    """amax / amin: the gradient is shared evenly among elements equal to the extreme."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, cfn):
        ctx.dims = _reduced_dims(x.ndim, dims)
        out = cfn(x, dims, keepdim)
        ctx.save_for_backward(x, _saved_output(out))
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, shape = ctx.dims, x.shape
        hit = _C.eq(x, _expand_back(out, shape, dims))
        count = _C.sum(hit, dims, True)
        share = _C.div(_C.reshape(g, _keepdim_shape(shape, dims)), count)
        return _C.where(hit, _C.expand(share, list(shape)), 0.0), None, None, None


class ExtremeAlong(Function):
    """max(dim) / min(dim) values: the gradient goes to the chosen index."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, cfn):
        values, indices = cfn(x, dim, keepdim)
        ctx.shape = x.shape
        ctx.dim = dim % x.ndim if x.ndim else 0
        ctx.keepdim = keepdim
        ctx.indices = indices  # handed to the caller by max_dim / min_dim
        ctx.save_for_backward(indices)  # the caller may write to them: backward checks their version
        return values

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        gx = _C.full(list(ctx.shape), 0.0, g.dtype, str(g.device))
        if len(ctx.shape) == 0:
            return _C.add(gx, g), None, None, None
        if not ctx.keepdim:
            g = _C.unsqueeze(g, ctx.dim)
            idx = _C.unsqueeze(idx, ctx.dim)
        _C.scatter_add_(gx, ctx.dim, idx, g)
        return gx, None, None, None


class Var(Function):
    @staticmethod
    def forward(ctx, x, dims, correction, keepdim, take_sqrt):
        ctx.dims = _reduced_dims(x.ndim, dims)
        count = 1
        for d in ctx.dims:
            count *= x.shape[d]
        ctx.denom = max(count - correction, 0)
        ctx.take_sqrt = take_sqrt
        out = (_C.std if take_sqrt else _C.var)(x, dims, correction, keepdim)
        ctx.save_for_backward(x, _saved_output(out) if take_sqrt else None)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, shape = ctx.dims, x.shape
        centered = _C.sub(x, _C.mean(x, dims, True))
        scale = _C.div(_C.reshape(g, _keepdim_shape(shape, dims)), ctx.denom)
        if ctx.take_sqrt:
            # d(std) = d(var) / (2 std); where std == 0 (a constant slice) the gradient is 0, as in PyTorch
            std = _C.reshape(out, _keepdim_shape(shape, dims))
            scale = _C.where(_C.eq(std, 0), 0.0, _C.div(scale, std))
        else:
            scale = _C.mul(scale, 2.0)
        return _C.mul(centered, scale), None, None, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims = _reduced_dims(x.ndim, dims)
        out = _C.logsumexp(x, dims, keepdim)
        ctx.save_for_backward(x, _saved_output(out))
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        keep = _keepdim_shape(x.shape, ctx.dims)
        weights = _C.exp(_C.sub(x, _C.reshape(out, keep)))
        return _C.mul(weights, _C.reshape(g, keep)), None, None


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = _C.softmax(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(_saved_output(out))
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return _C.softmax_backward(g, y, ctx.dim), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = _C.log_softmax(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(_saved_output(out))
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return _C.log_softmax_backward(g, y, ctx.dim), None


class MatMul(Function):
    """NumPy matmul rules: 1-d operands get a dim added (and removed), batch dims broadcast."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _C.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (_C.mul(g, b) if need[0] else None, _C.mul(g, a) if need[1] else None)
        a2 = _C.unsqueeze(a, 0) if a.ndim == 1 else a
        b2 = _C.unsqueeze(b, 1) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = _C.unsqueeze(g2, -2)
        if b.ndim == 1:
            g2 = _C.unsqueeze(g2, -1)
        ga = gb = None
        if need[0]:
            ga = _C.matmul(g2, _C.transpose(b2, -1, -2))
            ga = _C.reshape(cast_grad(ga, (a2.shape, a.dtype)), list(a.shape))
        if need[1]:
            gb = _C.matmul(_C.transpose(a2, -1, -2), g2)
            gb = _C.reshape(cast_grad(gb, (b2.shape, b.dtype)), list(b.shape))
        return ga, gb


# ---- the ops ------------------------------------------------------------------------------------------

def _reduction(cfn, fn_cls):
    apply = fn_cls.apply

    def op(x, dims=None, keepdim=False):
        if _Mode.enabled and type(x) is Tensor and x._requires_grad:
            return apply(x, dims, keepdim)
        return cfn(x, dims, keepdim)
    return op


sum = _reduction(_C.sum, Sum)
mean = _reduction(_C.mean, Mean)
prod = _reduction(_C.prod, Prod)
logsumexp = _reduction(_C.logsumexp, LogSumExp)


def amax(x, dims=None, keepdim=False):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return AMax.apply(x, dims, keepdim, _C.amax)
    return _C.amax(x, dims, keepdim)


def amin(x, dims=None, keepdim=False):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return AMax.apply(x, dims, keepdim, _C.amin)
    return _C.amin(x, dims, keepdim)


def max_dim(x, dim, keepdim=False):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        values = ExtremeAlong.apply(x, dim, keepdim, _C.max_dim)
        return values, values._grad_fn.indices
    return _C.max_dim(x, dim, keepdim)


def min_dim(x, dim, keepdim=False):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        values = ExtremeAlong.apply(x, dim, keepdim, _C.min_dim)
        return values, values._grad_fn.indices
    return _C.min_dim(x, dim, keepdim)


def var(x, dims=None, correction=1, keepdim=False):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return Var.apply(x, dims, correction, keepdim, False)
    return _C.var(x, dims, correction, keepdim)


def std(x, dims=None, correction=1, keepdim=False):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return Var.apply(x, dims, correction, keepdim, True)
    return _C.std(x, dims, correction, keepdim)


def softmax(x, dim):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return Softmax.apply(x, dim)
    return _C.softmax(x, dim)


def log_softmax(x, dim):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return LogSoftmax.apply(x, dim)
    return _C.log_softmax(x, dim)


def matmul(a, b):
    if _Mode.enabled and ((type(a) is Tensor and a._requires_grad) or (type(b) is Tensor and b._requires_grad)):
        return MatMul.apply(a, b)
    return _C.matmul(a, b)
