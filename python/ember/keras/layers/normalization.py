"""BatchNormalization with Keras's semantics over ember's batch-norm kernels.

Training (training=True and the layer trainable): each channel is normalised by the batch mean and
the biased batch variance, out = gamma * (x - mean) / sqrt(var + epsilon) + beta, and the moving
statistics follow moving = moving * momentum + batch * (1 - momentum), with the same biased
variance (Keras's rule; PyTorch uses the unbiased one and the complementary momentum).
Inference: the moving statistics replace the batch ones. Defaults: momentum 0.99, epsilon 1e-3.

The kernel returns the batch mean and 1 / sqrt(var + epsilon) in float64, from which the biased
variance is recovered exactly enough for the moving average (float64 arithmetic on C values).
"""
from ... import _C
from ..._fn.common import Function, _Mode
from ..._fn.norm import batch_norm as _batch_norm
from ...autograd import no_grad
from .. import constraints, initializers, regularizers
from .base import Layer
from .utils import InputSpec

__all__ = ["BatchNormalization"]


class _BatchNormTraining(Function):
    """Normalisation by batch statistics; the node keeps them in `stats` for the layer to read once."""

    @staticmethod
    def forward(ctx, x, gamma, beta, epsilon, channels_last):
        out, mean, invstd = _C.batch_norm(x, gamma, beta, None, None, True, 0.0, epsilon, channels_last)
        ctx.save_for_backward(x, gamma, mean, invstd)
        ctx.channels_last = channels_last
        ctx.stats = (mean, invstd)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, gamma, mean, invstd = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx, dgamma, dbeta = _C.batch_norm_backward(grad, x, gamma, mean, invstd, True, ctx.channels_last, need[0],
                                                   need[1], need[2])
        return dx, dgamma, dbeta, None, None


def _batch_statistics_norm(x, gamma, beta, epsilon, channels_last):
    """(out, batch mean, batch invstd)."""
    if _Mode.enabled and (x._requires_grad or (gamma is not None and gamma._requires_grad)
                          or (beta is not None and beta._requires_grad)):
        out = _BatchNormTraining.apply(x, gamma, beta, epsilon, channels_last)
        node = out._grad_fn
        stats, node.stats = node.stats, None
        return (out,) + stats
    return _C.batch_norm(x, gamma, beta, None, None, True, 0.0, epsilon, channels_last)


class BatchNormalization(Layer):
    """Normalises each feature along `axis` (the channels, last by default) by batch statistics in
    training and by their moving averages in inference, then scales by gamma and shifts by beta."""
    _casts_integer_input = True  # computes in float: integer inputs are cast (Layer._convert_input)
    _leaf = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise ValueError(f"BatchNormalization: normalizing over several axes is not supported, got axis={axis}")
            axis = axis[0]
        self.axis = int(axis)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        if self.epsilon <= 0:
            raise ValueError(f"BatchNormalization: epsilon must be positive, got {epsilon}")
        self.center, self.scale = bool(center), bool(scale)
        self.synchronized = bool(synchronized)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def build(self, input_shape):
        ndim = len(input_shape)
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 0 <= axis < ndim or ndim < 2:
            raise ValueError(f"Invalid axis {self.axis} for BatchNormalization with an input of shape "
                             f"{tuple(input_shape)} (it needs at least 2 dims and an axis in [-{ndim}, {ndim}))")
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                             f"received an input with shape {tuple(input_shape)}.")
        shape = (channels,)
        if self.scale:
            self.gamma = self.add_weight(shape=shape, name="gamma", initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape=shape, name="beta", initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean", initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance",
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.input_spec = InputSpec(ndim=ndim, axes={axis: channels})
        # the kernels normalise the last dim (channels_last) or dim 1; another axis is moved last and back
        if axis == ndim - 1:
            self._layout = (True, None, None)
        elif axis == 1:
            self._layout = (False, None, None)
        else:
            order = [d for d in range(ndim) if d != axis] + [axis]
            self._layout = (True, order, [order.index(d) for d in range(ndim)])
        self.built = True

    def call(self, inputs, training=None):
        channels_last, order, inverse = self._layout
        x = inputs if order is None else inputs.permute(*order)
        if training and self.trainable:
            out, mean, invstd = _batch_statistics_norm(x, self.gamma, self.beta, self.epsilon, channels_last)
            self._update_moving_statistics(mean, invstd)
        else:
            out = _batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta, False, 0.0,
                              self.epsilon, channels_last=channels_last)
        return out if inverse is None else out.permute(*inverse)

    def _update_moving_statistics(self, mean, invstd):
        momentum = self.momentum
        with no_grad():
            variance = invstd.pow(-2.0) - self.epsilon  # the biased batch variance, in float64
            _C.copy_(self.moving_mean, self.moving_mean * momentum + mean * (1.0 - momentum))
            _C.copy_(self.moving_variance, self.moving_variance * momentum + variance * (1.0 - momentum))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "synchronized": self.synchronized,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        })
        return config
