"""A real small task for the Trainer tests: scikit-learn's handwritten digits as sequences.

Each 8×8 image is read row by row: 8 time steps of 8 features (pixel intensities / 16). A
one-layer ``torch.nn.GRU`` with dropout reads the rows; a linear head predicts the digit.
Importable by a subprocess (``python -c "from tests.train.digits import ..."``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

from rnnlab.config import TrainConfig

__all__ = ["DigitsBatch", "DigitsBatches", "DigitsGRU", "digits_splits", "make_model"]


@dataclass
class DigitsBatch:
    x: torch.Tensor  # (B, 8, 8)
    y: torch.Tensor  # (B,)

    @property
    def num_tokens(self) -> int:
        return int(self.x.shape[0] * self.x.shape[1])

    def to(self, device: torch.device) -> DigitsBatch:
        return DigitsBatch(self.x.to(device), self.y.to(device))


class DigitsBatches:
    """Shuffled per epoch with a generator seeded by (seed, epoch): a replayable order."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool, seed=0):
        self.x, self.y, self.batch_size, self.shuffle, self.seed = x, y, batch_size, shuffle, seed

    def num_batches(self, epoch: int) -> int:
        return -(-len(self.y) // self.batch_size)

    def batches(self, epoch: int) -> Iterator[DigitsBatch]:
        if self.shuffle:
            order = torch.randperm(
                len(self.y), generator=torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            )
        else:
            order = torch.arange(len(self.y))
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            yield DigitsBatch(self.x[index], self.y[index])


def digits_splits(batch_size: int = 32) -> tuple[DigitsBatches, DigitsBatches, float]:
    """Train (1,437 images) and valid (360) sources, and the valid majority-class accuracy."""
    digits = load_digits()
    x = torch.tensor(digits.images / 16.0, dtype=torch.float32)  # (1797, 8, 8)
    y = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    train, valid = order[:1437], order[1437:]
    majority = float(np.bincount(y[valid].numpy()).max() / len(valid))
    return (
        DigitsBatches(x[train], y[train], batch_size, shuffle=True),
        DigitsBatches(x[valid], y[valid], batch_size, shuffle=False),
        majority,
    )


class DigitsGRU(nn.Module):
    """GRU over the 8 rows → dropout → linear head over the 10 digits."""

    def __init__(self, hidden: int = 32, dropout: float = 0.1) -> None:
        super().__init__()
        self.rnn = nn.GRU(8, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_n = self.rnn(x)  # (1, B, H)
        return self.head(self.dropout(h_n[-1]))  # (B, 10)

    def training_step(self, batch: DigitsBatch) -> torch.Tensor:
        return nn.functional.cross_entropy(self(batch.x), batch.y)

    def evaluate(self, batches: Iterable[DigitsBatch]) -> dict[str, float]:
        loss, correct, count = 0.0, 0, 0
        for batch in batches:
            logits = self(batch.x)
            loss += float(nn.functional.cross_entropy(logits, batch.y, reduction="sum"))
            correct += int((logits.argmax(-1) == batch.y).sum())
            count += len(batch.y)
        return {"loss": loss / count, "accuracy": correct / count}


def make_model(seed: int = 0, **kwargs) -> DigitsGRU:
    """The model with weights drawn from ``seed`` (so two runs start from the same weights)."""
    torch.manual_seed(seed)
    return DigitsGRU(**kwargs)


TIMING = ("seconds", "tokens_per_s")  # history keys that vary from run to run


def without_timing(history: list[dict]) -> list[dict]:
    """History records without the keys that vary from run to run, for comparing runs."""
    return [{k: v for k, v in r.items() if k not in TIMING} for r in history]


def digits_config(**kwargs) -> TrainConfig:
    """Settings for the digits task: 1 thread (deterministic, no fight over 2 cores), a
    constant learning rate (so that a run may be extended), no checkpoints unless asked."""
    defaults = {"epochs": 3, "lr": 1e-2, "schedule": "none", "num_threads": 1}
    return TrainConfig(**{"checkpoint_every": 0, **defaults, **kwargs})
