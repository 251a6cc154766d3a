"""What the Trainer needs from a model, a batch and a source of batches.

These are structural types (:class:`typing.Protocol`): any class with the right methods fits,
no base class to inherit. Every task (classification, tagging, language modelling,
forecasting) brings its own model and batches; the Trainer only calls what is listed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

import torch

__all__ = ["Batch", "BatchSource", "TrainableModel"]


@runtime_checkable
class Batch(Protocol):
    """One mini-batch: it can move itself to a device and knows how many tokens it holds.

    ``num_tokens`` counts the real (non-padding) time steps; it feeds the tokens/s figure.
    """

    num_tokens: int

    def to(self, device: torch.device) -> Batch:
        """The same batch with its tensors on ``device``."""
        ...


@runtime_checkable
class BatchSource(Protocol):
    """The batches of one epoch, in an order that depends only on the epoch number.

    Determinism lets an interrupted run replay epoch ``e`` and skip the batches it has already
    trained on, so a resumed run equals an uninterrupted one. ``epoch`` counts from 0.
    """

    def batches(self, epoch: int) -> Iterator[Batch]:
        """The batches of ``epoch``, always in the same order for the same ``epoch``."""
        ...

    def num_batches(self, epoch: int) -> int:
        """How many batches :meth:`batches` yields for ``epoch``."""
        ...


@runtime_checkable
class TrainableModel(Protocol):
    """A ``torch.nn.Module`` that knows its loss and its metrics.

    The Trainer owns everything else: optimizer, clipping, devices, modes and checkpoints.
    ``evaluate`` is called in eval mode under ``torch.no_grad()`` and returns flat float
    metrics (``{"loss": 0.31, "accuracy": 0.88}``) that early stopping can monitor.
    """

    def training_step(self, batch: Batch) -> torch.Tensor:
        """The scalar mean loss of ``batch``; the Trainer calls ``backward`` on it."""
        ...

    def evaluate(self, batches: Iterable[Batch]) -> dict[str, float]:
        """Metrics over all ``batches`` (already on the model's device)."""
        ...
