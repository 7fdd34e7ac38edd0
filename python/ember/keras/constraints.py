"""ember.keras.constraints: projections of a weight onto an allowed set, each a callable from the
weight to its projected value. The optimizer applies a weight's constraint after every update
(`variable <- constraint(variable)`, in place), as Keras does.

    layers.Dense(64, kernel_constraint=constraints.MaxNorm(2.0), bias_constraint="non_neg")

Keras 3's formulas, with norms = sqrt(sum(w^2, axis, keepdims)) and epsilon = 1e-7:
    MaxNorm     w * clip(norms, 0, max_value) / (epsilon + norms)
    MinMaxNorm  w * (rate * clip(norms, min_value, max_value) + (1 - rate) * norms) / (epsilon + norms)
    UnitNorm    w / (epsilon + norms)
    NonNeg      maximum(w, 0)
`axis` picks the elements of one hidden unit: 0 for a Dense kernel (input_dim, units), [0, 1, 2]
for a Conv2D kernel (kh, kw, in, filters).
"""
import numbers

from .. import _C
from .. import _dtype
from ._registry import ConfigObject, deserialize_object, get_object, serialize_object

Tensor = _C.Tensor

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm", "min_max_norm", "non_neg",
           "unit_norm", "get", "serialize", "deserialize"]

_EPSILON = 1e-7  # Keras's backend.epsilon(): keeps an all-zero unit at zero instead of 0 / 0


def _number(value, name, cls):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{cls}: {name} must be a number, got {value!r}")
    return value


def _axis(axis, cls):
    """An int or a list / tuple of ints, kept as given (it goes to the config as it is)."""
    entries = axis if isinstance(axis, (list, tuple)) else [axis]
    if not entries or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in entries):
        raise TypeError(f"{cls}: axis must be an int or a non-empty list of ints, got {axis!r}")
    return axis


def _as_tensor(w, floating=True):
    """w as an ember tensor (Keras converts what it is given), floating-point for the norm
    constraints (the norms of an integer weight are floats)."""
    if not isinstance(w, Tensor):
        from ..creation import tensor
        w = tensor(w)
    return w if w.dtype.is_floating_point or not floating else w.to(_dtype.get_default_dtype())


def _norms(w, axis, cls):
    """The L2 norm of each unit: sqrt(sum(w^2)) over `axis`, kept as size-1 dims so it broadcasts."""
    try:
        return (w * w).sum(dim=axis, keepdim=True).sqrt()
    except (IndexError, ValueError) as exc:
        raise type(exc)(f"{cls}(axis={axis!r}) on a weight of shape {tuple(w.shape)}: {exc}") from None


class Constraint(ConfigObject):
    """Base class: subclasses implement __call__(w) -> the projected w, and get_config(). The base
    leaves w unchanged, as Keras's does."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}


class MaxNorm(Constraint):
    """Scales each unit whose L2 norm (over `axis`) exceeds max_value down to max_value."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _number(max_value, "max_value", "MaxNorm")
        self.axis = _axis(axis, "MaxNorm")

    def __call__(self, w):
        w = _as_tensor(w)
        norms = _norms(w, self.axis, "MaxNorm")
        desired = norms.clamp(0.0, float(self.max_value))
        return w * (desired / (norms + _EPSILON))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each unit's L2 norm (over `axis`) into [min_value, max_value]: rate 1 projects onto
    the interval, rate < 1 moves that fraction of the way at each step."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _number(min_value, "min_value", "MinMaxNorm")
        self.max_value = _number(max_value, "max_value", "MinMaxNorm")
        self.rate = _number(rate, "rate", "MinMaxNorm")
        self.axis = _axis(axis, "MinMaxNorm")

    def __call__(self, w):
        w = _as_tensor(w)
        norms = _norms(w, self.axis, "MinMaxNorm")
        rate = float(self.rate)
        desired = norms.clamp(float(self.min_value), float(self.max_value)) * rate + norms * (1.0 - rate)
        return w * (desired / (norms + _EPSILON))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Sets the negative elements to zero (Keras 3's maximum(w, 0): NaN stays NaN)."""

    def __call__(self, w):
        return _as_tensor(w, floating=False).clamp(min=0)


class UnitNorm(Constraint):
    """Scales each unit (the elements along `axis`) to L2 norm 1."""

    def __init__(self, axis=0):
        self.axis = _axis(axis, "UnitNorm")

    def __call__(self, w):
        w = _as_tensor(w)
        return w / (_norms(w, self.axis, "UnitNorm") + _EPSILON)

    def get_config(self):
        return {"axis": self.axis}


# Keras's lower-case names are the classes themselves
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_CLASSES = {cls.__name__: cls for cls in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_BY_NAME = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm}


def serialize(constraint):
    """{'class_name': ..., 'config': {...}}, what `get` / `deserialize` turn back into the constraint."""
    return serialize_object(constraint, Constraint, "ember.keras.constraints", "constraint")


def deserialize(config, custom_objects=None):
    return deserialize_object(config, _CLASSES, get, "constraint", custom_objects)


def get(identifier):
    """A constraint from a name ('max_norm', 'non_neg', ... or a class name), a config dict, a
    Constraint (or its class) or any callable(w) -> w (returned as it is). None stays None."""
    return get_object(identifier, Constraint, _CLASSES, _BY_NAME, deserialize, "constraint",
                      " (or their class names, e.g. 'MaxNorm')")
