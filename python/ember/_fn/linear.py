"""linear(x, W, b) = x @ W^T + b as one graph node (instead of transpose, matmul and add) over two
kernels, `_C.linear` (GEMM with the bias added in the same call) and `_C.linear_backward` (two GEMMs
and a column sum, only those asked for): the layer that dominates MLP training costs one C++ call
each way.

Shapes: x (..., in_features), W (out_features, in_features), b (out_features,) -> (..., out_features).
"""
from .. import _C
from .common import Function, Tensor, _Mode


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return _C.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        return _C.linear_backward(g, x, weight, need[0], need[1], need[2])


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
    return _C.linear(x, weight, bias)
