"""Weights of Keras-style layers: `add_weight` and the lists, getters and setters built on it, as a
base class of Layer (which supplies the weights' owner attributes)."""
import numpy as np

from ... import _C
from ... import _dtype
from ...autograd import no_grad
from ...nn.module import Module
from ...nn.parameter import Parameter
from .. import constraints, initializers, regularizers
from ._state import _CallContext, _bump
from .utils import standardize_shape

Tensor = _C.Tensor


class LayerWeights:
    """The weight methods of Layer."""

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, regularizer=None,
                   constraint=None, name=None, autocast=True, aggregation=None):
        """Creates a weight (an ember Parameter) initialized by `initializer`, registers it on the
        layer and returns it. The defaults are Keras's: shape (), glorot_uniform for float weights."""
        shape = () if shape is None else standardize_shape(shape, "add_weight: shape")
        if any(d is None for d in shape):
            raise ValueError(f"Shapes used to initialize variables must be fully-defined (no `None` dimensions). "
                             f"Received: shape={shape} for variable {self.name}/{name}")
        dtype = self._dtype if dtype is None else _dtype.as_dtype(dtype, "add_weight")
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating_point else "zeros"
        init = initializers.get(initializer)
        with no_grad():
            value = init(shape, dtype=dtype)
        if type(value) is not Tensor:
            value = _C.from_numpy(np.array(value, dtype=_dtype.TO_NUMPY[dtype], order="C"))  # our own copy
        if value.shape != shape:
            raise ValueError(f"add_weight: the initializer of {self.name}/{name} returned shape {value.shape}, "
                             f"expected {shape}")
        if value.dtype is not dtype:
            value = value.to(dtype)
        trainable = bool(trainable)
        weight = Parameter(value.contiguous(), requires_grad=trainable and self._trainable and dtype.is_floating_point)
        weight.name = name or self._free_weight_name("variable")
        weight.path = f"{self.name}/{weight.name}"
        weight.trainable = trainable and self._trainable
        weight.regularizer = regularizers.get(regularizer)
        weight.constraint = constraints.get(constraint)  # the optimizer applies it after each update
        key = weight.name.replace(".", "_")
        if self.__dict__.get(key, 0) is None:
            del self.__dict__[key]  # a placeholder such as `self.bias = None` set before build
        self.register_parameter(self._free_weight_name(key), weight)
        (self._own_trainable if trainable else self._own_non_trainable).append(weight)
        self._own_ids.add(id(weight))
        _bump()
        return weight

    add_variable = add_weight

    def _free_weight_name(self, base):
        """base, or base_1, base_2 ...: a name that no attribute or registered member of the layer has."""
        taken = lambda n: n in self.__dict__ or hasattr(type(self), n) or n in self._modules  # noqa: E731
        name, i = base, 0
        while taken(name) or name in self._parameters:
            i += 1
            name = f"{base}_{i}"
        return name

    def _sublayers(self):
        """Directly contained layers, in registration order, each once."""
        seen, out = set(), []
        for module in self._modules.values():
            if isinstance(module, LayerWeights) and id(module) not in seen:
                seen.add(id(module))
                out.append(module)
        return out

    def _flatten_layers(self, include_self=True):
        """This layer (optionally) and every layer below it, depth first, each once."""
        seen, out = set(), []

        def visit(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for child in layer._sublayers():
                visit(child)
        visit(self)
        return out if include_self else out[1:]

    def _cached(self, key, compute):
        entry = self._cache.get(key)
        if entry is None or entry[0] != _CallContext.version:
            entry = (_CallContext.version, compute())
            self._cache[key] = entry
        return entry[1]

    def _all_weights(self):
        out, seen = [], set()
        for layer in self._flatten_layers():
            for w in layer._own_trainable + layer._own_non_trainable:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def weights(self):
        """All weights: this layer's own (trainable-at-creation first), then its sublayers'."""
        return list(self._cached("weights", self._all_weights))

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return list(self._cached("trainable", lambda: [w for w in self._all_weights() if w.trainable]))

    @property
    def non_trainable_weights(self):
        if not self._trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self):
        """Copies of the weights' values, as NumPy arrays in the order of `weights`."""
        return [np.array(w.detach().cpu().numpy(), copy=True) for w in self.weights]

    def set_weights(self, weights):
        """Sets the weights' values (in place: the Parameters keep their identity) from NumPy arrays
        in the order of `weights`."""
        mine = self.weights
        weights = list(weights)
        if len(mine) != len(weights):
            raise ValueError(f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of length "
                             f"{len(weights)}, but the layer was expecting {len(mine)} weights.")
        values = []
        for w, value in zip(mine, weights):
            arr = np.asarray(value.detach().cpu() if type(value) is Tensor else value)
            if tuple(arr.shape) != w.shape:
                raise ValueError(f"Layer {self.name} weight shape {w.shape} is not compatible with provided weight "
                                 f"shape {tuple(arr.shape)}.")
            values.append(np.asarray(arr, dtype=_dtype.TO_NUMPY[w.dtype], order="C"))
        with no_grad():
            for w, arr in zip(mine, values):
                _C.copy_(w, _C.from_numpy(arr))

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                             "You can build it manually via: `layer.build(input_shape)`.")
        return int(sum(w.numel() for w in self.weights))

    def _apply(self, fn, memo=None):
        # Module._apply may replace parameters (a dtype change makes new tensors): follow them
        memo = {} if memo is None else memo
        Module._apply(self, fn, memo)
        for registry in (self._own_trainable, self._own_non_trainable):
            for i, w in enumerate(registry):
                new = memo.get(id(w), (w, w))[1]
                if new is not w:
                    for attr in ("name", "path", "trainable", "regularizer", "constraint"):
                        setattr(new, attr, getattr(w, attr))
                    registry[i] = new
        self._own_ids = {id(w) for w in self._own_trainable + self._own_non_trainable}
        floats = [w for w in self._own_trainable + self._own_non_trainable if w.dtype.is_floating_point]
        if floats:
            self._dtype = floats[0].dtype
        _bump()
        return self
