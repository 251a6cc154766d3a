"""Trainer events and the information they carry.

A callback is any object with some of the methods named in :data:`EVENTS`; subclassing
:class:`Callback` is optional and gives no-op defaults. A method named ``on_...`` that is not an
event raises at once (a misspelt ``on_epoch_ends`` would otherwise never run and never tell).
Callbacks observe; they do not change training, so a run with a progress bar equals one
without.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rnnlab.errors import ConfigError

__all__ = ["EVENTS", "Callback", "FitStart", "StepInfo", "check_callbacks", "dispatch"]

EVENTS = ("on_fit_start", "on_epoch_start", "on_step_end", "on_epoch_end", "on_fit_end")
"""The events, in the order they happen: ``on_fit_start(FitStart)``,
``on_epoch_start(epoch, num_batches)``, ``on_step_end(StepInfo)``, ``on_epoch_end(record)``
(the ``history.jsonl`` line, a dict) and ``on_fit_end(FitResult)``."""


@dataclass(frozen=True)
class FitStart:
    """Sent once when ``fit`` begins (after a resume has been loaded)."""

    epochs: int  # total epochs asked for
    start_epoch: int  # first epoch to run, counting from 1 (> 1 after a resume)
    start_batch: int  # batches of that epoch already done (> 0 after a mid-epoch resume)
    global_step: int  # optimizer steps already taken
    device: str
    num_parameters: int  # trainable parameters
    monitor: str  # the metric early stopping and the best checkpoint follow
    monitor_mode: str  # "max" or "min"
    best_score: float | None  # best monitored value so far (after a resume), else None


@dataclass(frozen=True)
class StepInfo:
    """Sent after every optimizer step."""

    epoch: int  # counting from 1
    batch: int  # batches of this epoch done, including this one (1 … num_batches)
    num_batches: int  # batches in this epoch
    global_step: int  # optimizer steps since the start of the run
    loss: float  # this batch's mean loss
    mean_loss: float  # running mean of the batch losses in this epoch
    grad_norm: float  # total L2 norm of the gradients before clipping
    lr: float  # learning rate used for this step
    num_tokens: int  # tokens in this batch
    tokens_per_s: float  # training throughput of this epoch so far


def _check_class(cls: type) -> None:
    for name in dir(cls):
        if name.startswith("on_") and callable(getattr(cls, name)) and name not in EVENTS:
            close = difflib.get_close_matches(name, EVENTS, n=1)
            fix = f"did you mean {close[0]}?" if close else f"the events are {', '.join(EVENTS)}."
            raise ConfigError(
                f"Callback {cls.__name__} defines {name}(), which is not a trainer event; {fix}"
            )


def check_callbacks(callbacks: Sequence[Any]) -> None:
    """Raise ConfigError for a callback with an ``on_*`` method that is not an event."""
    for callback in callbacks:
        _check_class(type(callback))


def dispatch(callbacks: Sequence[Any], event: str, *args: Any) -> None:
    """Call ``event`` on every callback that implements it, in order."""
    for callback in callbacks:
        method = getattr(callback, event, None)
        if method is not None:
            method(*args)


class Callback:
    """Optional base class with a no-op method per event; subclasses are checked when defined."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_class(cls)

    def on_fit_start(self, info: FitStart) -> None:
        """Training is about to start (or continue, after a resume)."""

    def on_epoch_start(self, epoch: int, num_batches: int) -> None:
        """Epoch ``epoch`` (from 1) with ``num_batches`` batches is about to run."""

    def on_step_end(self, info: StepInfo) -> None:
        """One optimizer step is done."""

    def on_epoch_end(self, record: dict[str, float]) -> None:
        """An epoch is done and evaluated; ``record`` is its ``history.jsonl`` line."""

    def on_fit_end(self, result: Any) -> None:
        """Training is over; ``result`` is the :class:`~rnnlab.train.trainer.FitResult`."""
