"""The get / serialize / deserialize functions shared by the keras modules that resolve objects by name
(initializers, regularizers, constraints): an instance of the module's base class travels as
{'module', 'class_name', 'config'} (plus 'registered_name' for a register_keras_serializable
class), a function as its name. A class that is not the module's own is looked up as load_model
looks up custom layers: custom_objects, then custom_object_scope, then the registered classes."""


class ConfigObject:
    """Base of the objects these modules build from configs (initializers, regularizers, constraints,
    learning-rate schedules): from_config is the constructor over get_config's keys, and the repr
    shows them."""

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def serialize_object(obj, base, module, kind):
    if obj is None:
        return None
    if isinstance(obj, base):
        out = {"module": module, "class_name": type(obj).__name__, "config": obj.get_config()}
        registered = type(obj).__dict__.get("_registered_name")
        if registered is not None:
            out["registered_name"] = registered
        return out
    name = getattr(obj, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize the {kind} {obj!r}")
    return name


def deserialize_object(config, classes, get, kind, custom_objects=None):
    custom_objects = custom_objects or {}
    if isinstance(config, dict):
        name = config.get("class_name")
        cls = custom_objects.get(name) or classes.get(name)
        if cls is None:
            from .saving import _custom_lookup
            registered = config.get("registered_name")
            cls = (_custom_lookup(registered) if registered else None) or _custom_lookup(name)
        if cls is None:
            raise ValueError(f"Unknown {kind}: {name!r}. Valid names are: {', '.join(sorted(classes))}; pass a custom "
                             f"class in custom_objects or decorate it with register_keras_serializable")
        return cls.from_config(config.get("config", {})) if isinstance(cls, type) else cls
    if isinstance(config, str) and config in custom_objects:
        return custom_objects[config]
    return get(config)


def get_object(identifier, base, classes, by_name, deserialize, kind, hint=""):
    """What a module's get() resolves: None and instances of `base` as they are, a config dict
    through `deserialize`, a name (short name, class name, then the custom objects) as a new
    instance, a subclass of `base` instantiated, any other callable as it is."""
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = by_name.get(identifier) or classes.get(identifier)
        if cls is None:
            from .saving import _custom_lookup
            found = _custom_lookup(identifier)
            if found is not None:
                return found() if isinstance(found, type) else found
            raise ValueError(f"Unknown {kind}: {identifier!r}. Valid names are: {', '.join(sorted(by_name))}{hint}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret {kind} identifier: {identifier!r} (expected a name, a config dict, "
                    f"a {base.__name__} or a callable)")
