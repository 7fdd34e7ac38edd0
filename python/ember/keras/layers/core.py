"""Core layers: Dense, Activation, Dropout, Flatten, Reshape.

Dense keeps Keras's kernel layout (in, out) and runs as one graph node over the fused linear kernel:
forward `_C.linear(x, kernel^T, bias)` (kernel^T is a strided view, no copy), backward
dx and dbias from `_C.linear_backward` and dkernel = x^T @ dy, computed directly in the (in, out)
layout so that the optimizer gets a contiguous gradient (by a second `_C.linear_backward` call with
the roles of x and dy swapped). A relu, tanh or sigmoid activation is fused into the forward
kernel (the GEMM applies it as each output tile is final) and its derivative, taken from the saved
output, into the same backward node.
"""
import math

from ... import _C
from ..._fn.common import Function, _Mode, _saved_output
from ..._fn.linear import weight_grad_into
from ...nn import functional as F
from .. import activations, constraints, initializers, regularizers
from .base import Layer
from .utils import InputSpec

Tensor = _C.Tensor

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape"]


class _DenseFunction(Function):
    """y = x @ kernel + bias; x (..., in), kernel (in, out), bias (out,) or None. Subclasses fuse an
    activation (class attribute `activation`, its backward kernel `activation_backward`)."""
    activation = None
    activation_backward = None
    _accumulates_weight = True

    @classmethod
    def forward(cls, ctx, x, kernel, bias):
        weight = _C.transpose(kernel, 0, 1)  # the (out, in) view the linear kernels take; backward reuses it
        y = _C.linear(x, weight, bias, cls.activation)
        ctx.save_for_backward(x, weight, None if cls.activation is None else _saved_output(y))
        ctx.kernel = kernel  # a view of the same memory as weight: weight's in-place check covers it
        return y

    @classmethod
    def backward(cls, ctx, grad):
        x, weight, y = ctx.saved_tensors
        if y is not None:
            grad = cls.activation_backward(grad, y)
        need_x, need_kernel, need_bias = ctx.needs_input_grad
        grad_x = grad_kernel = grad_bias = None
        if need_x or need_bias:
            grad_x, _, grad_bias = _C.linear_backward(grad, x, weight, need_x, False, need_bias)
        if need_kernel:
            # x^T @ dy in one call: the weight gradient of the linear map dy -> dy @ kernel^T, whose
            # "input" is dy and whose output gradient is x (leading dims flattened inside)
            into = weight_grad_into(ctx)
            grad_kernel = _C.linear_backward(x, grad, ctx.kernel, False, True, False, None, None, into)[1]
            if into is not None:
                grad_kernel = into  # the object itself: the pass sees it as accumulated already
        return grad_x, grad_kernel, grad_bias


class _DenseRelu(_DenseFunction):
    activation = "relu"
    activation_backward = staticmethod(_C.relu_backward)


class _DenseTanh(_DenseFunction):
    activation = "tanh"
    activation_backward = staticmethod(_C.tanh_backward)


class _DenseSigmoid(_DenseFunction):
    activation = "sigmoid"
    activation_backward = staticmethod(_C.sigmoid_backward)


_FUSED = {None: _DenseFunction, "relu": _DenseRelu, "tanh": _DenseTanh, "sigmoid": _DenseSigmoid}


def _fused_name(fn):
    """The kernel's name for a Keras activation it fuses (relu as Dense calls it: default arguments),
    else None. By identity: any other callable, hashable or not, runs on its own."""
    if fn is activations.relu:
        return "relu"
    if fn is activations.tanh:
        return "tanh"
    if fn is activations.sigmoid:
        return "sigmoid"
    return None


def dense(x, kernel, bias=None, activation=None):
    """activation(x @ kernel + bias) with kernel in Keras's (in, out) layout; activation None or one
    of "relu", "tanh", "sigmoid"."""
    if _Mode.enabled and (x._requires_grad or kernel._requires_grad or (bias is not None and bias._requires_grad)):
        return _FUSED[activation].apply(x, kernel, bias)
    return _C.linear(x, _C.transpose(kernel, 0, 1), bias, activation)


def activation_name(fn):
    """The name of an activation function for messages and model.output_activation_name; None for
    the identity."""
    if fn is None or fn is activations.linear:
        return None
    return activations._name_of(fn) or getattr(fn, "__name__", None)


class _ActivationMixin:
    """The `activation` attribute of layers that apply one: the function, plus `_activation_fn`
    (None for linear, so the call path skips it)."""

    @property
    def activation(self):
        return self._activation

    @activation.setter
    def activation(self, value):
        fn = activations.get(value)
        object.__setattr__(self, "_activation", fn)
        object.__setattr__(self, "_activation_fn", None if fn is activations.linear else fn)


