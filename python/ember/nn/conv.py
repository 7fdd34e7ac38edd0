"""Convolution layers: Conv1d and Conv2d, with PyTorch's arguments, attributes, initialisation and
repr. Both run one graph node per call (ember._fn.conv) in PyTorch's layout, (N, C, L) / (N, C, H, W);
an unbatched input, (C, L) / (C, H, W), is accepted as in PyTorch. A padding_mode other than 'zeros'
pads a copy of the input first (an index_select per padded dim, as differentiable as the rest), then
convolves it without padding, as PyTorch does.
"""
import math

import numpy as np

from .. import _C
from .. import _dtype
from .._fn.conv import conv as _conv
from .._fn.conv import expand_param as _expand
from .._fn.conv import explicit_padding as _explicit_padding
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d"]

_PADDING_STRINGS = ("same", "valid")
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class _ConvNd(Module):
    """What Conv1d and Conv2d share; `_spatial` is their number of spatial dims."""
    _spatial = 0
    _dims = ""  # the spatial dims as messages name them

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, device, dtype):
        super().__init__()
        name, n = type(self).__name__, self._spatial
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not _is_int(value) or value < 0:
                raise ValueError(f"{name}: {arg} must be a non-negative int, got {value!r}")
        if not _is_int(groups) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups (in_channels={in_channels}, "
                             f"groups={groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels must be divisible by groups (out_channels={out_channels}, "
                             f"groups={groups})")
        kernel_size = tuple(_expand(kernel_size, n, "kernel_size", name))
        stride = tuple(_expand(stride, n, "stride", name))
        dilation = tuple(_expand(dilation, n, "dilation", name))
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of {_PADDING_STRINGS}")
            _explicit_padding(padding, kernel_size, stride, dilation, name)  # raises for 'same' with strides
        else:
            padding = tuple(_expand(padding, n, "padding", name))
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = False
        self.output_padding = (0,) * n
        self.groups = groups
        self.padding_mode = padding_mode
        self._pad_indices = {}  # (dim size, before, after) -> the index_select indices of a padded copy
        dtype = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype, name)
        self.weight = Parameter(_C.empty([out_channels, in_channels // groups, *kernel_size], dtype, device))
        if bias:
            self.bias = Parameter(_C.empty([out_channels], dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the bias the same bound
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input):
        if type(input) is not _C.Tensor:
            raise TypeError(f"{type(self).__name__}: expected an ember.Tensor input, got {type(input).__name__}")
        shape, n, c = input.shape, self._spatial, self.in_channels
        if (len(shape) == n + 2 and shape[1] == c) or (len(shape) == n + 1 and shape[0] == c):
            return
        expected = f"(N, {c}, {self._dims})"
        if len(shape) != n + 2:
            expected += f" or ({c}, {self._dims})"
        raise ValueError(f"{type(self).__name__}: expected input of shape {expected}, got {shape}")

    def _conv_forward(self, input, weight, bias):
        padding = self.padding
        if isinstance(padding, str):
            padding = _explicit_padding(padding, self.kernel_size, self.stride, self.dilation, type(self).__name__)
        if self.padding_mode != "zeros":
            input, padding = self._pad(input, padding), [0] * self._spatial
        return _conv(input, weight, bias, self._spatial, list(self.stride), list(padding), list(self.dilation),
                     self.groups)

    def _pad(self, input, padding):
        """input padded by `padding` (one int per spatial dim, or (before, after) per dim) in padding_mode."""
        n = self._spatial
        pairs = [(p, p) for p in padding] if len(padding) == n else list(zip(padding[::2], padding[1::2]))
        for d, (before, after) in enumerate(pairs):
            if before or after:
                dim = input.ndim - n + d
                input = input.index_select(dim, self._indices(input.shape[dim], before, after, dim))
        return input

    def _indices(self, size, before, after, dim):
        key = (size, before, after)
        index = self._pad_indices.get(key)
        if index is not None:
            return index
        mode, name = self.padding_mode, type(self).__name__
        if mode == "reflect" and max(before, after) >= size:
            raise ValueError(f"{name}: padding_mode='reflect' needs padding smaller than the input, but got padding "
                             f"({before}, {after}) for dim {dim} of size {size}")
        if mode == "circular" and max(before, after) > size:
            raise ValueError(f"{name}: padding_mode='circular' wraps around more than once: padding ({before}, "
                             f"{after}) for dim {dim} of size {size}")
        if mode == "reflect":
            positions = [-j if j < 0 else 2 * (size - 1) - j if j >= size else j for j in range(-before, size + after)]
        elif mode == "replicate":
            positions = [min(max(j, 0), size - 1) for j in range(-before, size + after)]
        else:  # circular
            positions = [j % size for j in range(-before, size + after)]
        index = self._pad_indices[key] = _C.from_numpy(np.array(positions, dtype=np.int64))
        return index

    def forward(self, input):
        self._check_input(input)
        return self._conv_forward(input, self.weight, self.bias)

    def extra_repr(self):
        n = self._spatial
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-d convolution over x (N, C_in, L) (or (C_in, L)): weight (out_channels, in_channels / groups,
    kernel_size), bias (out_channels,). padding: an int, a 1-tuple, 'valid' or 'same' (stride 1 only)."""
    _spatial = 1
    _dims = "L"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)


class Conv2d(_ConvNd):
    """2-d convolution over x (N, C_in, H, W) (or (C_in, H, W)): weight (out_channels,
    in_channels / groups, kh, kw), bias (out_channels,). kernel_size, stride, padding and dilation are
    ints or (h, w) pairs; padding may also be 'valid' or 'same' (stride 1 only; an even kernel gets the
    extra row and column at the bottom and right, as in PyTorch)."""
    _spatial = 2
    _dims = "H, W"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)
