"""Convolution (1-d and 2-d) as one graph node over two kernels, `_C.conv{1,2}d` and
`_C.conv{1,2}d_backward` (only the gradients asked for), in either memory layout.

Shapes (groups g; `channels_last` picks the second form):
  conv2d: x (N, C_in, H, W), weight (C_out, C_in / g, kh, kw)  or  x (N, H, W, C_in), weight (kh, kw, C_in / g, C_out)
  conv1d: x (N, C_in, L),    weight (C_out, C_in / g, k)       or  x (N, L, C_in),    weight (k, C_in / g, C_out)
An unbatched input (the same without N) gives an unbatched output, as in PyTorch.

`conv` takes its geometry already as lists of ints (what the modules pass); `conv1d` / `conv2d`
take PyTorch's arguments (ints or tuples, padding 'valid' or 'same') and turn them into those lists.
"""
from .. import _C
from .common import Function, Tensor, _Mode

_KERNELS = {1: (_C.conv1d, _C.conv1d_backward), 2: (_C.conv2d, _C.conv2d_backward)}


class Conv(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, spatial, stride, padding, dilation, groups, channels_last):
        ctx.save_for_backward(x, weight)
        ctx.geometry = (spatial, stride, padding, dilation, groups, channels_last)
        forward, _ = _KERNELS[spatial]
        if x.ndim == spatial + 1:  # unbatched
            return _C.squeeze(forward(_C.unsqueeze(x, 0), weight, bias, stride, padding, dilation, groups,
                                      channels_last), [0])
        return forward(x, weight, bias, stride, padding, dilation, groups, channels_last)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        spatial, stride, padding, dilation, groups, channels_last = ctx.geometry
        need = ctx.needs_input_grad
        _, backward = _KERNELS[spatial]
        unbatched = x.ndim == spatial + 1
        if unbatched:
            x, g = _C.unsqueeze(x, 0), _C.unsqueeze(g, 0)
        gx, gw, gb = backward(g, x, weight, stride, padding, dilation, groups, channels_last, need[0], need[1],
                              need[2])
        if unbatched and gx is not None:
            gx = _C.squeeze(gx, [0])
        return gx, gw, gb, None, None, None, None, None, None


def conv(x, weight, bias, spatial, stride, padding, dilation, groups, channels_last=False):
    """The convolution with its geometry as lists: stride and dilation one int per spatial dim,
    padding one per dim (both sides) or two (before, after)."""
    if _Mode.enabled and (x._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)):
        return Conv.apply(x, weight, bias, spatial, stride, padding, dilation, groups, channels_last)
    forward, _ = _KERNELS[spatial]
    if x.ndim == spatial + 1:
        return _C.squeeze(forward(_C.unsqueeze(x, 0), weight, bias, stride, padding, dilation, groups,
                                  channels_last), [0])
    return forward(x, weight, bias, stride, padding, dilation, groups, channels_last)


# ---- PyTorch's arguments -------------------------------------------------------------------------------

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def expand_param(value, n, name, op):
    """An int, or a sequence of 1 or n ints, as a list of n ints."""
    if _is_int(value):
        return [value] * n
    if isinstance(value, (tuple, list)) and len(value) in (1, n) and all(_is_int(v) for v in value):
        return list(value) * (n // len(value))
    raise ValueError(f"{op}: expected {name} to be an int or a tuple of {n} ints, got {value!r}")


def explicit_padding(padding, kernel_size, stride, dilation, op):
    """padding (an int, ints per dim, 'valid' or 'same') as a list of ints for `conv`: one per dim, or
    (before, after) per dim when 'same' needs more on one side (an even span d * (k - 1) is split
    equally, an odd one puts the extra position after, as PyTorch does)."""
    n = len(kernel_size)
    if not isinstance(padding, str):
        return expand_param(padding, n, "padding", op)
    if padding == "valid":
        return [0] * n
    if padding != "same":
        raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of 'valid', 'same' or ints")
    if any(s != 1 for s in stride):
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride {tuple(stride)}); "
                         "use stride=1 or explicit padding")
    spans = [d * (k - 1) for d, k in zip(dilation, kernel_size)]
    if all(s % 2 == 0 for s in spans):
        return [s // 2 for s in spans]
    return [p for s in spans for p in (s // 2, s - s // 2)]


def _check_tensors(op, input, weight, bias):
    for name, t in (("input", input), ("weight", weight)):
        if type(t) is not Tensor:
            raise TypeError(f"{op}: expected {name} to be an ember.Tensor, got {type(t).__name__}")
    if bias is not None and type(bias) is not Tensor:
        raise TypeError(f"{op}: expected bias to be an ember.Tensor or None, got {type(bias).__name__}")


def _layouts(spatial, channels_last):
    """How the input and weight dims are named in messages."""
    dims, kernel = ("L", "k") if spatial == 1 else ("H, W", "kh, kw")
    if channels_last:
        return f"(N, {dims}, C_in)", f"({kernel}, C_in / groups, C_out)"
    return f"(N, C_in, {dims})", f"(C_out, C_in / groups, {kernel})"


def _conv_nd(op, spatial, input, weight, bias, stride, padding, dilation, groups, channels_last):
    _check_tensors(op, input, weight, bias)
    input_layout, weight_layout = _layouts(spatial, channels_last)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-d (unbatched) or {spatial + 2}-d input {input_layout}, got "
                         f"shape {input.shape}")
    if not _is_int(groups):
        raise TypeError(f"{op}: expected groups to be an int, got {groups!r}")
    stride = expand_param(stride, spatial, "stride", op)
    dilation = expand_param(dilation, spatial, "dilation", op)
    if weight.ndim != spatial + 2:
        raise ValueError(f"{op}: expected a {spatial + 2}-d weight {weight_layout}, got shape {weight.shape}")
    kernel = weight.shape[:spatial] if channels_last else weight.shape[2:]
    padding = explicit_padding(padding, kernel, stride, dilation, op)
    return conv(input, weight, bias, spatial, stride, padding, dilation, groups, channels_last)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, channels_last=False):
    """2-d convolution (cross-correlation) with torch.nn.functional.conv2d's arguments; channels_last
    takes x (N, H, W, C_in) and weight (kh, kw, C_in / groups, C_out) instead."""
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups, channels_last)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, channels_last=False):
    """1-d convolution with torch.nn.functional.conv1d's arguments; channels_last takes x (N, L, C_in)
    and weight (k, C_in / groups, C_out) instead."""
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups, channels_last)
