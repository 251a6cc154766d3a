"""One Trainer for every task: Adam, schedules, clipping, early stopping, checkpoints, resume.

A task supplies a model (:class:`TrainableModel`), batches (:class:`Batch`) and sources of
batches (:class:`BatchSource`); :class:`Trainer` does the rest. :class:`RichProgress`
(``rnnlab.train.progress``) is the progress display the command line attaches as a callback.
"""

from __future__ import annotations

from rnnlab.train.callbacks import EVENTS, Callback, FitStart, StepInfo
from rnnlab.train.checkpoint import load_checkpoint
from rnnlab.train.protocols import Batch, BatchSource, TrainableModel
from rnnlab.train.steps import evaluate, resolve_device, seed_everything, train_step
from rnnlab.train.trainer import FitResult, Trainer

__all__ = [
    "EVENTS",
    "Batch",
    "BatchSource",
    "Callback",
    "FitResult",
    "FitStart",
    "StepInfo",
    "TrainableModel",
    "Trainer",
    "evaluate",
    "load_checkpoint",
    "resolve_device",
    "seed_everything",
    "train_step",
]
