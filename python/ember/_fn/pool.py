"""2-d pooling as graph nodes over `_C.max_pool2d`, `_C.avg_pool2d`, `_C.adaptive_avg_pool2d` and their
`_backward`s, and the ops that record them only when grad mode is on and the input requires grad.

Shapes: input (N, C, H, W) or, unbatched, (C, H, W); with channels_last=True (the Keras-style layout)
(N, H, W, C) or (H, W, C). Window arguments reach `_C` normalised to [along H, along W] lists (`pair`),
with the name of the op or layer that error messages name. Max pooling keeps only its int64 indices
for backward (not the input); the average poolings keep nothing but the input's shape.
"""
import numbers

from .. import _C
from .common import Function, Tensor, _Mode

__all__ = ["pair", "output_pair", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)  # NumPy integers too


def pair(value, what, name):
    """An int or a pair of ints as [h, w]; TypeError naming the argument otherwise."""
    if _is_int(value):
        return [int(value), int(value)]
    if isinstance(value, (tuple, list)):
        if len(value) == 1 and _is_int(value[0]):
            return [int(value[0]), int(value[0])]
        if len(value) == 2 and _is_int(value[0]) and _is_int(value[1]):
            return [int(value[0]), int(value[1])]
    raise TypeError(f"{name}: {what} must be an int or a pair of ints, got {value!r}")


def output_pair(output_size, input, channels_last, name):
    """adaptive pooling's output_size as [OH, OW]: an int, or a pair whose None entries keep the
    input's size along that dim."""
    if _is_int(output_size):
        return [int(output_size), int(output_size)]
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2 or not all(
            s is None or _is_int(s) for s in output_size):
        raise TypeError(f"{name}: output_size must be an int or a pair of ints (None keeps the input's size), "
                        f"got {output_size!r}")
    shape = input.shape
    if len(shape) not in (3, 4):  # a None cannot be resolved; _C names the expected shapes
        return [1 if s is None else int(s) for s in output_size]
    spatial = shape[-3:-1] if channels_last else shape[-2:]
    return [spatial[i] if s is None else int(s) for i, s in enumerate(output_size)]


def _check_input(x, name):
    if type(x) is not Tensor:
        raise TypeError(f"{name}: expected an ember.Tensor input, got {type(x).__name__}")


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode, channels_last, name):
        out, indices = _C.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, channels_last, name)
        ctx.indices = indices  # handed to the caller by max_pool2d, which then drops this reference
        ctx.save_for_backward(indices)  # the caller may write to them: backward checks their version
        ctx.input_shape = list(x.shape)
        ctx.channels_last = channels_last
        return out

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        grad = _C.max_pool2d_backward(g, indices, ctx.input_shape, ctx.channels_last)
        return grad, None, None, None, None, None, None, None


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, channels_last,
                name):
        ctx.args = (list(x.shape), kernel, stride, padding, ceil_mode, count_include_pad, divisor_override,
                    channels_last)
        return _C.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override,
                             channels_last, name)

    @staticmethod
    def backward(ctx, g):
        return (_C.avg_pool2d_backward(g, *ctx.args),) + (None,) * 8


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, output_size, channels_last, name):
        ctx.input_shape = list(x.shape)
        ctx.channels_last = channels_last
        return _C.adaptive_avg_pool2d(x, output_size, channels_last, name)

    @staticmethod
    def backward(ctx, g):
        return _C.adaptive_avg_pool2d_backward(g, ctx.input_shape, ctx.channels_last), None, None, None


def _stride(stride, kernel, name):
    """stride None (or empty, as PyTorch allows) is the kernel size."""
    if stride is None or (isinstance(stride, (tuple, list)) and not stride):
        return kernel
    return pair(stride, "stride", name)


# The ops, with torch.nn.functional's signatures; keyword-only: channels_last (inputs (N, H, W, C)) and
# _name, the layer that error messages name.

def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False, *,
               channels_last=False, _name="max_pool2d"):
    """2-d max pooling: the largest element of each window (the first of equal maxima, NaN over any
    number); with return_indices also the int64 flat index ih * W + iw of each one in its plane."""
    _check_input(input, _name)
    kernel = pair(kernel_size, "kernel_size", _name)
    args = (kernel, _stride(stride, kernel, _name), pair(padding, "padding", _name),
            pair(dilation, "dilation", _name), bool(ceil_mode), bool(channels_last), _name)
    if _Mode.enabled and input._requires_grad:
        out = MaxPool2d.apply(input, *args)
        node = out._grad_fn
        indices, node.indices = node.indices, None
        return (out, indices) if return_indices else out
    out, indices = _C.max_pool2d(input, *args)
    return (out, indices) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, *, channels_last=False, _name="avg_pool2d"):
    """2-d average pooling; padding counts in the divisor when count_include_pad, and
    divisor_override (a non-zero int) replaces every window's divisor."""
    _check_input(input, _name)
    kernel = pair(kernel_size, "kernel_size", _name)
    if divisor_override is not None:
        if not _is_int(divisor_override):
            raise TypeError(f"{_name}: divisor_override must be None or an int, got {divisor_override!r}")
        divisor_override = int(divisor_override)
    args = (kernel, _stride(stride, kernel, _name), pair(padding, "padding", _name), bool(ceil_mode),
            bool(count_include_pad), divisor_override, bool(channels_last), _name)
    if _Mode.enabled and input._requires_grad:
        return AvgPool2d.apply(input, *args)
    return _C.avg_pool2d(input, *args)


def adaptive_avg_pool2d(input, output_size, *, channels_last=False, _name="adaptive_avg_pool2d"):
    """2-d average pooling to output_size (an int or a pair; None keeps the input's size): output
    position i averages input positions floor(i * H / OH) to ceil((i + 1) * H / OH) - 1."""
    _check_input(input, _name)
    size = output_pair(output_size, input, channels_last, _name)
    if _Mode.enabled and input._requires_grad:
        return AdaptiveAvgPool2d.apply(input, size, bool(channels_last), _name)
    return _C.adaptive_avg_pool2d(input, size, bool(channels_last), _name)
