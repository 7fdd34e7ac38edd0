"""Datasets, samplers and the DataLoader, with the interface of torch.utils.data.

    from ember.data import DataLoader, TensorDataset, random_split
    train, val = random_split(TensorDataset(x, y), [0.8, 0.2])
    for xb, yb in DataLoader(train, batch_size=64, shuffle=True): ...
"""
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = [
    "Dataset", "TensorDataset", "ConcatDataset", "Subset", "random_split",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
    "DataLoader", "default_collate", "default_convert",
]