class Dense(_ActivationMixin, Layer):
    """activation(inputs @ kernel + bias): inputs (..., input_dim) -> (..., units); kernel (input_dim, units)."""
    _casts_integer_input = True  # computes in float: integer inputs are cast (Layer._convert_input)
    _leaf = True
    supports_masking = True  # an input mask passes on to the output, as in Keras

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units}")
        self.units = units
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.kernel = self.bias = None

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"The last dimension of the inputs to a Dense layer should be defined. Found None. Full "
                             f"input shape received: {tuple(input_shape)}")
        self.kernel = self.add_weight(shape=(input_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint, name="bias")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs):
        act = self._activation_fn
        fused = _fused_name(act)
        if act is None or fused is not None:
            return dense(inputs, self.kernel, self.bias, fused)
        return act(dense(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


class Activation(_ActivationMixin, Layer):
    """Applies an activation function, by name or callable."""
    _casts_integer_input = True  # computes in float: integer inputs are cast (Layer._convert_input)
    _leaf = True
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation

    def call(self, inputs):
        return self._activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """In training, zeroes each input element with probability `rate` and scales the others by
    1 / (1 - rate); the identity in inference. noise_shape (None entries take the input's size)
    shares one keep/drop decision along the dims where it is 1. Without a seed, draws come from
    ember's global generator (ember.manual_seed); with `seed`, from the layer's own stream of that
    seed (as Keras's SeedGenerator), so two layers made with one seed drop the same elements call
    after call, whatever else draws in between."""
    _casts_integer_input = True  # computes in float: integer inputs are cast (Layer._convert_input)
    _leaf = True
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                             f"Received: rate={rate}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"Dropout: seed must be a non-negative int or None, got {seed!r}")
        self.seed = seed
        self._next_block = 0  # the layer's position in its seed's stream (4 draws per block)
        self.built = True

    def _stream(self, count):
        """(seed, first block) for `count` draws from the layer's own seeded stream, advancing it."""
        first = self._next_block
        self._next_block += -(-count // 4)
        return self.seed, first

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        if self.noise_shape is None:
            if self.seed is None or not inputs.dtype.is_floating_point:
                return F.dropout(inputs, self.rate)  # (a non-float input: raises the error naming its dtype)
            return F._DropoutFunction.apply(inputs, self.rate, *self._stream(inputs.numel()))
        shape = [inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape)]
        if self.seed is None:
            keep = _C.rand(shape, inputs.dtype, None) >= self.rate
        else:
            keep = _C.dropout(_C.full(shape, 1.0, inputs.dtype, None), self.rate, *self._stream(math.prod(shape)))[1]
        return inputs * (keep.to(inputs.dtype) * (1.0 / (1.0 - self.rate)) if self.rate < 1 else keep.to(inputs.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
                       "seed": self.seed})
        return config


def _known_product(dims):
    return None if any(d is None for d in dims) else math.prod(dims)


class Flatten(Layer):
    """(batch, ...) -> (batch, prod(...)), in channels-last (H, W, C) order: a channels_first input is
    transposed to channels last first, as Keras does."""
    _leaf = True

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self.built = True

    def call(self, inputs):
        shape = inputs.shape
        if self.data_format == "channels_first" and len(shape) > 2:
            inputs = inputs.permute(0, *range(2, len(shape)), 1)
        return inputs.reshape(shape[0], math.prod(shape[1:]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _known_product(input_shape[1:]))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """(batch, ...) -> (batch, *target_shape); one entry of target_shape may be -1 (inferred)."""
    _leaf = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise ValueError(f"Reshape: target_shape must be a tuple of ints, got {target_shape!r}") from None
        if sum(d == -1 for d in target) > 1 or any(d < -1 for d in target):
            raise ValueError(f"There must be at most one unknown dimension (-1) in target_shape, and no other negative "
                             f"size. Received: target_shape={target}")
        self.target_shape = target
        self.built = True

    def _resolve(self, input_shape):
        """target_shape with its -1 filled in for an input shape (None while the input size is unknown)."""
        size = _known_product(input_shape[1:])
        target = self.target_shape
        unchanged = f"Reshape: the total size of the tensor must be unchanged: input_shape={tuple(input_shape)}"
        known = math.prod(d for d in target if d != -1)
        if -1 not in target:
            if size is not None and size != known:
                raise ValueError(f"{unchanged} has {size} elements per sample, target_shape={target} has {known}")
            return target
        if size is None:
            return tuple(None if d == -1 else d for d in target)
        if known == 0 or size % known:
            raise ValueError(f"{unchanged} has {size} elements per sample, which target_shape={target} cannot hold "
                             f"(not a multiple of {known})")
        return tuple(size // known if d == -1 else d for d in target)

    def call(self, inputs):
        shape = inputs.shape
        return inputs.reshape((shape[0],) + self._resolve(shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(input_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


def _data_format(value):
    if value is None:
        return "channels_last"
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                         f"Received: data_format={value!r}")
    return value
