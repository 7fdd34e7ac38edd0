"""2-d pooling layers with Keras's arguments over ember's pooling kernels.

padding='valid': windows inside the input only, output = floor((in - pool) / stride) + 1.
padding='same' (TensorFlow's rule): output = ceil(in / stride), the input padded by
total = max((out - 1) * stride + pool - in, 0), total // 2 before and the rest after; padding never
counts: a max ignores it, an average divides by the number of input elements in its window. The
kernels take one symmetric padding per dim, so an odd total is reached by one of:
  - symmetric padding of total // 2 with ceil_mode, whose extra last window is clipped at the
    input's end (exactly the missing 'after' element), when that gives the output size;
  - otherwise (stride 1, or an input smaller than the window) explicit padding: the input
    concatenated with -inf (max) or zeros (average, then rescaled by pool_area / elements counted).
"""
import numpy as np

from ... import _C
from ... import functional_ops as _ops
from ..._fn import pool as _pool
from .base import Layer
from .utils import InputSpec
from .conv import normalize_tuple, same_padding
from .core import _data_format

__all__ = ["MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "pool_output_length"]


def pool_output_length(size, pool, padding, stride):
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    return max((size - pool) // stride + 1, 0)


def _plan(size, pool, stride):
    """How to reach 'same' along one dim: ('kernel', padding, ceil_mode) or ('explicit', before, after)."""
    before, after = same_padding(size, pool, stride)
    if before == after:
        return ("kernel", before, False)
    out = -(-size // stride)
    if size + 2 * before >= pool:
        ceil_out = -(-(size + 2 * before - pool) // stride) + 1
        if (ceil_out - 1) * stride >= size + before:  # a last window may not start in the padding after the input
            ceil_out -= 1
        if ceil_out == out:
            return ("kernel", before, True)
    return ("explicit", before, after)


class _Pooling2D(Layer):
    _casts_integer_input = True  # computes in float: integer inputs are cast (Layer._convert_input)
    _leaf = True
    _kind = None  # "max" or "avg"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, 2, "strides")
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in ("valid", "same"):
            raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding!r}")
        self.padding = padding
        self.data_format = _data_format(data_format)
        self._channels_last = self.data_format == "channels_last"
        self.input_spec = InputSpec(ndim=4)
        self._plans = {}
        self.built = True

    def _plan_for(self, height, width, dtype):
        key = (height, width, dtype)
        plan = self._plans.get(key)
        if plan is None:
            if self.padding == "valid":
                plan = ([0, 0], False, None, None)
            else:
                dims = [_plan(n, p, s) for n, p, s in zip((height, width), self.pool_size, self.strides)]
                if all(d[0] == "kernel" for d in dims):
                    plan = ([dims[0][1], dims[1][1]], dims[0][2] or dims[1][2], None, None)
                else:
                    pads = [same_padding(n, p, s) for n, p, s in zip((height, width), self.pool_size, self.strides)]
                    plan = ([0, 0], False, pads, self._average_scale(height, width, pads, dtype))
            self._plans[key] = plan
        return plan

    def _average_scale(self, height, width, pads, dtype):
        """pool_area / (input elements in each window): turns an average over the zero-padded input
        into one over the input elements only (None for max pooling)."""
        if self._kind != "avg":
            return None
        counts = []
        for size, pool, stride, (before, _) in zip((height, width), self.pool_size, self.strides, pads):
            starts = np.arange(-(-size // stride)) * stride - before
            counts.append(np.minimum(starts + pool, size) - np.maximum(starts, 0))
        scale = self.pool_size[0] * self.pool_size[1] / np.outer(counts[0], counts[1])
        if self._channels_last:
            scale = scale[:, :, None]
        return _C.from_numpy(np.asarray(scale, dtype=np.float64, order="C")).to(dtype)

    def _pad(self, x, pads):
        fill = float("-inf") if self._kind == "max" else 0.0
        h_axis, w_axis = (1, 2) if self._channels_last else (2, 3)
        for axis, (before, after) in ((h_axis, pads[0]), (w_axis, pads[1])):
            pieces = []
            for amount in (before, after):
                shape = list(x.shape)
                shape[axis] = amount
                pieces.append(_C.full(shape, fill, x.dtype, None) if amount else None)
            parts = [p for p in (pieces[0], x, pieces[1]) if p is not None]
            if len(parts) > 1:
                x = _ops.cat(parts, axis)
        return x

    def call(self, inputs):
        shape = inputs.shape
        height, width = (shape[1], shape[2]) if self._channels_last else (shape[2], shape[3])
        padding, ceil_mode, explicit, scale = self._plan_for(height, width, inputs.dtype)
        if explicit is not None:
            inputs = self._pad(inputs, explicit)
        if self._kind == "max":
            out = _pool.max_pool2d(inputs, self.pool_size, self.strides, padding, 1, ceil_mode,
                                   channels_last=self._channels_last, _name=self.name)
        else:
            out = _pool.avg_pool2d(inputs, self.pool_size, self.strides, padding, ceil_mode, False,
                                   channels_last=self._channels_last, _name=self.name)
        return out if scale is None else out * scale

    def compute_output_shape(self, input_shape):
        spatial = input_shape[1:3] if self._channels_last else input_shape[2:4]
        out = tuple(pool_output_length(n, p, self.padding, s) for n, p, s in zip(spatial, self.pool_size, self.strides))
        if self._channels_last:
            return (input_shape[0],) + out + (input_shape[3],)
        return (input_shape[0], input_shape[1]) + out

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": list(self.pool_size), "strides": list(self.strides), "padding": self.padding,
                       "data_format": self.data_format})
        return config


class MaxPooling2D(_Pooling2D):
    """The largest value of each pool_size window, windows `strides` apart (default: pool_size)."""
    _kind = "max"


class AveragePooling2D(_Pooling2D):
    """The mean of each pool_size window (over input elements only, padding excluded)."""
    _kind = "avg"


class _GlobalPooling2D(Layer):
    _casts_integer_input = True  # computes in float: integer inputs are cast (Layer._convert_input)
    _leaf = True

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.keepdims = bool(keepdims)
        self._axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        self.input_spec = InputSpec(ndim=4)
        self.built = True

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return tuple(1 if i in self._axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in self._axes)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean over the spatial dims: (batch, H, W, C) -> (batch, C) ((batch, 1, 1, C) with keepdims)."""

    def call(self, inputs):
        return inputs.mean(self._axes, keepdim=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The maximum over the spatial dims."""

    def call(self, inputs):
        return inputs.amax(self._axes, keepdim=self.keepdims)
