"""Conv2D with Keras's arguments over ember's convolution kernels.

The kernel has Keras's layout (kh, kw, in / groups, filters), which is also the weight layout of
ember's channels-last convolution, so the default data_format='channels_last' passes it to the
kernel as it is; 'channels_first' passes a (filters, in / groups, kh, kw) view of it.

padding='same' is TensorFlow's rule (Keras's on every backend): output = ceil(input / stride) and
the padding needed for it, total = max((out - 1) * stride + dilation * (k - 1) + 1 - input, 0), is
split with the odd element after (bottom / right), which ember's kernel takes as four sides.
"""
import numbers

from ..._fn.conv import conv as _conv
from .. import activations, constraints, initializers, regularizers
from .base import Layer
from .utils import InputSpec
from .core import _ActivationMixin, _data_format

__all__ = ["Conv2D", "normalize_tuple", "same_padding", "conv_output_length"]


def normalize_tuple(value, n, name, allow_zero=False):
    """An int or a sequence of n ints, as a tuple of n positive (or, allow_zero, non-negative) ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            values = None
        if values is None or len(values) != n:
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r}")
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} {'non-negative' if allow_zero else 'positive'} "
                         f"integers. Received {name}={value!r}")
    return values


def same_padding(size, kernel, stride, dilation=1):
    """(before, after) padding of TensorFlow's 'same' rule along one dim."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def conv_output_length(size, kernel, padding, stride, dilation=1):
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    return max((size - dilation * (kernel - 1) - 1) // stride + 1, 0)


class Conv2D(_ActivationMixin, Layer):
    """2-d convolution: inputs (batch, H, W, C) (or (batch, C, H, W) with data_format='channels_first')
    -> (batch, OH, OW, filters); kernel (kh, kw, C / groups, filters), bias (filters,)."""
    _casts_integer_input = True  # computes in float: integer inputs are cast (Layer._convert_input)
    _leaf = True

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0 or filters % groups:
            raise ValueError(f"The number of filters must be evenly divisible by the number of groups. Received: "
                             f"groups={groups}, filters={filters}.")
        self.filters, self.groups = filters, groups
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in ("valid", "same"):
            raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding!r}")
        self.padding = padding
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.data_format = _data_format(data_format)
        self._channels_last = self.data_format == "channels_last"
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=4)
        self.kernel = self.bias = None
        self._paddings = {}  # (H, W) -> the kernel's padding list for that input size

    def build(self, input_shape):
        axis = -1 if self._channels_last else 1
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs to Conv2D should be defined. Found None in input "
                             f"shape {tuple(input_shape)}")
        if channels % self.groups:
            raise ValueError(f"The number of input channels must be evenly divisible by the number of groups. Received "
                             f"groups={self.groups}, but the input has {channels} channels (full input shape is "
                             f"{tuple(input_shape)}).")
        self.kernel = self.add_weight(shape=self.kernel_size + (channels // self.groups, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint, name="bias")
        self.input_spec = InputSpec(ndim=4, axes={axis: channels})
        self.built = True

    def _padding_for(self, height, width):
        padding = self._paddings.get((height, width))
        if padding is None:
            if self.padding == "valid":
                padding = [0, 0]
            else:
                (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
                padding = [*same_padding(height, kh, sh, dh), *same_padding(width, kw, sw, dw)]
            self._paddings[(height, width)] = padding
        return padding

    def call(self, inputs):
        shape = inputs.shape
        if self._channels_last:
            padding = self._padding_for(shape[1], shape[2])
            weight = self.kernel
        else:
            padding = self._padding_for(shape[2], shape[3])
            weight = self.kernel.permute(3, 2, 0, 1)
        out = _conv(inputs, weight, self.bias, 2, list(self.strides), padding, list(self.dilation_rate), self.groups,
                    self._channels_last)
        act = self._activation_fn
        return out if act is None else act(out)

    def compute_output_shape(self, input_shape):
        spatial = input_shape[1:3] if self._channels_last else input_shape[2:4]
        out = tuple(conv_output_length(size, k, self.padding, s, d)
                    for size, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))
        if self._channels_last:
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": list(self.kernel_size), "strides": list(self.strides),
            "padding": self.padding, "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
            "groups": self.groups, "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config

