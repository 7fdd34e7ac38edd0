"""Turning a list of samples into one batch, with torch.utils.data's default rules.

    tensors           -> stacked along a new first dim
    NumPy arrays      -> stacked, as an ember tensor
    NumPy scalars     -> a 1-d tensor of their dtype
    Python ints/bools -> int64 / bool tensor; Python floats -> float64 tensor (as PyTorch)
    str, bytes        -> the list unchanged
    dicts             -> a dict of batches, key by key
    namedtuples       -> the same namedtuple of batches
    tuples, lists     -> a list of batches, position by position (tuples too, as PyTorch)
"""
import builtins
import collections.abc

import numpy as np

from .. import _C
from .. import _dtype
from ..creation import as_tensor, tensor
from ..tensor import Tensor

_UNSUPPORTED = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                "found {}")


def _numpy_batch(arrays):
    """One ember tensor from equal-shaped NumPy arrays (or scalars): a single np.stack copy."""
    first = np.asarray(arrays[0])
    if first.dtype.kind not in "biuf":
        raise TypeError(_UNSUPPORTED.format(first.dtype))
    _dtype.from_numpy_dtype(first.dtype, "default_collate")  # names the dtype and how to convert
    try:
        stacked = np.stack(arrays)
    except ValueError:
        shapes = [np.shape(a) for a in arrays]
        raise ValueError(f"default_collate: expected each NumPy array to be equal size, got shapes {shapes}") from None
    return _C.from_numpy(np.ascontiguousarray(stacked))


def _map_like(elem, values):
    """A mapping of elem's type holding `values` where the type allows it, else a dict."""
    if type(elem) is dict:
        return values
    try:
        return type(elem)(values)
    except TypeError:
        return values


def _sequence_like(elem, values):
    if isinstance(elem, (tuple, list)) and not hasattr(elem, "_fields"):
        return values
    try:
        return type(elem)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Merges a list of samples into a batch (see the module docstring for the rules)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _C.stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        return _numpy_batch(batch)
    if isinstance(elem, (np.number, np.bool_)):
        return _numpy_batch(batch)
    if isinstance(elem, builtins.float):
        return tensor(batch, dtype=_dtype.float64)
    if isinstance(elem, builtins.int):  # bool included: a list of bools becomes a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _map_like(elem, {key: default_collate([sample[key] for sample in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if builtins.any(len(sample) != size for sample in batch):
            raise RuntimeError(f"each element in list of batch should be of equal size, got lengths "
                               f"{[len(sample) for sample in batch]}")
        return _sequence_like(elem, [default_collate(list(field)) for field in zip(*batch)])
    raise TypeError(_UNSUPPORTED.format(type(elem)))


def default_convert(data):
    """One sample made tensor-friendly without batching: NumPy arrays and scalars become ember
    tensors, inside dicts and sequences too; everything else passes through."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return as_tensor(data) if data.dtype.kind in "biuf" else data
    if isinstance(data, (np.number, np.bool_)):
        return as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _map_like(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return [default_convert(value) for value in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _sequence_like(data, [default_convert(value) for value in data])
    return data
