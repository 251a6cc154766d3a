"""Progress events that embedding training reports to an optional callback.

Library code never prints; the command line turns these events into a rich progress bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ProgressEvent", "ProgressFn"]


@dataclass(frozen=True)
class ProgressEvent:
    """Where training stands.

    Attributes:
        stage: ``"tokenize"`` (reading the corpus), ``"cooccur"`` (GloVe counting) or
            ``"train"``.
        epoch: current epoch, from 1 (0 outside ``"train"``).
        epochs: number of epochs (0 outside ``"train"``).
        words: words processed so far in this stage.
        total_words: words this stage will process, when known (else 0).
        seconds: time spent in this stage so far.
        loss: the latest training loss, when the method reports one.
    """

    stage: str
    epoch: int
    epochs: int
    words: int
    total_words: int
    seconds: float
    loss: float | None = None

    @property
    def words_per_s(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0


ProgressFn = Callable[[ProgressEvent], None]
