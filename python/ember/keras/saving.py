"""ember.keras.saving: layers and models to and from configs, files and JSON.

A saved model (model.save("m.keras")) is a zip holding
    config.json                  {"class_name", "config", "build_config", "compile_config"?, ...}
    metadata.json                versions and date
    model.weights.safetensors    the weights (ember.io's safetensors writer)
Weights are keyed by position, as Keras's own format: "layers/dense/vars/0" is the first weight of
the first Dense layer of the model (the second Dense is "layers/dense_1", a nested model's layers
"layers/sequential/layers/dense/..."), so they load into any model of the same architecture whatever
its layers are named.

Classes are found by name among ember.keras's layers and models, in custom_objects, or among
classes decorated with @register_keras_serializable().
"""
import datetime
import inspect
import json
import os
import zipfile

import numpy as np

from .. import _C
from .. import _dtype
from .. import io as _io
from ..autograd import no_grad
from .layers.utils import to_snake_case
from .layers.graph import KerasTensor, flatten, map_structure
from .layers.input_layer import InputLayer

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "serialize_keras_object",
           "deserialize_keras_object", "register_keras_serializable", "get_custom_objects", "custom_object_scope",
           "get_registered_name"]

_CONFIG_FILE = "config.json"
_METADATA_FILE = "metadata.json"
_WEIGHTS_FILE = "model.weights.safetensors"

_GLOBAL_CUSTOM_OBJECTS = {}
_SCOPES = []


def register_keras_serializable(package="Custom", name=None):
    """Class decorator: saved configs name the class "package>name" and loading finds it without
    custom_objects."""
    def decorator(cls):
        key = f"{package}>{name or cls.__name__}"
        if key in _GLOBAL_CUSTOM_OBJECTS and _GLOBAL_CUSTOM_OBJECTS[key] is not cls:
            raise ValueError(f"{key} has already been registered to {_GLOBAL_CUSTOM_OBJECTS[key]}")
        _GLOBAL_CUSTOM_OBJECTS[key] = cls
        cls._registered_name = key
        return cls
    return decorator


def get_custom_objects():
    """The registry of register_keras_serializable (a dict, editable)."""
    return _GLOBAL_CUSTOM_OBJECTS


def get_registered_name(obj):
    cls = obj if isinstance(obj, type) else type(obj)
    return cls.__dict__.get("_registered_name", cls.__name__)


class custom_object_scope:  # noqa: N801 -- Keras's name
    """with custom_object_scope({"MyLayer": MyLayer}): ... makes the objects findable by name."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _SCOPES.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _SCOPES.pop()
        return False


def _custom_lookup(name, custom_objects=None):
    for source in [custom_objects or {}] + _SCOPES[::-1] + [_GLOBAL_CUSTOM_OBJECTS]:
        if name in source:
            return source[name]
    return None


def _builtin_classes():
    from . import layers, models
    classes = {name: getattr(layers, name) for name in layers.__all__ if isinstance(getattr(layers, name), type)}
    classes.update({"Model": models.Model, "Functional": models.Functional, "Sequential": models.Sequential})
    return classes


# ---- layer objects <-> configs -------------------------------------------------------------------------

def serialize_keras_object(obj):
    """{'module', 'class_name', 'config', 'registered_name', 'build_config'} for a layer or model."""
    cls = type(obj)
    registered = cls.__dict__.get("_registered_name")
    out = {"module": cls.__module__, "class_name": cls.__name__, "config": obj.get_config(),
           "registered_name": registered}
    build_config = obj.get_build_config() if hasattr(obj, "get_build_config") else None
    if build_config is not None:
        out["build_config"] = build_config
    return out


def deserialize_keras_object(config, custom_objects=None):
    """The layer or model a serialize_keras_object dict describes, built when it records its input
    shape (so its weights exist)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize_keras_object: expected a dict with 'class_name' and 'config', got {config!r}")
    class_name = config["class_name"]
    registered = config.get("registered_name")
    cls = (_custom_lookup(registered, custom_objects) if registered else None) or \
        _custom_lookup(class_name, custom_objects) or _builtin_classes().get(class_name)
    if cls is None:
        for key, value in _GLOBAL_CUSTOM_OBJECTS.items():
            if key.split(">")[-1] == class_name:
                cls = value
                break
    if cls is None:
        raise ValueError(f"Could not locate class '{class_name}'. Make sure custom classes are decorated with "
                         "`@ember.keras.saving.register_keras_serializable()` or passed in "
                         "custom_objects={'" + class_name + "': " + class_name + "}")
    scope = dict(custom_objects or {})
    with custom_object_scope(scope):
        inner = config.get("config", {})
        params = inspect.signature(cls.from_config).parameters
        obj = cls.from_config(inner, custom_objects) if "custom_objects" in params else cls.from_config(inner)
        build_config = config.get("build_config")
        if build_config and not obj.built:
            obj.build_from_config(build_config)
    return obj


