"""Keras 3's optimizers: SGD, Adam, AdamW, RMSprop and Adagrad, with Keras's defaults and update
equations (ops/keras_optim_math.h has them element by element). Each step is one `_C` call."""
from ... import _C
from .base import Optimizer

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, Keras's form:
        m = momentum * m - learning_rate * g
        var += momentum * m - learning_rate * g   (nesterov)   or   var += m
    and var -= learning_rate * g without momentum."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _slot_specs(self):
        return (("momentum", 0.0),) if self.momentum != 0 else ()

    def _run_step(self, variables, grads, slots, learning_rate, common):
        _C.keras_sgd_step(variables, grads, slots[0] if slots else [], learning_rate, self.momentum, self.nesterov,
                          *common)

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)


def _check_unit_interval(what, value):
    if not 0 <= value < 1:
        raise ValueError(f"Argument `{what}` must be in [0, 1). Received: {what}={value}")
    return float(value)


class Adam(Optimizer):
    """Adam, Keras's form (epsilon added to sqrt(v), the bias corrections folded into the step):
        m += (g - m) * (1 - beta_1);   v += (g^2 - v) * (1 - beta_2)
        var -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)
    with amsgrad, the running maximum of v replaces v in the last line."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.beta_1 = _check_unit_interval("beta_1", beta_1)
        self.beta_2 = _check_unit_interval("beta_2", beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _slot_specs(self):
        specs = (("momentum", 0.0), ("velocity", 0.0))
        return specs + (("velocity_hat", 0.0),) if self.amsgrad else specs

    def _run_step(self, variables, grads, slots, learning_rate, common):
        _C.keras_adam_step(variables, grads, slots[0], slots[1], slots[2] if self.amsgrad else [],
                           float(self._iterations + 1), learning_rate, self.beta_1, self.beta_2, self.epsilon,
                           self.amsgrad, *common)

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                    amsgrad=self.amsgrad)


class AdamW(Adam):
    """Adam with decoupled weight decay (var -= var * weight_decay * learning_rate before each
    update); Keras's default weight_decay is 0.004."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name, **kwargs)


class RMSprop(Optimizer):
    """RMSprop, Keras's form (epsilon inside the square root):
        v = rho * v + (1 - rho) * g^2
        increment = lr * g / sqrt(v + epsilon), or with centered, with a = rho * a + (1 - rho) * g,
        increment = lr * g / sqrt(v - a^2 + epsilon)
        m = momentum * m + increment; var -= m   (momentum > 0)   or   var -= increment"""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.rho = _check_unit_interval("rho", rho)
        if not momentum >= 0:
            raise ValueError(f"Argument `momentum` must be >= 0. Received: momentum={momentum}")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    def _slot_specs(self):
        specs = (("velocity", 0.0),)
        if self.centered:
            specs += (("average_gradient", 0.0),)
        if self.momentum > 0:
            specs += (("momentum", 0.0),)
        return specs

    def _run_step(self, variables, grads, slots, learning_rate, common):
        average_gradients = slots[1] if self.centered else []
        momentums = slots[-1] if self.momentum > 0 else []
        _C.keras_rmsprop_step(variables, grads, slots[0], average_gradients, momentums, learning_rate, self.rho,
                              self.momentum, self.epsilon, self.centered, *common)

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                    centered=self.centered)


class Adagrad(Optimizer):
    """Adagrad, Keras's form: accumulator (starting at initial_accumulator_value) += g^2;
    var -= lr * g / sqrt(accumulator + epsilon)."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        if not initial_accumulator_value >= 0:
            raise ValueError("Argument `initial_accumulator_value` must be >= 0. Received: "
                             f"initial_accumulator_value={initial_accumulator_value}")
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _slot_specs(self):
        return (("accumulator", self.initial_accumulator_value),)

    def _run_step(self, variables, grads, slots, learning_rate, common):
        _C.keras_adagrad_step(variables, grads, slots[0], learning_rate, self.epsilon, *common)

    def get_config(self):
        return dict(super().get_config(), initial_accumulator_value=self.initial_accumulator_value,
                    epsilon=self.epsilon)
