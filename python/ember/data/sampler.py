"""Samplers: the order in which a DataLoader visits a dataset's positions, and how it groups them."""
import builtins
import itertools
import numbers

from ..generator import check_generator, generator_or_global


class Sampler:
    """An iterable over dataset positions; subclasses define __iter__ (and __len__ when known)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Positions 0, 1, ..., len(data_source) - 1 in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _is_count(value):
    """An integer (Python or NumPy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, builtins.bool)


class RandomSampler(Sampler):
    """Positions in random order: a fresh permutation each pass (each position exactly once), or,
    with replacement=True, num_samples independent uniform draws.

    Without replacement, num_samples larger than the dataset chains several permutations. The
    randomness comes from `generator` (an ember.Generator, advanced by each pass), else from a
    generator seeded from ember's global one at the start of each pass, so ember.manual_seed(s)
    makes the order repeat.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, builtins.bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if num_samples is not None and (not _is_count(num_samples) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        check_generator(generator, "RandomSampler")

    @property
    def num_samples(self):
        """How many positions one pass yields (the dataset's length unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, count = len(self.data_source), self.num_samples
        generator = generator_or_global(self.generator, "RandomSampler")
        if self.replacement:
            if n == 0:
                raise ValueError("RandomSampler: cannot draw with replacement from an empty dataset")
            yield from generator.integers(0, n, count).tolist()
            return
        for _ in range(count // n if n else 0):
            yield from generator.permutation(n).tolist()
        if n and count % n:
            yield from generator.permutation(n)[:count % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given positions in random order (a fresh permutation each pass)."""

    def __init__(self, indices, generator=None):
        check_generator(generator, "SubsetRandomSampler")
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        generator = generator_or_global(self.generator, "SubsetRandomSampler")
        for i in generator.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the positions of `sampler` into lists of batch_size; the last, shorter list is kept
    unless drop_last."""

    def __init__(self, sampler, batch_size, drop_last):
        if not _is_count(batch_size) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, builtins.bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = builtins.int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        positions = iter(self.sampler)
        while True:
            batch = list(itertools.islice(positions, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
