"""Layer: the base of every Keras-style layer and model, an ember.nn.Module with Keras's behaviour.

- Weights come from `add_weight` (ember Parameters, registered on the module, tagged with the Keras
  attributes `name`, `path`, `trainable`, `regularizer` and `constraint`); `weights` lists the layer's
  own weights in creation order, trainable-at-creation first, then those of its sublayers, as Keras does.
- The first call builds the layer from its input's shape (`build(input_shape)`); a call on
  KerasTensors records a Node instead of computing (the functional API).
- `training=None` means inference; a value given to an outer call reaches the layers it calls.
- `losses`: weight-regularizer penalties from the current weights, plus the activity-regularizer and
  add_loss penalties of the latest call, as scalar tensors with gradients.
- Masks travel with the tensors, as in Keras 3: a layer's output mask (`compute_mask`) is attached
  to its output as `_keras_mask`, and the next layer gets it as `mask=` when its call takes one.
  A layer that does not support masking drops the mask (with Keras's warning).

The call path is the per-step cost of training, so a built layer called on one ember tensor of its
own dtype takes a short path: one shape check against its input spec, then `call`.
"""
import inspect
import numbers

import numpy as np

from ... import _C
from ... import _dtype
from ...autograd import no_grad
from ...nn.module import Module
from .. import regularizers
from ._state import _CallContext, _bump  # noqa: F401  (models and the trainer import them from here)
from ._weights import LayerWeights
from .graph import KerasTensor, Node, flatten, is_shape, map_shapes, map_structure
from .utils import (InputSpec, attach_output_masks, attached_mask, auto_config, check_spec, flatten_shapes,
                    standardize_shape, to_snake_case, unique_name, written_by_user)

Tensor = _C.Tensor

__all__ = ["Layer", "InputSpec"]


def _call_accepts_training(cls):
    cached = cls.__dict__.get("_call_training_cache")
    if cached is None:
        params = inspect.signature(cls.call).parameters
        cached = "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
        setattr(cls, "_call_training_cache", cached)
    return cached


def _call_accepts_mask(cls):
    cached = cls.__dict__.get("_call_mask_cache")
    if cached is None:
        cached = "mask" in inspect.signature(cls.call).parameters
        setattr(cls, "_call_mask_cache", cached)
    return cached


