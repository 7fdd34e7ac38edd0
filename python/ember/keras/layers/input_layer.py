"""Input(shape) and the InputLayer behind it: the symbolic entry point of functional models (and an
optional first entry of Sequential models, which then build at once)."""
from ... import _dtype
from .base import Layer
from .utils import standardize_shape
from .graph import KerasTensor, Node

__all__ = ["InputLayer", "Input"]


class InputLayer(Layer):
    """Holds the KerasTensor that Input() returns; shape excludes the batch dim, batch_shape includes it."""

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, **kwargs):
        kwargs.pop("sparse", None)
        if shape is None and batch_shape is None:
            shape = kwargs.pop("input_shape", None)
            if shape is None:
                raise ValueError("You must pass a `shape` argument to Input (the shape of one sample, without the "
                                 "batch size), e.g. Input(shape=(784,))")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is not None:
            if shape is not None:
                raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
            batch_shape = standardize_shape(batch_shape, "Input batch_shape")
        else:
            batch_shape = (batch_size,) + standardize_shape(shape, "Input shape")
        self.batch_shape = batch_shape
        self.built = True
        self._output_shape = batch_shape
        self._input_tensor = KerasTensor(batch_shape, self.dtype, name=self.name)
        Node(self, (), {}, self._input_tensor)

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": False, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, tensor=None, sparse=None):  # noqa: N802
    """A symbolic tensor of shape (batch_size, *shape): the input of a functional model,
    `Model(inputs=Input(shape=(784,)), outputs=...)`."""
    if tensor is not None:
        raise ValueError("Input(tensor=...) is not supported: build the model on Input(shape) and call it on data")
    if dtype is not None:
        _dtype.as_dtype(dtype, "Input")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name)
    return layer._input_tensor
