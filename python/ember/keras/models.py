"""ember.keras.models: Model (functional or subclassed), Sequential, and loading saved models.

    model = Sequential([layers.Dense(64, activation="relu", input_shape=(784,)), layers.Dense(10)])
    inputs = Input(shape=(784,)); outputs = layers.Dense(10)(inputs); model = Model(inputs, outputs)
    class MyModel(Model):
        def __init__(self): super().__init__(); self.dense = layers.Dense(10)
        def call(self, x, training=None): return self.dense(x)

A functional model runs the Nodes recorded by layer calls on KerasTensors, in an order where every
node's inputs come first. Training (compile / fit / evaluate / predict) comes from Trainer.
"""
import json

import numpy as np

from .. import _C
from ..autograd import no_grad
from .layers.base import Layer, _bump, _CallContext
from .layers.utils import flatten_shapes
from .layers.core import activation_name
from .layers.graph import KerasTensor, flatten, map_shapes, map_structure, pack_like
from .layers.input_layer import Input, InputLayer
from .trainer import Trainer
from . import saving
from ._summary import print_summary

Tensor = _C.Tensor

__all__ = ["Model", "Sequential", "Functional", "Input", "load_model", "save_model", "model_from_json",
           "clone_model"]


def _zeros_like_shape(shape, dtype):
    return _C.full([1 if d is None else d for d in shape], 0.0, dtype, None)