def construct_from_config(cls, config):
    """cls(**config), leaving out the base keys (name, trainable, dtype) that a subclass's
    constructor does not accept."""
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        config = {k: v for k, v in config.items() if k in params}
    try:
        return cls(**config)
    except TypeError as exc:
        raise TypeError(f"Unable to revive {cls.__name__} from its config {config}: {exc}. Implement get_config() "
                        "returning the constructor's arguments (and from_config() if they need converting)") from None


# ---- functional models ---------------------------------------------------------------------------------

def _node_key(model_nodes, tensor):
    layer, _, tensor_index = tensor._history
    nodes = [n for n in layer._inbound_nodes if id(n) in model_nodes]
    return [layer.name, nodes.index(tensor.node), tensor_index]


def functional_config(model):
    graph = model._graph
    model_nodes = {id(t.node) for t in graph["inputs"]} | {id(n) for n in graph["nodes"]}

    def arg(value):
        if isinstance(value, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(value.shape), "dtype": value.dtype,
                               "keras_history": _node_key(model_nodes, value)}}
        return value

    layer_configs = []
    for layer in model.layers:
        entry = serialize_keras_object(layer)
        entry.pop("build_config", None)  # calling the layer in the rebuilt graph builds it
        entry["name"] = layer.name
        entry["inbound_nodes"] = [{"args": map_structure(arg, list(node.call_args)),
                                   "kwargs": map_structure(arg, node.call_kwargs)}
                                  for node in layer._inbound_nodes if id(node) in model_nodes and not node.is_input]
        layer_configs.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layer_configs,
            "input_layers": [_node_key(model_nodes, t) for t in graph["inputs"]],
            "output_layers": [_node_key(model_nodes, t) for t in graph["outputs"]],
            "input_structure": _structure(graph["nested_inputs"]),
            "output_structure": _structure(graph["nested_outputs"])}


def _structure(nested):
    if isinstance(nested, KerasTensor):
        return "single"
    if isinstance(nested, dict):
        return {"dict": sorted(nested)}
    return "list"


def _restructure(kind, tensors):
    if kind == "single":
        return tensors[0]
    if isinstance(kind, dict):
        return dict(zip(kind["dict"], tensors))
    return list(tensors)


