"""linear(x, W, b) = x @ W^T + b as one graph node (instead of transpose, matmul and add): the layer
that dominates MLP training gets one forward GEMM and, in backward, two GEMMs and one column sum
with no transposed copy (the GEMM reads transposed operands through their strides).

Shapes: x (..., in_features), W (out_features, in_features), b (out_features,) -> (..., out_features).
"""
from .. import _C
from .common import Function, Tensor, _Mode


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        out = _C.matmul(x, _C.transpose(weight, 0, 1))
        if bias is not None:
            _C.add_(out, bias)
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        out_features, in_features = weight.shape
        g2 = _C.reshape(g, [-1, out_features])
        gx = gw = gb = None
        if need[0]:
            gx = _C.reshape(_C.matmul(g2, weight), list(x.shape))
        if need[1]:
            gw = _C.matmul(_C.transpose(g2, 0, 1), _C.reshape(x, [-1, in_features]))
        if need[2]:
            gb = _C.sum(g2, [0], False)
        return gx, gw, gb


def _check(x, weight, bias):
    if type(x) is not Tensor or type(weight) is not Tensor:
        raise TypeError(f"linear: input and weight must be ember tensors, got {type(x).__name__} and "
                        f"{type(weight).__name__}")
    wshape = weight.shape
    if len(wshape) != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape {wshape}")
    xshape = x.shape
    if xshape and xshape[-1] == wshape[1] and (bias is None or (type(bias) is Tensor and bias.shape == wshape[:1])):
        return
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) but weight "
                         f"expects {weight.shape[1]} (shape {weight.shape})")
    if bias is not None and (type(bias) is not Tensor or bias.shape != (weight.shape[0],)):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},) to match weight {weight.shape}, got "
                         f"{getattr(bias, 'shape', type(bias).__name__)}")


def linear(x, weight, bias=None):
    """x @ weight^T + bias, as torch.nn.functional.linear."""
    _check(x, weight, bias)
    if _Mode.enabled and (x._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)):
        return Linear.apply(x, weight, bias)
    out = _C.matmul(x, _C.transpose(weight, 0, 1))
    if bias is not None:
        _C.add_(out, bias)
    return out