class Layer(LayerWeights, Module):
    """Base class of layers: create weights in `build(input_shape)` with `add_weight`, compute in
    `call(inputs, training=None)`; call the layer, not `call`."""
    _casts_integer_input = False  # see _convert_input
    # True for ember's own layers whose call() calls no other layer: their calls skip the call-context
    # bookkeeping (training propagation, loss epochs) that only matters to layers containing layers
    _leaf = False
    # whether float tensors of another float dtype are cast to the layer's (models leave that to
    # their layers, so a model accepts what its first layers accept)
    _autocast = True

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        # the constructor's arguments, for get_config of layers that do not write their own
        object.__setattr__(obj, "_init_arguments", (args, kwargs))
        return obj

    def __init__(self, trainable=True, name=None, dtype=None, activity_regularizer=None, **kwargs):
        Module.__init__(self)
        input_dim = kwargs.pop("input_dim", None)
        input_shape = kwargs.pop("input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        kwargs.pop("autocast", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string, got {name!r}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype, type(self).__name__)
        self._trainable = bool(trainable)
        self.built = False
        self._own_trainable = []      # weights created trainable, in creation order
        self._own_non_trainable = []  # weights created non-trainable
        self._own_ids = set()
        self._losses = []
        self._loss_epoch = -1
        self._uses_add_loss = False
        self._input_spec = None
        self._fast = None
        self._cache = {}
        self._build_input_shape = None
        self._output_shape = None
        self._inbound_nodes = []
        self._call_has_training = _call_accepts_training(type(self))
        self._call_has_mask = _call_accepts_mask(type(self))
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = standardize_shape(batch_input_shape, "batch_input_shape")
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + standardize_shape(input_shape, "input_shape")
        else:
            self._batch_input_shape = None
        self.activity_regularizer = activity_regularizer

    # ---- attributes ----------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_own_ids" in d and type(value) is Tensor and id(value) in d["_own_ids"]:
            object.__setattr__(self, name, value)  # already registered by add_weight under its own name
            return
        if isinstance(value, Layer):
            _bump()
        elif (isinstance(value, (list, tuple)) and value and "_modules" in d
              and all(isinstance(v, Layer) for v in value)):
            for i, layer in enumerate(value):  # tracked like Keras's lists of layers
                self._modules[f"{name}[{i}]"] = layer
            _bump()
        Module.__setattr__(self, name, value)

    @property
    def built(self):
        return self._built

    @built.setter
    def built(self, value):
        # a layer built by a direct build() call (not through a first call) gets its short call path too
        object.__setattr__(self, "_built", bool(value))
        self._refresh_fast_path()

    @property
    def activity_regularizer(self):
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value):
        object.__setattr__(self, "_activity_regularizer", regularizers.get(value))
        _bump()
        self._refresh_fast_path()

    @property
    def dtype(self):
        """The weights' and computations' dtype, by name ('float32')."""
        return self._dtype.name

    compute_dtype = variable_dtype = dtype

    @property
    def input_spec(self):
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value):
        self._input_spec = value
        self._refresh_fast_path()

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Sets trainability of this layer's weights and, recursively, of its sublayers' (Keras's
        rule); frozen weights stop requiring gradients."""
        value = bool(value)
        self._trainable = value
        for w in self._own_trainable:
            w.trainable = value
            if w.dtype.is_floating_point:
                w.requires_grad_(value)
        for layer in self._sublayers():
            layer.trainable = value
        _bump()

    @property
    def supports_masking(self):
        """Whether the layer passes masks on (the default compute_mask) or computes its own."""
        return self.__dict__.get("_supports_masking", False)

    @supports_masking.setter
    def supports_masking(self, value):
        object.__setattr__(self, "_supports_masking", bool(value))
        self._refresh_fast_path()

    # ---- losses ----------------------------------------------------------------------------------------
    def add_loss(self, loss):
        """Adds a scalar tensor to `losses` (call it from `call`); each call's penalties replace the
        previous call's."""
        epoch = _CallContext.epoch
        if self._loss_epoch != epoch:
            self._losses = []
            self._loss_epoch = epoch
        self._losses.extend(flatten(loss))
        if not self._uses_add_loss:
            self._uses_add_loss = True
            _bump()
            self._refresh_fast_path()

    def _loss_sources(self):
        layers = [layer for layer in self._flatten_layers()
                  if layer._activity_regularizer is not None or layer._uses_add_loss]
        regularized = [w for w in self.trainable_weights if getattr(w, "regularizer", None) is not None]
        return layers, regularized

    def _may_record_losses(self):
        """Whether `losses` can be non-empty: some layer records penalties or some weight has a
        regularizer (or `losses` is overridden). What the training step asks before reading
        `losses`; the answer holds until _CallContext.version moves."""
        if type(self).losses is not Layer.losses:
            return True
        layers, regularized = self._cached("loss_sources", self._loss_sources)
        return bool(layers or regularized)

    @property
    def losses(self):
        """Scalar tensors with gradients: penalties recorded (activity regularizers, add_loss) by this
        layer and its sublayers during the latest outermost layer call, then the weight regularizers'
        penalties of the current trainable weights."""
        layers, regularized = self._cached("loss_sources", self._loss_sources)
        if not layers and not regularized:
            return []
        epoch = _CallContext.epoch
        out = []
        for layer in layers:
            if layer._losses and layer._loss_epoch == epoch:
                out.extend(layer._losses)
        out.extend(w.regularizer(w) for w in regularized)
        return out

    # ---- building ---------------------------------------------------------------------------------------
    def build(self, input_shape):
        """Creates the weights that depend on the input's shape; the default creates none."""
        self.built = True

    def _maybe_build(self, input_shape):
        if self.built:
            return
        if self._input_spec is not None:
            self._assert_input_compatibility(input_shape)
        self.build(input_shape)
        self._build_input_shape = input_shape
        self.built = True  # (a property: also sets up the short call path)

    def build_from_config(self, config):
        if config and "input_shape" in config and config["input_shape"] is not None:
            shape = config["input_shape"]
            self._maybe_build(tuple(shape) if is_shape(shape) else map_shapes(tuple, shape))
        self.built = True

    def get_build_config(self):
        if self._build_input_shape is None:
            return None
        return {"input_shape": map_shapes(list, self._build_input_shape)}

    def _refresh_fast_path(self):
        """Sets `_fast`, what the call path needs in one tuple: None (take the full path: not built,
        or losses to record, or an input spec it cannot check in one line), or (dtype, min_ndim,
        max_ndim, axis, size, in_context) where dtype is the input dtype taken as it is (None: any),
        min_ndim 0 means no shape check, axis None no size check, and in_context whether call() may
        call other layers (training flag and loss epoch to set up)."""
        d = self.__dict__
        if "_input_spec" not in d:
            return  # still in __init__
        spec = self._input_spec
        check = spec.fast_check() if isinstance(spec, InputSpec) else (0, 0, None, None)
        if (not self.built or self._activity_regularizer is not None or self._uses_add_loss or check is None
                or (spec is not None and not isinstance(spec, InputSpec)) or self._computes_masks()):
            fast = None
        else:
            fast = (self._dtype if self._autocast else None,) + check + (not self._leaf,)
        if fast != d.get("_fast"):
            object.__setattr__(self, "_fast", fast)
            _bump()  # containers cache what they derive from their layers' call paths

    def _computes_masks(self):
        """Whether calls may attach a mask of the layer's own making (they take the full call path)."""
        return self.supports_masking and type(self).compute_mask is not Layer.compute_mask

    def _assert_input_compatibility(self, shapes):
        spec = self._input_spec
        if spec is None:
            return
        if isinstance(spec, (list, tuple)):
            shapes = [shapes] if is_shape(shapes) else list(shapes)
            if len(shapes) != len(spec):
                raise ValueError(f'Layer "{self.name}" expects {len(spec)} input(s), but it received {len(shapes)} '
                                 "input tensors.")
            for i, (s, shape) in enumerate(zip(spec, shapes)):
                check_spec(self.name, i, s, shape)
            return
        check_spec(self.name, 0, spec, shapes if is_shape(shapes) else flatten_shapes(shapes)[0])

    def compute_output_shape(self, input_shape):
        """The output shape for an input shape (None for unknown sizes). This default runs `call` on
        zeros of that shape (unknown sizes taken as 1); layers override it with the formula."""
        def zeros(shape):
            return _C.full([1 if d is None else d for d in shape], 0.0, self._dtype, None)

        inputs = map_shapes(zeros, input_shape)
        with no_grad():
            if self._call_has_training:
                outputs = self.call(inputs, training=False)
            else:
                outputs = self.call(inputs)
        first = flatten_shapes(input_shape)[0]
        unknown_batch = len(first) > 0 and first[0] is None

        def shape_of(t):
            shape = tuple(t.shape)
            return (None,) + shape[1:] if unknown_batch and shape else shape
        return map_structure(shape_of, outputs)

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs for these inputs and input mask: by default the input mask when
        the layer supports masking (its outputs keep the input's time steps), else None."""
        return mask if self.supports_masking else None

    def compute_output_spec(self, input_shape):
        return map_shapes(lambda s: KerasTensor(s, self.dtype), self.compute_output_shape(input_shape))

    # ---- calling ------------------------------------------------------------------------------------------
    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` method implemented.")

    def forward(self, *args, **kwargs):
        return self(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        # The short path: a built layer, one ember tensor of the layer's dtype, no mask, nothing to
        # record. fast = (dtype, min_ndim, max_ndim, axis, size, in_context): see _refresh_fast_path
        fast = self._fast
        if fast is not None and len(args) == 1:
            x = args[0]
            if type(x) is Tensor and (fast[0] is None or x.dtype is fast[0]) and not hasattr(x, "_keras_mask"):
                if fast[1]:
                    shape = x.shape
                    ndim = len(shape)
                    if ndim < fast[1] or ndim > fast[2] or (fast[3] is not None and shape[fast[3]] != fast[4]):
                        check_spec(self.name, 0, self._input_spec, shape)
                if fast[5]:
                    return self._call_in_context(args, kwargs)
                if not kwargs:
                    if self._call_has_training:
                        return self.call(x, training=_CallContext.training)
                    return self.call(x)
                if len(kwargs) == 1 and "training" in kwargs:
                    if self._call_has_training:
                        training = kwargs["training"]
                        return self.call(x, training=_CallContext.training if training is None else training)
                    return self.call(x)
        return self._full_call(args, kwargs)

    def _call_in_context(self, args, kwargs):
        """call() with the training flag resolved (explicit, else the enclosing call's) and made the
        context of the layers it calls."""
        ctx = _CallContext
        training = kwargs.pop("training", None) if kwargs else None
        outer = ctx.training
        if training is None:
            training = outer
        if ctx.depth == 0:
            ctx.epoch += 1
        ctx.depth += 1
        ctx.training = training
        try:
            if training is not None and self._call_has_training:
                kwargs["training"] = training
            outputs = self.call(*args, **kwargs)
            if self._activity_regularizer is not None:
                for out in flatten(outputs):
                    if type(out) is Tensor:
                        self.add_loss(self._activity_regularizer(out))
            return outputs
        finally:
            ctx.depth -= 1
            ctx.training = outer

    def _full_call(self, args, kwargs):
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"Layer {self.name}: call it with the input tensor(s) as first argument")
            args = (kwargs.pop("inputs"),)
        if any(isinstance(t, KerasTensor) for t in flatten(args[0])):
            return self._symbolic_call(args, kwargs)
        mask = kwargs.get("mask")
        if mask is None:
            mask = attached_mask(args[0])  # read before conversion, which may make new tensors
            if mask is not None and self._call_has_mask:
                kwargs["mask"] = mask
        inputs = map_structure(self._convert_input, args[0])
        args = (inputs,) + tuple(args[1:])
        shapes = map_structure(lambda t: tuple(t.shape) if type(t) is Tensor else None, inputs)
        if not self.built:
            self._maybe_build(shapes)
        if self._input_spec is not None:
            self._assert_input_compatibility(shapes)
        outputs = self._call_in_context(args, kwargs)
        if mask is not None or self._computes_masks():
            attach_output_masks(self, inputs, outputs, mask)
        return outputs

    def _convert_input(self, x):
        """Arrays and numbers become ember tensors; floats take the layer's float dtype (Keras's
        autocast). Integer and bool inputs stay as they are, as in Keras, except in the built-in
        layers that compute in float (`_casts_integer_input`: Dense, Conv2D, the recurrent, pooling
        and merge layers, ...), which cast them to their dtype as Keras's type promotion does."""
        if type(x) is Tensor:
            if x.dtype is self._dtype or not self._dtype.is_floating_point:
                return x
            if x.dtype.is_floating_point:
                return x.to(self._dtype) if self._autocast else x
            return x.to(self._dtype) if self._casts_integer_input else x
        if x is None or isinstance(x, (str, bytes)):
            return x
        if isinstance(x, (np.ndarray, np.generic, numbers.Number)) or hasattr(x, "__array__"):
            arr = np.asarray(x)
            if self._dtype.is_floating_point and (arr.dtype.kind == "f" or
                                                  (arr.dtype.kind in "biu" and self._casts_integer_input)):
                return _C.from_numpy(np.asarray(arr, dtype=_dtype.TO_NUMPY[self._dtype], order="C"))
            return _C.from_numpy(np.asarray(arr, order="C"))
        return x

    def _symbolic_call(self, args, kwargs):
        inputs = args[0]
        shapes = map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else None, inputs)
        if not self.built:
            self._maybe_build(shapes)
        if self._input_spec is not None:
            self._assert_input_compatibility(shapes)
        kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        outputs = map_shapes(lambda s: KerasTensor(s, self.dtype, name=unique_name("keras_tensor")),
                             self.compute_output_shape(shapes))
        Node(self, args, kwargs, outputs)
        if self._output_shape is None:
            self._output_shape = map_structure(lambda t: t.shape, outputs)
        return outputs

    # ---- configuration ----------------------------------------------------------------------------------
    def get_config(self):
        """The constructor arguments that recreate the layer (without its weights)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if written_by_user(type(self), "__init__") and not written_by_user(type(self), "get_config"):
            config.update(auto_config(self))
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def output_shape(self):
        """The output shape recorded when the layer was built in a model (None for unknown sizes)."""
        if self._output_shape is None:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no defined output shape.")
        return self._output_shape

    @property
    def input(self):
        node = self._inbound_nodes[0] if self._inbound_nodes else None
        if node is None:
            raise AttributeError(f"Layer {self.name} is not connected, no input to return.")
        tensors = node.input_tensors if node.input_tensors else node.output_tensors
        return tensors[0] if len(tensors) == 1 else tensors

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has no inbound nodes.")
        tensors = self._inbound_nodes[0].output_tensors
        return tensors[0] if len(tensors) == 1 else tensors

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