def functional_from_config(cls, config, custom_objects=None):
    created, outputs_of = {}, {}
    pending = []
    for entry in config["layers"]:
        if entry["class_name"] == "InputLayer":
            layer = InputLayer(**entry["config"])
            outputs_of[(layer.name, 0)] = layer._input_tensor
        else:
            layer = deserialize_keras_object({k: v for k, v in entry.items() if k != "inbound_nodes"}, custom_objects)
        created[entry["name"]] = layer
        pending += [(entry["name"], i, node) for i, node in enumerate(entry.get("inbound_nodes", []))]

    def resolve(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            name, node_index, tensor_index = value["config"]["keras_history"]
            return flatten(outputs_of[(name, node_index)])[tensor_index]
        return value

    def ready(node):
        return all(tuple(h[:2]) in outputs_of for h in _histories(node))

    while pending:
        progress = [p for p in pending if ready(p[2])]
        if not progress:
            raise ValueError(f"Cannot rebuild the functional model '{config.get('name')}': the nodes of layers "
                             f"{sorted({p[0] for p in pending})} refer to tensors no layer produces")
        for name, index, node in progress:
            args = _map_config(resolve, node["args"])
            kwargs = _map_config(resolve, node["kwargs"])
            outputs_of[(name, index)] = created[name](*args, **kwargs)
        pending = [p for p in pending if p not in progress]
    inputs = [flatten(outputs_of[(n, i)])[t] for n, i, t in config["input_layers"]]
    outputs = [flatten(outputs_of[(n, i)])[t] for n, i, t in config["output_layers"]]
    model_cls = cls if cls.__name__ != "Model" else _builtin_classes()["Functional"]
    return model_cls(inputs=_restructure(config.get("input_structure", "list"), inputs),
                     outputs=_restructure(config.get("output_structure", "list"), outputs),
                     name=config.get("name"), trainable=config.get("trainable", True))


def _histories(node_config):
    found = []

    def walk(value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                found.append(value["config"]["keras_history"])
            else:
                for v in value.values():
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(node_config["args"])
    walk(node_config["kwargs"])
    return found


def _map_config(fn, value):
    """fn applied to serialized KerasTensors inside nested lists / dicts of a node's arguments."""
    if isinstance(value, dict) and value.get("class_name") != "__keras_tensor__":
        return {k: _map_config(fn, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_config(fn, v) for v in value]
    return fn(value)


# ---- weights -------------------------------------------------------------------------------------------

def weight_keys(model):
    """[(key, weight)] for every weight of model, keyed by position ("layers/dense/vars/0")."""
    out, seen = [], set()

    def walk(layer, prefix):
        for i, w in enumerate(layer._own_trainable + layer._own_non_trainable):
            if id(w) not in seen:
                seen.add(id(w))
                out.append((f"{prefix}vars/{i}", w))
        counts = {}
        for child in layer._sublayers():
            base = to_snake_case(type(child).__name__)
            n = counts.get(base, 0)
            counts[base] = n + 1
            walk(child, f"{prefix}layers/{base if n == 0 else f'{base}_{n}'}/")
    walk(model, "")
    return out


def _weights_bytes(model):
    return _io.save({key: w for key, w in weight_keys(model)}, metadata={"format": "ember.keras"})


def _check_overwrite(filepath, overwrite):
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False")


def save_weights(model, filepath, overwrite=True):
    filepath = os.fspath(filepath)
    _check_overwrite(filepath, overwrite)
    if not model.built:
        raise ValueError(f"save_weights: the model '{model.name}' has not been built yet, so it has no weights; call "
                         "it on data (or build it) first")
    with open(filepath, "wb") as f:
        f.write(_weights_bytes(model))


def _assign_weights(model, arrays, source, skip_mismatch=False):
    if not model.built:
        raise ValueError(f"You are loading weights into a model that has not yet been built ('{model.name}'). Try "
                         "building it first, by calling it on data or with model.build(input_shape), then load")
    expected = weight_keys(model)
    missing = [key for key, _ in expected if key not in arrays]
    unexpected = sorted(set(arrays) - {key for key, _ in expected})
    if (missing or unexpected) and not skip_mismatch:
        raise ValueError(f"load_weights: {source} does not match model '{model.name}': missing weights {missing}, "
                         f"unexpected weights {unexpected} (the architecture differs from the saved one)")
    assignments = []
    for key, w in expected:
        if key not in arrays:
            continue
        value = arrays[key]
        if tuple(value.shape) != w.shape:
            if skip_mismatch:
                continue
            raise ValueError(f"load_weights: weight {key} ({w.path}) has shape {w.shape} in the model but "
                             f"{tuple(value.shape)} in {source}")
        assignments.append((w, np.asarray(value, dtype=_dtype.TO_NUMPY[w.dtype], order="C")))
    with no_grad():
        for w, value in assignments:
            _C.copy_(w, _C.from_numpy(value))


def load_weights(model, filepath, skip_mismatch=False):
    filepath = os.fspath(filepath)
    if zipfile.is_zipfile(filepath):
        with zipfile.ZipFile(filepath) as archive:
            arrays = _io.load_numpy(archive.read(_WEIGHTS_FILE))
    else:
        arrays = _io.load_numpy(filepath)
    _assign_weights(model, arrays, filepath, skip_mismatch)


# ---- whole models --------------------------------------------------------------------------------------

def save_model(model, filepath, overwrite=True):
    filepath = os.fspath(filepath)
    _check_overwrite(filepath, overwrite)
    config = serialize_keras_object(model)
    get_compile_config = getattr(model, "get_compile_config", None)
    if callable(get_compile_config):
        compile_config = get_compile_config()
        if compile_config is not None:
            config["compile_config"] = compile_config
    from .. import __version__
    metadata = {"keras_version": "3", "ember_version": __version__,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with zipfile.ZipFile(filepath, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_CONFIG_FILE, json.dumps(config))
        archive.writestr(_METADATA_FILE, json.dumps(metadata))
        archive.writestr(_WEIGHTS_FILE, _weights_bytes(model) if model.built else _io.save({}))


def load_model(filepath, custom_objects=None, compile=True):
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_model: no such file: {filepath!r}")
    if not zipfile.is_zipfile(filepath):
        raise ValueError(f"load_model: {filepath!r} is not a model saved by model.save() (expected a zip archive "
                         f"with {_CONFIG_FILE} and {_WEIGHTS_FILE})")
    with zipfile.ZipFile(filepath) as archive:
        names = set(archive.namelist())
        if _CONFIG_FILE not in names or _WEIGHTS_FILE not in names:
            raise ValueError(f"load_model: {filepath!r} lacks {_CONFIG_FILE} or {_WEIGHTS_FILE}; it was not written by "
                             "model.save()")
        config = json.loads(archive.read(_CONFIG_FILE).decode("utf-8"))
        arrays = _io.load_numpy(archive.read(_WEIGHTS_FILE))
    model = deserialize_keras_object(config, custom_objects)
    if arrays:
        _assign_weights(model, arrays, filepath)
    compile_config = config.get("compile_config")
    compile_from_config = getattr(model, "compile_from_config", None)
    if compile and compile_config is not None and callable(compile_from_config):
        with custom_object_scope(custom_objects):
            compile_from_config(compile_config)
    return model
