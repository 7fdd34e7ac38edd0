"""DataLoader: batches of a dataset in sequential or shuffled order, in this process.

Batching is `collate_fn([dataset[i] for i in batch_indices])`. For a TensorDataset (or a Subset of
one) with the default collation, each batch is instead one index_select per tensor: the same
result without building and stacking one row tensor per sample, which is what a training loop
over in-memory tensors spends its time on otherwise.
"""
import builtins
import warnings

import numpy as np

from .. import _C
from ..generator import check_generator
from .collate import default_collate, default_convert
from .dataset import Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def _row_gatherer(dataset):
    """For a TensorDataset, or Subsets of one, that index as the base classes do: a function from
    a list of positions to the collated batch (a list with one tensor per dataset tensor).
    None for any other dataset."""
    getitem = type(dataset).__getitem__
    if getitem is TensorDataset.__getitem__:
        tensors = dataset.tensors

        def gather(positions):
            index = _C.from_numpy(np.asarray(positions, dtype=np.int64))
            return [_C.index_select(t, 0, index) for t in tensors]
        return gather
    if getitem is Subset.__getitem__:
        inner = _row_gatherer(dataset.dataset)
        if inner is None:
            return None
        mapping = np.asarray(dataset.indices, dtype=np.int64).reshape(-1)
        return lambda positions: inner(mapping[np.asarray(positions, dtype=np.int64)])
    return None


class DataLoader:
    """Iterates over a dataset in batches.

        loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
        for xb, yb in loader: ...

    Args:
        dataset: anything with __getitem__ and __len__ (an ember.data.Dataset, a list, ...).
        batch_size: samples per batch (a positive int), or None to yield single samples.
        shuffle: a new random order each epoch (from `generator`, else from ember's global
            generator, so ember.manual_seed repeats it).
        sampler / batch_sampler: custom orders of positions / of lists of positions.
        collate_fn: merges a list of samples into a batch (default: default_collate).
        drop_last: drop the last batch when it is shorter than batch_size.
        generator: an ember.Generator for shuffling.
        num_workers: only 0; data is loaded in this process.
        pin_memory: accepted and ignored (batches are built where the dataset lives).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, *, generator=None):
        if not isinstance(num_workers, builtins.int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             f"multiprocessing (got num_workers={num_workers!r})")
        if num_workers > 0:
            raise ValueError(f"DataLoader: num_workers={num_workers} asks for worker processes, but "
                             "multiprocess loading is not supported yet; use num_workers=0")
        check_generator(generator, "DataLoader")
        shuffle = builtins.bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
            if drop_last and hasattr(dataset, "__len__") and len(dataset) < batch_size:
                warnings.warn(f"DataLoader: drop_last=True with batch_size={batch_size} larger than the "
                              f"dataset ({len(dataset)} samples) yields no batches at all", UserWarning,
                              stacklevel=2)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator = generator
        self._default_collation = collate_fn is None or collate_fn is default_collate
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __iter__(self):
        if self.batch_sampler is None:
            for position in self.sampler:
                yield self.collate_fn(self.dataset[position])
            return
        gather = _row_gatherer(self.dataset) if self._default_collation else None
        for positions in self.batch_sampler:
            if gather is not None:
                yield gather(positions)
            else:
                yield self.collate_fn([self.dataset[i] for i in positions])

    def __len__(self):
        """Batches per epoch (samples per epoch when batch_size is None)."""
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)
