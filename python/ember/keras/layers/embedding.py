"""Embedding: rows of a (input_dim, output_dim) table picked by integer ids, over ember's lookup
kernel (which checks every id before reading and scatter-adds the gradient into the rows it read).

mask_zero=True makes id 0 padding: the layer attaches the mask `ids != 0` to its output, and the
recurrent layers after it skip those steps, as in Keras.
"""
import numbers
import warnings

import numpy as np

from ... import _C
from ... import _dtype
from ..._fn.rnn import embedding as _embedding
from .. import constraints, initializers, regularizers
from .base import Layer

Tensor = _C.Tensor

__all__ = ["Embedding"]


class Embedding(Layer):
    """(batch, ...) integer ids in [0, input_dim) -> (batch, ..., output_dim) rows of `embeddings`.
    Float ids are truncated to integers, as Keras casts them."""
    _leaf = True
    _autocast = False  # ids stay integers

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, **kwargs):
        input_length = kwargs.pop("input_length", None)
        if input_length is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", UserWarning, stacklevel=2)
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"Both `input_dim` and `output_dim` should be positive, Received {name}={value!r}")
        if lora_rank:
            raise NotImplementedError("Embedding: lora_rank (LoRA fine-tuning) is not supported")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self._initial_weights = weights
        self.embeddings = None

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint, name="embeddings")
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _convert_input(self, x):
        if type(x) is Tensor or x is None:
            return x
        arr = np.asarray(x)
        if arr.dtype.kind not in "iu":
            arr = arr.astype(np.int64)
        return _C.from_numpy(np.ascontiguousarray(arr))

    def call(self, inputs):
        if inputs.dtype.is_floating_point or inputs.dtype is _dtype.bool:
            inputs = inputs.to(_dtype.int64)
        try:
            return _embedding(inputs, self.embeddings)
        except IndexError as exc:
            raise IndexError(f'Layer "{self.name}" (Embedding with input_dim={self.input_dim}): {exc}') from None

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return _C.ne(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "mask_zero": self.mask_zero,
        })
        return config
