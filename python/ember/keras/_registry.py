"""The serialize / deserialize pair shared by the keras modules that resolve objects by name
(initializers, regularizers, constraints): an instance of the module's base class travels as
{'module', 'class_name', 'config'} (plus 'registered_name' for a register_keras_serializable
class), a function as its name. A class that is not the module's own is looked up as load_model
looks up custom layers: custom_objects, then custom_object_scope, then the registered classes."""


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
