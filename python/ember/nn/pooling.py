"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d with PyTorch's arguments and repr, over the
functional forms (their errors name the layer)."""
from .._fn import pool as _pool
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


class MaxPool2d(Module):
    """The largest element of each kernel_size window, windows stride apart (default: kernel_size),
    over the input padded with -inf by `padding`, taps `dilation` apart; input (N, C, H, W) or
    (C, H, W). With return_indices, forward returns (out, indices), as MaxUnpool2d would take them."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        for what, value in (("kernel_size", kernel_size), ("padding", padding), ("dilation", dilation)):
            _pool.pair(value, what, "MaxPool2d")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return _pool.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                                self.return_indices, _name="MaxPool2d")

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean of each kernel_size window, windows stride apart (default: kernel_size), over the input
    padded with zeros by `padding`; count_include_pad counts the padding in the divisor, and
    divisor_override replaces the divisor. Input (N, C, H, W) or (C, H, W)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        for what, value in (("kernel_size", kernel_size), ("padding", padding)):
            _pool.pair(value, what, "AvgPool2d")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return _pool.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                self.count_include_pad, self.divisor_override, _name="AvgPool2d")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output_size (an int, or a pair whose None entries keep the input's
    size) whatever the input's size; output_size 1 is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return _pool.adaptive_avg_pool2d(input, self.output_size, _name="AdaptiveAvgPool2d")

    def extra_repr(self):
        return f"output_size={self.output_size}"
