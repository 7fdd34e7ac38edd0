"""The serialize / deserialize pair shared by the keras modules that resolve objects by name
(initializers, regularizers): an instance of the module's base class travels as
{'module', 'class_name', 'config'}, a function as its name."""


def serialize_object(obj, base, module, kind):
    if obj is None:
        return None
    if isinstance(obj, base):
        return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config()}
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
            raise ValueError(f"Unknown {kind}: {name!r}. Valid names are: {', '.join(sorted(classes))}")
        return cls.from_config(config.get("config", {})) if isinstance(cls, type) else cls
    if isinstance(config, str) and config in custom_objects:
        return custom_objects[config]
    return get(config)
