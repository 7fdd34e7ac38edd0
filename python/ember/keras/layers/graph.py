"""The symbolic side of layer calls: KerasTensor (a shape and a dtype, no data) and Node (one call of a
layer on KerasTensors), from which a functional Model reads its graph.

    x = Input(shape=(784,))          # KerasTensor shape=(None, 784), made by an InputLayer's node
    y = Dense(10)(x)                 # Dense records Node(dense, inputs=[x], outputs=[y])

A KerasTensor remembers where it came from in `_history = (layer, node_index, tensor_index)`:
the node is `layer._inbound_nodes[node_index]`, the tensor its output number tensor_index.
Also the structure helpers (flatten / map over nested lists, tuples and dicts) that layer calls use.
"""
__all__ = ["KerasTensor", "Node", "flatten", "map_structure", "pack_like", "is_shape", "map_shapes"]


class KerasTensor:
    """A symbolic tensor: what Input() returns and what layers return when called on one. It holds a
    shape (None for unknown dims, the batch first) and a dtype name; calling layers on it builds a
    graph that Model(inputs, outputs) turns into a model."""

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.name = name or "keras_tensor"
        self._history = None

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def node(self):
        """The Node that produced this tensor (None for a tensor made by hand)."""
        if self._history is None:
            return None
        layer, node_index, _ = self._history
        return layer._inbound_nodes[node_index]

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse=False, name={self.name}>"

    def _no_math(self, *args):
        raise TypeError("KerasTensor: arithmetic on symbolic tensors is not supported; combine them with layers "
                        "(layers.Add, layers.Subtract, layers.Multiply, layers.Concatenate, layers.Activation)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __matmul__ = _no_math

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic (it has a shape but no values); it cannot become a NumPy array. "
                        "Build a Model(inputs, outputs) and call it on data")

    def numpy(self):
        self.__array__()


class Node:
    """One call of `layer` on symbolic inputs: the call's arguments (KerasTensors inside any nesting of
    lists, tuples and dicts, plus plain values), and the KerasTensors it produced."""

    def __init__(self, layer, call_args=(), call_kwargs=None, outputs=()):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = [t for t in flatten((self.call_args, self.call_kwargs)) if isinstance(t, KerasTensor)]
        self.outputs = outputs
        self.output_tensors = [t for t in flatten(outputs) if isinstance(t, KerasTensor)]
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._history = (layer, node_index, i)

    @property
    def is_input(self):
        return not self.input_tensors

    @property
    def parent_nodes(self):
        return [t.node for t in self.input_tensors if t.node is not None]


# ---- nested structures -----------------------------------------------------------------------------

def flatten(structure):
    """The leaves of nested lists / tuples / dicts (dict values in key order), depth first."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def map_structure(fn, structure):
    """The same nesting with fn applied to every leaf."""
    if isinstance(structure, list):
        return [map_structure(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, value) for key, value in structure.items()}
    return fn(structure)


def pack_like(structure, leaves):
    """Rebuilds `structure`'s nesting from a flat list of leaves (the inverse of flatten)."""
    it = iter(leaves)

    def rebuild(s):
        if isinstance(s, list):
            return [rebuild(item) for item in s]
        if isinstance(s, tuple):
            return tuple(rebuild(item) for item in s)
        if isinstance(s, dict):
            return _rebuild_dict(s, rebuild)
        return next(it)

    return rebuild(structure)


def _rebuild_dict(d, rebuild):
    # flatten visits dict values in sorted key order; rebuild in that order, then restore the original order
    rebuilt = {key: rebuild(d[key]) for key in sorted(d)}
    return {key: rebuilt[key] for key in d}


def is_shape(value):
    """True for one shape: a tuple or list of ints and Nones (the empty tuple included)."""
    return isinstance(value, (tuple, list)) and all(d is None or (isinstance(d, int) and not isinstance(d, bool))
                                                    for d in value)


def map_shapes(fn, shapes):
    """fn applied to each shape in a shape or a nesting of shapes."""
    if is_shape(shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, dict):
        return {key: map_shapes(fn, value) for key, value in shapes.items()}
    return type(shapes)(map_shapes(fn, s) for s in shapes)
