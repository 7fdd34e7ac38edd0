"""Layers that wrap a layer: Bidirectional (a recurrent layer run both ways through the sequence)
and TimeDistributed (a layer applied to every time step)."""
import copy

from ..._fn.shape import cat as _cat
from .base import Layer
from .recurrent import reverse_time
from .utils import InputSpec

__all__ = ["Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy_layer(layer, name, **changes):
    """A new layer from layer's config (fresh weights) with a new name and the given changes."""
    from ..saving import deserialize_keras_object, serialize_keras_object
    config = serialize_keras_object(layer)
    config["config"].update(changes, name=name)
    return deserialize_keras_object(config)


def _without_prefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """Runs `layer` forwards and a copy of it backwards (go_backwards flipped) over the same sequence
    and merges their outputs: merge_mode 'concat' (default), 'sum', 'mul', 'ave', or None (a list
    [forward, backward]). With return_sequences the backward output is put back in input order;
    masked steps output zeros (Keras sets zero_output_for_mask = return_sequences on both). With
    return_state the states follow the output: forward's, then backward's. initial_state: the
    forward layer's states, then the backward layer's."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        kwargs.setdefault("dtype", layer.dtype)  # inputs stay in the precision the wrapped layer computes in
        super().__init__(**kwargs)
        self.forward_layer = _copy_layer(layer, "forward_" + _without_prefix(layer.name, "forward_"))
        if backward_layer is None:
            backward_layer = _copy_layer(layer, "backward_" + _without_prefix(layer.name, "backward_"),
                                         go_backwards=not layer.go_backwards)
        self.backward_layer = backward_layer
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = getattr(layer, "stateful", False)
        self.supports_masking = True
        self.input_spec = InputSpec(ndim=3)
        if weights:
            half = len(weights) // 2
            self._initial_weights = (weights[:half], weights[half:])
        else:
            self._initial_weights = None

    def _verify_layer_config(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(f"Forward layer and backward layer should have different `go_backwards` value. "
                             f"Received: forward_layer.go_backwards {forward.go_backwards}, "
                             f"backward_layer.go_backwards={backward.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, attr, None) != getattr(backward, attr, None):
                raise ValueError(f'Forward layer and backward layer are expected to have the same value for attribute '
                                 f'"{attr}", got "{getattr(forward, attr, None)}" for forward layer and '
                                 f'"{getattr(backward, attr, None)}" for backward layer')

    def build(self, sequences_shape, initial_state_shape=None):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub._maybe_build(tuple(sequences_shape))
        if self._initial_weights is not None:
            self.forward_layer.set_weights(self._initial_weights[0])
            self.backward_layer.set_weights(self._initial_weights[1])
            self._initial_weights = None
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_kwargs, backward_kwargs = {"training": training}, {"training": training}
        if mask is not None:
            forward_kwargs["mask"] = backward_kwargs["mask"] = mask
        if initial_state is not None:
            states = list(initial_state)
            half = len(states) // 2
            forward_kwargs["initial_state"], backward_kwargs["initial_state"] = states[:half], states[half:]
        y = self.forward_layer(sequences, **forward_kwargs)
        y_rev = self.backward_layer(sequences, **backward_kwargs)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = reverse_time(y_rev)
        if self.merge_mode == "concat":
            output = _cat([y, y_rev], -1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) * 0.5
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if self.merge_mode is None else [output]) + states
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output_shape = self.forward_layer.compute_output_shape(sequences_shape)
        state_shapes = []
        if self.return_state:
            output_shape, state_shapes = output_shape[0], list(output_shape[1:])
        if self.merge_mode == "concat":
            last = output_shape[-1]
            output_shape = tuple(output_shape[:-1]) + (None if last is None else 2 * last,)
        if self.merge_mode is None:
            outputs = [tuple(output_shape), tuple(output_shape)]
        else:
            outputs = [tuple(output_shape)]
        if self.return_state:
            return outputs + state_shapes + state_shapes
        return outputs if self.merge_mode is None else outputs[0]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if self.return_sequences:
            return [mask, mask] if self.merge_mode is None else mask
        return [None, None] if self.merge_mode is None else None

    def get_config(self):
        from ..saving import serialize_keras_object
        config = super().get_config()
        config.update({"merge_mode": self.merge_mode, "layer": serialize_keras_object(self.forward_layer),
                       "backward_layer": serialize_keras_object(self.backward_layer)})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving import deserialize_keras_object
        config = copy.deepcopy(config)
        config["layer"] = deserialize_keras_object(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_keras_object(config["backward_layer"], custom_objects)
        return cls(**config)


class TimeDistributed(Layer):
    """Applies `layer` to every time step of (batch, time, ...) inputs: the steps are folded into the
    batch (batch * time, ...), the layer runs once on them, and the result is unfolded to (batch,
    time, ...). The layer's weights are shared by all steps."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        kwargs.setdefault("dtype", layer.dtype)
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    def _child_input_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                             f"received: {input_shape}")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        if not self.layer.built:
            self.layer._maybe_build(self._child_input_shape(input_shape))
        self.built = True

    def call(self, inputs, training=None, mask=None):
        shape = inputs.shape
        if len(shape) < 3:
            self._child_input_shape(shape)  # raises Keras's message
        batch, steps = shape[0], shape[1]
        kwargs = {}
        if self.layer._call_has_training:
            kwargs["training"] = training
        if mask is not None:
            if tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(f"`TimeDistributed` Layer should be passed a `mask` of shape ({batch}, {steps}, ...), "
                                 f"received: mask.shape={tuple(mask.shape)}")
            if self.layer._call_has_mask and mask.ndim > 2:
                kwargs["mask"] = mask.reshape((batch * steps,) + tuple(mask.shape[2:]))
        outputs = self.layer(inputs.reshape((batch * steps,) + tuple(shape[2:])), **kwargs)
        return outputs.reshape((batch, steps) + tuple(outputs.shape[1:]))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_input_shape(input_shape))
        return (child[0], input_shape[1]) + tuple(child[1:])

    def get_config(self):
        from ..saving import serialize_keras_object
        config = super().get_config()
        config["layer"] = serialize_keras_object(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving import deserialize_keras_object
        config = copy.deepcopy(config)
        config["layer"] = deserialize_keras_object(config["layer"], custom_objects)
        return cls(**config)
