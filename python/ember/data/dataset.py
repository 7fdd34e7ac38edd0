"""Map-style datasets: anything indexable by position with a length, as in torch.utils.data."""
import bisect
import builtins
import itertools
import math
import numbers
import warnings

import numpy as np

from ..creation import as_tensor
from ..generator import generator_or_global
from ..tensor import Tensor


class Dataset:
    """A collection of samples indexed by position: subclasses define __getitem__ and __len__.

    `a + b` chains two datasets into a ConcatDataset.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Rows of tensors that share their first dimension: item i is (t[i] for t in tensors).

    NumPy arrays are accepted and shared (no copy) as ember tensors. A DataLoader over a
    TensorDataset gathers each batch with one index_select per tensor instead of stacking rows.
    """

    def __init__(self, *tensors):
        converted = []
        for position, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = as_tensor(t)
            elif not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {position} must be an ember tensor or a NumPy "
                                f"array, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {position} is 0-d; every tensor needs a first "
                                 "dimension to index samples along")
            converted.append(t)
        sizes = [t.shape[0] for t in converted]
        if len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: the tensors' first dimensions must match, got sizes {sizes} "
                             f"(shapes {[tuple(t.shape) for t in converted]})")
        self.tensors = tuple(converted)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0] if self.tensors else 0


class ConcatDataset(Dataset):
    """Several datasets read one after another as a single dataset."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        length = len(self)
        if index < 0:
            if -index > length:
                raise ValueError(f"ConcatDataset: absolute value of index {index} should not exceed dataset "
                                 f"length {length}")
            index += length
        part = bisect.bisect_right(self.cumulative_sizes, index)
        if part == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {length}")
        start = self.cumulative_sizes[part - 1] if part > 0 else 0
        return self.datasets[part][index - start]


class Subset(Dataset):
    """The samples of `dataset` at the given indices, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def _fractions_to_lengths(fractions, total):
    """Splits `total` by fractions summing to 1: floors first, then one more to each split in
    turn until the remainder is used up (PyTorch's rule, so sizes match)."""
    lengths = []
    for position, fraction in enumerate(fractions):
        if fraction < 0 or fraction > 1:
            raise ValueError(f"Fraction at index {position} is not between 0 and 1")
        lengths.append(math.floor(total * fraction))
    for turn in range(total - builtins.sum(lengths)):
        lengths[turn % len(lengths)] += 1
    for position, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"Length of split at index {position} is 0. This might result in an empty dataset.",
                          UserWarning, stacklevel=3)
    return lengths


def random_split(dataset, lengths, generator=None):
    """Splits `dataset` into non-overlapping random Subsets of the given lengths, or of fractions
    of its length that sum to 1 (remainders go one each to the first splits).

    The order comes from `generator` (an ember.Generator), else from ember's global generator,
    so ember.manual_seed(s) makes the split repeat.
    """
    lengths = list(lengths)
    if not builtins.all(isinstance(n, numbers.Real) and not isinstance(n, builtins.bool) for n in lengths):
        raise TypeError(f"random_split: lengths must be integers or fractions, got {lengths!r}")
    total = builtins.sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        lengths = _fractions_to_lengths(lengths, len(dataset))
    if builtins.sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    if builtins.any(not isinstance(n, numbers.Integral) or n < 0 for n in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers, got {lengths!r}")
    order = generator_or_global(generator, "random_split").permutation(len(dataset)).tolist()
    ends = list(itertools.accumulate(lengths))
    return [Subset(dataset, order[end - n:end]) for end, n in zip(ends, lengths)]

