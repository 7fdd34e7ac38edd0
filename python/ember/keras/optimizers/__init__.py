"""ember.keras.optimizers: Keras 3's optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) with Keras's
defaults and update equations, learning-rate schedules (`schedules`), and `get` / `serialize` /
`deserialize` for names, instances and configs.

    from ember.keras.optimizers import SGD
    opt = SGD(learning_rate=0.1, momentum=0.9)
    opt.apply_gradients(zip(grads, model.trainable_weights))
"""
from . import schedules
from .base import Optimizer
from .algorithms import SGD, Adam, AdamW, RMSprop, Adagrad

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "schedules", "get", "serialize",
           "deserialize"]

_OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)}
for _cls in (Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad):
    _cls.__module__ = __name__  # their public home, for repr and pickling


def serialize(optimizer):
    """The optimizer as Keras's serialized dict: {"module", "class_name", "config", "registered_name"}."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"serialize: expected an ember.keras optimizer, got {type(optimizer).__name__}")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__, "config": optimizer.get_config(),
            "registered_name": None}


def deserialize(config, custom_objects=None):
    """An optimizer from serialize()'s dict (or Keras's); class names match case-insensitively
    ('adam' or 'Adam'); custom_objects maps names of custom optimizer classes to them."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    custom_objects = custom_objects or {}
    cls = custom_objects.get(name) or _OPTIMIZERS.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {name!r}; valid names: "
                         f"{', '.join(repr(n) for n in _OPTIMIZERS)}")
    return cls.from_config(config.get("config", {}), custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name ('sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'; any case), a config
    dict or an optimizer instance (returned as is); None gives None."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}; pass an optimizer instance, a "
                     f"config dict or one of the names {', '.join(repr(n) for n in _OPTIMIZERS)}")
