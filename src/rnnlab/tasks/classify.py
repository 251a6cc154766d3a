"""Text classification: embedding → recurrent encoder → pooling → linear head.

The model implements the Trainer's protocol (``training_step``, ``evaluate``); batches carry
padded token ids, lengths and label ids. Loss: cross-entropy (softmax over K ≥ 2 classes,
binary included, so that probabilities of every class are reported alike).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.config import ModelConfig
from rnnlab.evaluate.metrics import classification_metrics
from rnnlab.tasks.encoder import TextEncoder, pool
from rnnlab.text.batching import BucketBatchSampler, pad_batch

__all__ = ["ClassificationBatches", "RecurrentClassifier", "TextBatch"]


@dataclass
class TextBatch:
    """Padded token ids (B, T), lengths (B,), label ids (B,) or None, row indices (B,)."""

    ids: Tensor
    lengths: Tensor
    labels: Tensor | None
    index: Tensor

    @property
    def num_tokens(self) -> int:
        return int(self.lengths.sum())

    def to(self, device: torch.device | str) -> TextBatch:
        return TextBatch(
            self.ids.to(device),
            self.lengths,  # lengths stay on the CPU: packing wants them there
            None if self.labels is None else self.labels.to(device),
            self.index,
        )


class ClassificationBatches:
    """Batches of encoded texts; length-bucketed and shuffled per epoch when ``shuffle``.

    The order of epoch e is a function of (seed, e) only, so an interrupted run can replay it
    and skip the batches already done.
    """

    def __init__(
        self,
        sequences: Sequence[Sequence[int]],
        labels: Sequence[int] | None,
        batch_size: int,
        *,
        shuffle: bool = False,
        bucketing: bool = True,
        seed: int = 0,
        pad_id: int = 0,
    ) -> None:
        self.sequences = sequences
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pad_id = pad_id
        lengths = [len(s) for s in sequences]
        self.sampler = (
            BucketBatchSampler(
                lengths,
                batch_size,
                shuffle=shuffle,
                seed=seed,
                chunk_multiplier=50 if (bucketing and shuffle) else 1,
            )
            if shuffle
            else None
        )
        self._lengths = lengths

    def _batch_indices(self, epoch: int) -> list[list[int]]:
        if self.sampler is None:
            n = len(self.sequences)
            return [
                list(range(i, min(i + self.batch_size, n))) for i in range(0, n, self.batch_size)
            ]
        self.sampler.set_epoch(epoch)
        return [list(b) for b in self.sampler]

    def num_batches(self, epoch: int = 0) -> int:
        return len(self._batch_indices(epoch))

    def batches(self, epoch: int = 0) -> Iterator[TextBatch]:
        for indices in self._batch_indices(epoch):
            ids, lengths = pad_batch([list(self.sequences[i]) for i in indices], self.pad_id)
            labels = None if self.labels is None else torch.from_numpy(self.labels[indices])
            yield TextBatch(ids, lengths, labels, torch.tensor(indices))

    def __len__(self) -> int:
        return len(self.sequences)


class RecurrentClassifier(nn.Module):
    """Embedding → RNN/LSTM/GRU → pooling over valid steps → linear head (logits over K)."""

    def __init__(
        self, vocab_size: int, labels: Sequence[str], config: ModelConfig, pad_id: int = 0
    ) -> None:
        super().__init__()
        self.config = config
        self.labels = list(labels)
        self.encoder = TextEncoder(vocab_size, config, pad_id)
        self.head = nn.Linear(self.encoder.output_size, len(self.labels))

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Logits (B, K)."""
        outputs, h_n, _ = self.encoder(ids, lengths)
        pooled = pool(outputs, h_n, lengths, self.config.pooling, self.config.bidirectional)
        return self.head(pooled)

    def training_step(self, batch: TextBatch) -> Tensor:
        logits = self(batch.ids, batch.lengths)
        return nn.functional.cross_entropy(logits, batch.labels)

    @torch.no_grad()
    def predict_batches(self, batches: Iterable[TextBatch]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (N, K) in the order of the batches' ``index``, and that index."""
        probs, order = [], []
        device = next(self.parameters()).device
        for batch in batches:
            batch = batch.to(device)
            probs.append(torch.softmax(self(batch.ids, batch.lengths), dim=-1).cpu())
            order.append(batch.index)
        if not probs:
            return np.zeros((0, len(self.labels)), dtype=np.float32), np.zeros(0, dtype=np.int64)
        return torch.cat(probs).numpy(), torch.cat(order).numpy()

    @torch.no_grad()
    def evaluate(self, batches: Iterable[TextBatch]) -> dict[str, float]:
        """Loss, accuracy, macro-F1 and per-class scores over labelled batches."""
        device = next(self.parameters()).device
        total_loss, count, y_true, y_pred = 0.0, 0, [], []
        for batch in batches:
            batch = batch.to(device)
            logits = self(batch.ids, batch.lengths)
            total_loss += float(nn.functional.cross_entropy(logits, batch.labels, reduction="sum"))
            count += len(batch.labels)
            y_true.append(batch.labels.cpu())
            y_pred.append(logits.argmax(-1).cpu())
        metrics = classification_metrics(
            torch.cat(y_true).numpy(), torch.cat(y_pred).numpy(), self.labels
        )
        metrics.pop("confusion_matrix")
        metrics["loss"] = total_loss / max(count, 1)
        return metrics  # type: ignore[return-value]
