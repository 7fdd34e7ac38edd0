"""ember.keras.activations: Keras's activation functions by name, over ember's differentiable ops.

    from ember.keras import activations
    activations.get("relu")(x)
    layers.Dense(10, activation="softmax")

Defaults follow Keras 3, which differ from PyTorch's in places: leaky_relu's negative_slope is 0.2,
gelu is exact (approximate=False), softmax works over the last axis.
"""
from .. import _C
from .. import functional_ops as _ops

Tensor = _C.Tensor

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "elu", "selu", "gelu", "leaky_relu",
           "softplus", "softsign", "swish", "silu", "exponential", "relu6", "hard_sigmoid", "get", "serialize",
           "deserialize"]

# selu's constants (Klambauer et al. 2017), as Keras writes them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); Keras's options: values at or below `threshold` become 0 (minus negative_slope *
    (threshold - x)), values above max_value are capped."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return x.relu()
    if threshold != 0.0:
        out = x * (x > threshold).to(x.dtype)
    else:
        out = x.relu()
    if max_value is not None:
        out = _ops.clamp(out, 0.0, float(max_value))
    if negative_slope != 0.0:
        out = out - (x * -1.0 + threshold).relu() * negative_slope
    return out


def sigmoid(x):
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along axis (the last by default)."""
    return x.softmax(axis)


def log_softmax(x, axis=-1):
    return x.log_softmax(axis)


def linear(x):
    """The identity (what activation=None means)."""
    return x


def elu(x, alpha=1.0):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    return _ops.elu(x, alpha)


def selu(x):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _ops.elu(x, _SELU_ALPHA) * _SELU_SCALE


def gelu(x, approximate=False):
    """x * Phi(x) (Phi the standard normal CDF); approximate=True: its tanh approximation."""
    return _ops.gelu(x, "tanh" if approximate else "none")


def leaky_relu(x, negative_slope=0.2):
    """x where x > 0, negative_slope * x elsewhere (Keras's default slope is 0.2)."""
    return _ops.leaky_relu(x, negative_slope)


def softplus(x):
    """log(1 + exp(x))."""
    return _ops.softplus(x, 1.0, 20.0)


def softsign(x):
    """x / (1 + |x|)."""
    return x / (x.abs() + 1.0)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return _ops.silu(x)


swish = silu


def exponential(x):
    return x.exp()


def relu6(x):
    """min(max(x, 0), 6)."""
    return _ops.clamp(x, 0.0, 6.0)


def hard_sigmoid(x):
    """Keras 3's piecewise-linear sigmoid: relu6(x + 3) / 6."""
    return _ops.clamp(x + 3.0, 0.0, 6.0) / 6.0


_BY_NAME = {
    "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "log_softmax": log_softmax,
    "linear": linear, "elu": elu, "selu": selu, "gelu": gelu, "leaky_relu": leaky_relu, "softplus": softplus,
    "softsign": softsign, "swish": swish, "silu": silu, "exponential": exponential, "relu6": relu6,
    "hard_sigmoid": hard_sigmoid,
}


def get(identifier):
    """An activation function from a name ('relu', 'softmax', ...), a callable (returned as it is), a
    serialized dict, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        identifier = identifier.get("config", identifier.get("class_name"))
        if isinstance(identifier, dict):
            identifier = identifier.get("name")
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier) or _custom(identifier)
        if fn is None:
            raise ValueError(f"Unknown activation function: {identifier!r}. Valid names are: "
                             f"{', '.join(sorted(_BY_NAME))}; or pass a callable")
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret activation function identifier: {identifier!r} (expected a name, a "
                    "callable or None)")


def _custom(name):
    """A function registered under name (custom_objects of a model being loaded, or registered)."""
    from .saving import _custom_lookup
    return _custom_lookup(name)


def serialize(activation):
    """The name under which `get` finds an activation again; for another callable its __name__ (a
    model that uses it needs it passed through custom_objects when loaded)."""
    name = _name_of(activation) or getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize the activation {activation!r}: it has no name; give it a __name__ "
                         "and pass it through custom_objects when loading")
    return name


def deserialize(config, custom_objects=None):
    if isinstance(config, str) and custom_objects and config in custom_objects:
        return custom_objects[config]
    return get(config)


def _name_of(activation):
    """The registered name of an activation function, or None for a callable of the user's."""
    for name, fn in _BY_NAME.items():
        if fn is activation and name != "swish":
            return name
    return None