class Model(Layer, Trainer):
    """A layer with training methods. Model(inputs, outputs) builds a functional model from
    KerasTensors; subclass it and define call() for a model written in Python."""
    _autocast = False

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return Layer.__new__(Functional, *args, **kwargs)
        return Layer.__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        if args:
            if len(args) > 2 or inputs is not None:
                raise TypeError("Model: expected Model(inputs, outputs, name=None) or a subclass calling "
                                "super().__init__(**kwargs)")
            inputs = args[0]
            outputs = args[1] if len(args) > 1 else outputs
        Layer.__init__(self, **kwargs)
        self.optimizer = None  # set by compile
        self.stop_training = False  # callbacks set it to end fit after the current epoch
        self._graph = None
        if Trainer.__init__ is not object.__init__:
            Trainer.__init__(self)
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("A functional Model needs both `inputs` and `outputs`")
            self._init_graph(inputs, outputs)

    def _convert_input(self, x):
        # A model passes its inputs on as they are: its first layers cast them to their own dtype
        # (NumPy floats keep their precision, integer ids stay exact for an Embedding)
        if type(x) is Tensor:
            return x
        if isinstance(x, np.ndarray) and x.dtype.kind in "iuf":
            return _C.from_numpy(np.asarray(x, order="C"))
        return Layer._convert_input(self, x)

    # ---- what the training loop reads -------------------------------------------------------------
    @property
    def layers(self):
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        """A contained layer by name or by index."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has {len(layers)} "
                                 "layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}.")

    def _output_layer(self):
        if self._graph is not None:
            return self._graph["outputs"][0].node.layer
        return None

    def reset_states(self):
        """Resets the carried states of every stateful recurrent layer of the model."""
        for layer in self.modules():  # every layer, inside wrappers and nested models too
            if layer is not self and getattr(layer, "stateful", False) is True and hasattr(layer, "reset_states"):
                layer.reset_states()

    @property
    def output_names(self):
        """The names of the model's outputs (their layers' names; the keys of a dict of outputs), as
        compile's per-output losses and metrics and the logs use them; None while unknown."""
        if self._graph is None:
            return None
        nested = self._graph["nested_outputs"]
        if isinstance(nested, dict):
            return [str(k) for k in nested]
        return [t.node.layer.name for t in self._graph["outputs"]]

    @property
    def output_activation_name(self):
        """The activation ('softmax', 'sigmoid', ...) that produces the model's (first) output, None
        when it is linear or unknown (a subclassed model's call is not inspected)."""
        layer = self._output_layer()
        if isinstance(layer, Model):
            return layer.output_activation_name
        fn = getattr(layer, "activation", None)
        return activation_name(fn) if callable(fn) else None

    def _layers_called_in_turn(self):
        """For the training step: the layers that calling this model on one tensor would call in turn
        with nothing else to do (a Sequential's plain stack), or None when the model's own call
        path must run. The answer holds until _CallContext.version moves."""
        return None

    # ---- building ------------------------------------------------------------------------------------
    def build(self, input_shape):
        """A subclassed model builds its layers by running call() once on zeros of that shape."""
        if self._graph is None and type(self).call is not Model.call:
            # one sample is enough to create the weights
            inputs = map_shapes(lambda s: _zeros_like_shape((1,) + s[1:] if s else s, self._dtype), input_shape)
            with no_grad():
                self._call_in_context((inputs,), {"training": False})
        self.built = True

    def call(self, inputs, training=None):
        if self._graph is None:
            raise NotImplementedError(f"Model {type(self).__name__} has no call(): subclass Model and define "
                                      "call(self, inputs, training=None), or build it with Model(inputs, outputs)")
        return self._run_graph(inputs)

    def compute_output_shape(self, input_shape):
        if self._graph is not None:
            batch = flatten_shapes(input_shape)[0][:1] if input_shape else (None,)
            return pack_like(self._graph["nested_outputs"], [batch + t.shape[1:] for t in self._graph["outputs"]])
        return Layer.compute_output_shape(self, input_shape)

    # ---- the functional graph ------------------------------------------------------------------------
    def _init_graph(self, inputs, outputs):
        flat_inputs, flat_outputs = flatten(inputs), flatten(outputs)
        for kind, tensors, given in (("inputs", flat_inputs, inputs), ("outputs", flat_outputs, outputs)):
            for t in tensors:
                if not isinstance(t, KerasTensor) or t._history is None:
                    raise ValueError(f"All `{kind}` values must be KerasTensors (from keras.Input or layer calls on "
                                     f"them). Received: {kind}={given} including invalid value {t!r} of type "
                                     f"{type(t).__name__}")
        for t in flat_inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model inputs must come from `keras.Input` (thus holding past layer metadata). "
                                 f"They cannot be the output of a previous non-Input layer. Received: {t!r}")
        nodes = _order_nodes(flat_inputs, flat_outputs)
        layers, seen = [], set()
        for layer in [t.node.layer for t in flat_inputs] + [node.layer for node in nodes]:
            if id(layer) not in seen:
                seen.add(id(layer))
                layers.append(layer)
        for i, layer in enumerate(layers):
            self._modules[str(i)] = layer
        _bump()
        self._graph = {"inputs": flat_inputs, "outputs": flat_outputs, "nested_inputs": inputs,
                       "nested_outputs": outputs, "nodes": nodes, "steps": [_plan_node(node) for node in nodes]}
        self._build_input_shape = map_structure(lambda t: t.shape, inputs)
        self.built = True
        self._refresh_fast_path()

    @property
    def inputs(self):
        return list(self._graph["inputs"]) if self._graph is not None else None

    @property
    def outputs(self):
        return list(self._graph["outputs"]) if self._graph is not None else None

    @property
    def input(self):
        if self._graph is None:
            return Layer.input.fget(self)
        return self._graph["nested_inputs"]

    @property
    def output(self):
        if self._graph is None:
            return Layer.output.fget(self)
        return self._graph["nested_outputs"]

    @property
    def input_shape(self):
        if self._build_input_shape is None:
            raise AttributeError(f"The model {self.name} has not been built: it has no input shape yet")
        return self._build_input_shape

    def _run_graph(self, inputs):
        graph = self._graph
        keras_inputs = graph["inputs"]
        if isinstance(graph["nested_inputs"], dict) and isinstance(inputs, dict):
            given = [inputs[name] for name in sorted(graph["nested_inputs"])]
        else:
            given = flatten(inputs) if isinstance(inputs, (list, tuple, dict)) else [inputs]
        if len(given) != len(keras_inputs):
            raise ValueError(f'Model "{self.name}" expects {len(keras_inputs)} input(s), but it received '
                             f"{len(given)} input tensors.")
        values = {id(t): self._convert_input(v) for t, v in zip(keras_inputs, given)}
        for kind, layer, where, node in graph["steps"]:
            if kind == "single":
                out = layer(values[where])
            elif kind == "list":
                out = layer([values[i] for i in where])
            else:
                args = map_structure(lambda v: values[id(v)] if isinstance(v, KerasTensor) else v, node.call_args)
                kwargs = map_structure(lambda v: values[id(v)] if isinstance(v, KerasTensor) else v, node.call_kwargs)
                out = layer(*args, **kwargs)
            for t, value in zip(node.output_tensors, flatten(out)):
                values[id(t)] = value
        outputs = [values[id(t)] for t in graph["outputs"]]
        return pack_like(graph["nested_outputs"], outputs)

    # ---- printing and saving -------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        """Prints Keras's table of layers, output shapes and parameter counts (print_fn(line) per line)."""
        print_summary(self, line_length=line_length, print_fn=print_fn)

    def save(self, filepath, overwrite=True, **kwargs):
        """Writes the architecture (config JSON) and the weights (safetensors) to one zip file."""
        saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Writes the weights to a safetensors file."""
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Reads weights saved by save_weights (or save) into this model, in place."""
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs):
        return json.dumps(saving.serialize_keras_object(self), **kwargs)

    def get_config(self):
        if self._graph is not None:
            return saving.functional_config(self)
        return Layer.get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "output_layers" in config:
            return saving.functional_from_config(cls, config, custom_objects)
        return saving.construct_from_config(cls, config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class Functional(Model):
    """What Model(inputs, outputs) creates (its class in saved configs)."""

    def __new__(cls, *args, **kwargs):
        return Layer.__new__(cls, *args, **kwargs)


def _order_nodes(inputs, outputs):
    """The nodes between inputs and outputs, each after the nodes producing its inputs."""
    input_ids = {id(t) for t in inputs}
    ordered, done, reached = [], set(), []

    def visit(tensor, path):
        if id(tensor) in input_ids:
            return
        node = tensor.node
        if node is None:
            raise ValueError(f"Graph disconnected: {tensor!r} was not produced by a layer call on the model's inputs")
        if id(node) in done:
            return
        if node.is_input:
            raise ValueError(f"Graph disconnected: cannot find parent for tensor {tensor!r} at layer "
                             f'"{node.layer.name}": it comes from an Input that is not among the model\'s inputs '
                             f"(pass it in `inputs`). The following previous layers were accessed without issue: "
                             f"{reached}")
        if id(node) in path:
            raise ValueError(f"The graph has a cycle through layer {node.layer.name}")
        path = path | {id(node)}
        for t in node.input_tensors:
            visit(t, path)
        done.add(id(node))
        ordered.append(node)
        reached.append(node.layer.name)

    for t in outputs:
        visit(t, frozenset())
    return ordered


def _plan_node(node):
    """How _run_graph feeds a node: ('single', layer, id) for one tensor argument, ('list', layer,
    ids) for one list of tensors, ('general', layer, None) otherwise; each with the node."""
    args, kwargs = node.call_args, node.call_kwargs
    if not kwargs and len(args) == 1:
        arg = args[0]
        if isinstance(arg, KerasTensor):
            return ("single", node.layer, id(arg), node)
        if isinstance(arg, list) and all(isinstance(t, KerasTensor) for t in arg):
            return ("list", node.layer, [id(t) for t in arg], node)
    return ("general", node.layer, None, node)


class Sequential(Model):
    """A plain stack of layers, each taking the previous one's output. It builds as soon as the input
    shape is known (an Input first, or input_shape= / input_dim= on the first layer), else on the
    first call."""

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        Model.__init__(self, trainable=trainable, name=name, **kwargs)
        self._stack = []
        self._input_layer = None
        for layer in layers or ():
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    @property
    def layers(self):
        return list(self._stack)

    def add(self, layer, rebuild=True):
        """Appends a layer (or an Input, which fixes the input shape)."""
        if isinstance(layer, KerasTensor) and layer._history is not None and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(f"Sequential model '{self.name}' has already been configured to use an input; an "
                                 "Input can only be the first layer")
            self._input_layer = layer
            return self._maybe_rebuild() if rebuild else None
        if not isinstance(layer, Layer):
            raise TypeError(f"Only instances of `keras.Layer` can be added to a Sequential model. Received: {layer!r} "
                            f"(of type {type(layer).__name__})")
        if any(other.name == layer.name for other in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name '{layer.name}' "
                             "is already the name of a layer in this model. Update the `name` argument to pass a "
                             "unique name.")
        self._modules[str(len(self._stack))] = layer
        self._stack.append(layer)
        self.built = False
        self._fast = None
        _bump()
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        del self._modules[str(len(self._stack))]
        self.built = False
        self._fast = None
        _bump()
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _known_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if self._stack and self._stack[0]._batch_input_shape is not None:
            return self._stack[0]._batch_input_shape
        return self._build_input_shape

    def _maybe_rebuild(self):
        shape = self._known_input_shape()
        if shape is not None and self._stack:
            self.built = False
            self._maybe_build(tuple(shape))

    def build(self, input_shape=None):
        """Builds every layer from the shape its predecessor outputs (the batch size left unknown
        unless an Input fixed it)."""
        if input_shape is None:
            input_shape = self._known_input_shape()
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
        shape = tuple(input_shape)
        if self._input_layer is None or self._input_layer.batch_shape[0] is None:
            shape = (None,) + shape[1:]
        self._build_input_shape = shape
        for layer in self._stack:
            if layer.built:
                layer._assert_input_compatibility(shape)
            else:
                layer._maybe_build(shape)
            shape = layer.compute_output_shape(shape)
            layer._output_shape = shape
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        for layer in self._stack:
            x = layer(x)
        return x

    def _plain_stack(self):
        """The layers as a tuple when they are a stack of ember's own leaf layers that ignore the
        training flag and record no losses (Dense, Conv2D, pooling, Flatten, ...), which needs no
        call context: calling the model is calling them in turn. None otherwise (also when a
        subclass defines its own call)."""
        plain = self.__dict__.get("_plain")
        if plain is None or plain[0] != _CallContext.version:
            stack = tuple(self._stack)
            plain = (_CallContext.version, stack if type(self).call is Sequential.call and all(
                layer._leaf and not layer._call_has_training and layer._fast is not None for layer in stack) else None)
            self.__dict__["_plain"] = plain
        return plain[1]

    def _call_in_context(self, args, kwargs):
        stack = self._plain_stack()
        if stack is not None and (not kwargs or (len(kwargs) == 1 and "training" in kwargs)):
            x = args[0]
            for layer in stack:
                x = layer(x)
            return x
        return Model._call_in_context(self, args, kwargs)

    def _layers_called_in_turn(self):
        # the model's own short call path (built, nothing to check or record) leads to the plain stack
        fast = self._fast
        if (fast is None or fast[0] is not None or fast[1] or type(self).__call__ is not Layer.__call__
                or type(self)._call_in_context is not Sequential._call_in_context):
            return None
        return self._plain_stack()

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def input_shape(self):
        return Model.input_shape.fget(self)

    @property
    def output_shape(self):
        if not self.built or not self._stack:
            raise AttributeError(f"Sequential model '{self.name}' has not been built yet: it has no output shape")
        return self._stack[-1]._output_shape

    def _output_layer(self):
        return self._stack[-1] if self._stack else None

    def get_config(self):
        layers = []
        if self._input_layer is not None or self._build_input_shape is not None:
            batch_shape = (self._input_layer.batch_shape if self._input_layer is not None
                           else self._build_input_shape)
            layers.append({"module": "ember.keras.layers", "class_name": "InputLayer",
                           "config": {"batch_shape": list(batch_shape), "dtype": self.dtype, "sparse": False,
                                      "name": self._input_layer.name if self._input_layer else "input_layer"},
                           "registered_name": None})
        layers += [saving.serialize_keras_object(layer) for layer in self._stack]
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype, "layers": layers}
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            if layer_config.get("class_name") == "InputLayer":
                model.add(InputLayer(**layer_config["config"]), rebuild=False)
            else:
                model.add(saving.deserialize_keras_object(layer_config, custom_objects), rebuild=False)
        model._maybe_rebuild()
        if not model.built and config.get("build_input_shape") is not None:
            model._maybe_build(tuple(config["build_input_shape"]))
        return model


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model saved by model.save(filepath): architecture, weights and (when the training side
    provides it) the compile configuration."""
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


def save_model(model, filepath, overwrite=True, **kwargs):
    model.save(filepath, overwrite=overwrite)


def model_from_json(json_string, custom_objects=None):
    """A new (freshly initialized) model from the architecture that model.to_json() wrote."""
    return saving.deserialize_keras_object(json.loads(json_string), custom_objects)


def clone_model(model, input_tensors=None, clone_function=None):
    """A model of the same architecture with newly initialized weights."""
    if input_tensors is not None or clone_function is not None:
        raise NotImplementedError("clone_model: input_tensors and clone_function are not supported")
    return saving.deserialize_keras_object(saving.serialize_keras_object(model))

