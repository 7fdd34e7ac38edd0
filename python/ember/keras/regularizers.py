"""ember.keras.regularizers: weight and activity penalties, each a callable from a tensor to a scalar
ember tensor that carries gradients (added to the training loss through `layer.losses`).

    layers.Dense(64, kernel_regularizer=regularizers.l2(1e-4), activity_regularizer="l1")

Keras 3's formulas: L1 = l1 * sum(|x|), L2 = l2 * sum(x^2) (no factor 1/2), L1L2 = both.
"""
from .. import _C
from ._registry import ConfigObject, deserialize_object, get_object, serialize_object

Tensor = _C.Tensor

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize", "deserialize"]


def _factor(value, name, cls):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{cls}: {name} must be a float, got {value!r}")
    if value < 0:
        raise ValueError(f"{cls}: {name} must be non-negative, got {value}")
    return float(value)


class Regularizer(ConfigObject):
    """Base class: subclasses implement __call__(x) -> scalar tensor and get_config()."""

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(x)")

    def get_config(self):
        return {}


class L1(Regularizer):
    """l1 * sum(|x|)."""

    def __init__(self, l1=0.01):
        self.l1 = _factor(l1, "l1", "L1")

    def __call__(self, x):
        return x.abs().sum() * self.l1

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """l2 * sum(x ** 2)."""

    def __init__(self, l2=0.01):
        self.l2 = _factor(l2, "l2", "L2")

    def __call__(self, x):
        return (x * x).sum() * self.l2

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x ** 2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(l1, "l1", "L1L2")
        self.l2 = _factor(l2, "l2", "L1L2")

    def __call__(self, x):
        penalty = None
        if self.l1:
            penalty = x.abs().sum() * self.l1
        if self.l2:
            squares = (x * x).sum() * self.l2
            penalty = squares if penalty is None else penalty + squares
        return penalty if penalty is not None else x.sum() * 0.0  # keeps the graph (and the dtype) of x

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


# Keras's lower-case names are the classes themselves
l1, l2, l1_l2 = L1, L2, L1L2

_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}
_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def serialize(regularizer):
    """{'class_name': ..., 'config': {...}}, what `get` / `deserialize` turn back into the regularizer."""
    return serialize_object(regularizer, Regularizer, "ember.keras.regularizers", "regularizer")


def deserialize(config, custom_objects=None):
    return deserialize_object(config, _CLASSES, get, "regularizer", custom_objects)


def get(identifier):
    """A regularizer from a name ('l1', 'l2', 'l1_l2', or a class name), a config dict, a Regularizer
    or a callable (returned as it is). None stays None."""
    return get_object(identifier, Regularizer, _CLASSES, _BY_NAME, deserialize, "regularizer")
