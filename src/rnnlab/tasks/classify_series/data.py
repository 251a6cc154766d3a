"""Labelled series → z-normalised tensors and the seeded mini-batches of one epoch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rnnlab.data.ucr import LabelledSeries, is_ucr_name, load_ucr, read_ts

__all__ = ["SeriesBatch", "SeriesBatches", "load_split", "znorm"]


def znorm(values: np.ndarray) -> np.ndarray:
    """Each row standardised by its own mean and deviation (a flat row becomes zeros)."""
    std = values.std(axis=1, keepdims=True)
    return (values - values.mean(axis=1, keepdims=True)) / np.where(std > 0, std, 1.0)


def load_split(source: str, split: str) -> LabelledSeries:
    """A built-in set's ``split`` or a .ts file."""
    return load_ucr(source, split) if is_ucr_name(source) else read_ts(source)


@dataclass
class SeriesBatch:
    values: Tensor  # (B, T, 1)
    targets: Tensor  # (B,)

    @property
    def num_tokens(self) -> int:
        return int(self.values.shape[0] * self.values.shape[1])

    def to(self, device: torch.device) -> SeriesBatch:
        return SeriesBatch(self.values.to(device), self.targets.to(device))


class SeriesBatches:
    """Mini-batches of ``batch_size`` series, shuffled by (seed, epoch); ``shuffle=False``
    keeps the order (evaluation)."""

    def __init__(self, values: np.ndarray, targets: np.ndarray, batch_size: int, seed: int,
                 shuffle: bool = True) -> None:  # fmt: skip
        self.values = torch.as_tensor(values, dtype=torch.float32).unsqueeze(-1)
        self.targets = torch.as_tensor(targets, dtype=torch.long)
        self.batch_size, self.seed, self.shuffle = batch_size, seed, shuffle

    def num_batches(self, epoch: int) -> int:
        return -(-len(self.targets) // self.batch_size)

    def batches(self, epoch: int = 0) -> Iterator[SeriesBatch]:
        order = torch.arange(len(self.targets))
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            order = torch.randperm(len(self.targets), generator=generator)
        for start in range(0, len(order), self.batch_size):
            pick = order[start : start + self.batch_size]
            yield SeriesBatch(self.values[pick], self.targets[pick])
