"""Normalization ops as graph nodes over ember's C++ kernels: batch norm (`_C.batch_norm` /
`_C.batch_norm_backward`, NCHW or channels-last), layer norm (`_C.layer_norm` /
`_C.layer_norm_backward`), and channel dropout (dropout2d), whose keep-mask of one value per channel
comes from `_C.dropout` and is applied by a broadcasting multiply (the graph records the multiply).

Shapes: batch_norm x (N, C, *), or (*, C) with channels_last; weight, bias, running statistics (C,).
layer_norm x (*, normalized_shape); weight, bias normalized_shape. dropout2d x (N, C, H, W) or
(C, H, W), or the same with the channels last.
"""
import numbers

from .. import _C
from .common import Function, Tensor, _Mode

__all__ = ["BatchNorm", "LayerNorm", "batch_norm", "layer_norm", "dropout2d"]


class BatchNorm(Function):
    """Batch statistics in training (and the running statistics updated in place), the running
    statistics in eval; backward uses whichever the forward normalised with."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps, channels_last):
        out, mean, invstd = _C.batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps,
                                          channels_last)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.training = training
        ctx.channels_last = channels_last
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight, mean, invstd = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx, dw, db = _C.batch_norm_backward(g, x, weight, mean, invstd, ctx.training, ctx.channels_last, need[0],
                                            need[1], need[2])
        return dx, dw, db, None, None, None, None, None, None


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, normalized_shape, weight, bias, eps):
        out, mean, rstd = _C.layer_norm(x, normalized_shape, weight, bias, eps)
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.normalized_shape = normalized_shape
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight, mean, rstd = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx, dw, db = _C.layer_norm_backward(g, x, ctx.normalized_shape, weight, mean, rstd, need[0], need[2], need[3])
        return dx, None, dw, db, None


def _check_tensors(op, x, **optional):
    if type(x) is not Tensor:
        raise TypeError(f"{op}: expected an ember.Tensor input, got {type(x).__name__}")
    for name, t in optional.items():
        if t is not None and type(t) is not Tensor:
            raise TypeError(f"{op}: {name} must be an ember.Tensor or None, got {type(t).__name__}")


def _check_number(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a float, got {value!r}")
    return float(value)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
               *, channels_last=False):
    """Normalises each channel of input (N, C, *) by its batch statistics (training) or by
    running_mean / running_var (eval), then scales by weight and shifts by bias, as
    torch.nn.functional.batch_norm. In training, running_mean / running_var (when given) are updated in
    place: running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance.
    channels_last=True: the channels are input's last dim (N, H, W, C)."""
    _check_tensors("batch_norm", input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    momentum = _check_number("batch_norm", "momentum", momentum)
    eps = _check_number("batch_norm", "eps", eps)
    training = bool(training)
    if _Mode.enabled and (input._requires_grad or (weight is not None and weight._requires_grad)
                          or (bias is not None and bias._requires_grad)):
        return BatchNorm.apply(input, weight, bias, running_mean, running_var, training, momentum, eps,
                               bool(channels_last))
    return _C.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
                         bool(channels_last))[0]


def _shape_list(op, normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return [int(normalized_shape)]
    try:
        dims = list(normalized_shape)
    except TypeError:
        raise TypeError(f"{op}: normalized_shape must be an int or a sequence of ints, got "
                        f"{normalized_shape!r}") from None
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in dims):
        raise TypeError(f"{op}: normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}")
    return [int(d) for d in dims]


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises input over its trailing dims normalized_shape (each row by its own mean and biased
    variance), then scales by weight and shifts by bias (both of normalized_shape), as
    torch.nn.functional.layer_norm."""
    _check_tensors("layer_norm", input, weight=weight, bias=bias)
    shape = _shape_list("layer_norm", normalized_shape)
    eps = _check_number("layer_norm", "eps", eps)
    if _Mode.enabled and (input._requires_grad or (weight is not None and weight._requires_grad)
                          or (bias is not None and bias._requires_grad)):
        return LayerNorm.apply(input, shape, weight, bias, eps)
    return _C.layer_norm(input, shape, weight, bias, eps)[0]


def dropout2d(input, p=0.5, training=True, inplace=False, *, channels_last=False):
    """In training, zeroes whole channels of input (N, C, H, W), or unbatched (C, H, W), each with
    probability p, and scales the others by 1 / (1 - p); the identity when training is False.

    The keep-mask has one value per (sample, channel), drawn from ember's seeded generator. An unbatched
    3-d input is taken as (C, H, W), as nn.Dropout2d documents (PyTorch 2.x itself still treats a 3-d
    input as (N, C, L), with a deprecation warning). channels_last=True: (N, H, W, C) or (H, W, C)."""
    _check_tensors("dropout2d", input)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    shape = input.shape
    if len(shape) not in (3, 4):
        want = "4-d (N, H, W, C) or 3-d (H, W, C)" if channels_last else "4-d (N, C, H, W) or 3-d (C, H, W)"
        raise ValueError(f"dropout2d: expected a {want} input, got shape {shape}; use dropout for other shapes")
    if not training:
        return input
    if not input.dtype.is_floating_point:
        raise TypeError(f"dropout2d: expected a floating-point input, got {input.dtype}; convert it with .float()")
    if channels_last:
        mask_shape = [shape[0], 1, 1, shape[3]] if len(shape) == 4 else [1, 1, shape[2]]
    else:
        mask_shape = [shape[0], shape[1], 1, 1] if len(shape) == 4 else [shape[0], 1, 1]
    # 1 / (1 - p) where a channel is kept, 0 where it is dropped
    scaled_mask, _ = _C.dropout(_C.full(mask_shape, 1.0, input.dtype, input.device), float(p))
    if inplace:
        return input.mul_(scaled_mask)
    return input * scaled_mask
