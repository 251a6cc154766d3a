"""A recurrent series classifier: values → ``rnnlab.nn`` GRU/LSTM → pooling → linear.

    values (B, T, 1) ─► (bidirectional) GRU ─► outputs (B, T, D·H), h_n
      ─► concat pooling [last, max, mean] (B, 3·D·H) ─► Linear ─► logits (B, C)

Loss: cross-entropy. Every series has the same length, so pooling runs over all steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

import rnnlab.nn as rnn
from rnnlab.tasks.classify_series.data import SeriesBatch
from rnnlab.tasks.encoder import pool, pooled_size, recurrent_layer

__all__ = ["SeriesClassifier"]


class SeriesClassifier(nn.Module):
    def __init__(self, num_classes: int, config: Any) -> None:
        super().__init__()
        self.config = config
        self.rnn = recurrent_layer(config, 1)
        rnn.orthogonal_init_(self.rnn)
        width = config.hidden_size * (2 if config.bidirectional else 1)
        self.head = nn.Linear(pooled_size(width, config.pooling), num_classes)

    def forward(self, values: Tensor) -> Tensor:
        outputs, state = self.rnn(values)
        h_n = state[0] if isinstance(state, tuple) else state
        lengths = torch.full((values.shape[0],), values.shape[1], dtype=torch.long)
        pooled = pool(outputs, h_n, lengths, self.config.pooling, self.config.bidirectional)
        return self.head(pooled)

    def training_step(self, batch: SeriesBatch) -> Tensor:
        return nn.functional.cross_entropy(self(batch.values), batch.targets)

    def evaluate(self, batches: Iterable[SeriesBatch]) -> dict[str, float]:
        loss, right, count = 0.0, 0, 0
        for batch in batches:
            logits = self(batch.values)
            size = batch.targets.shape[0]
            loss += float(nn.functional.cross_entropy(logits, batch.targets)) * size
            right += int((logits.argmax(-1) == batch.targets).sum())
            count += size
        return {"loss": loss / max(count, 1), "accuracy": right / max(count, 1)}
