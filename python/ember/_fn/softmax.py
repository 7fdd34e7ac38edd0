"""Differentiable softmax and log_softmax: one `_C` forward each, and a backward kernel that needs only
the forward's output (softmax: out * (g - sum(g * out)); log_softmax: g - exp(out) * sum(g))."""
from .. import _C
from .common import Function, _saved_output, needs_grad

__all__ = ["Softmax", "LogSoftmax", "softmax", "log_softmax"]


def _matching(grad, out):
    return grad if grad.dtype == out.dtype else _C.to_dtype(grad, out.dtype)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = _C.softmax(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(_saved_output(out))
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return _C.softmax_backward(_matching(grad, out), out, ctx.dim), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = _C.log_softmax(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(_saved_output(out))
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return _C.log_softmax_backward(_matching(grad, out), out, ctx.dim), None


def softmax(x, dim):
    """exp(x - max) / sum along dim; recorded for autograd when x requires grad."""
    return Softmax.apply(x, dim) if needs_grad(x) else _C.softmax(x, dim)


def log_softmax(x, dim):
    """(x - max) - log(sum(exp(x - max))) along dim; recorded for autograd when x requires grad."""
    return LogSoftmax.apply(x, dim) if needs_grad(x) else _C.log_softmax(x, dim)
