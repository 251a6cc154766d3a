"""The two step functions of training, and the run's device and random seeds.

``train_step`` is one optimizer update; ``evaluate`` wraps a model's own ``evaluate`` in eval
mode and ``torch.no_grad()``. They are plain functions so that they can be read, tested and
reused on their own; :class:`~rnnlab.train.trainer.Trainer` only loops over them.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from rnnlab.errors import ConfigError, ValueRangeError
from rnnlab.train.protocols import Batch, TrainableModel

if TYPE_CHECKING:
    from rnnlab.train.distributed import Distributed
    from rnnlab.train.precision import Precision

__all__ = ["StepOutput", "evaluate", "resolve_device", "seed_everything", "train_step"]


@dataclass(frozen=True)
class StepOutput:
    loss: float  # the batch's mean loss
    grad_norm: float  # total L2 norm of the gradients before clipping


def train_step(
    model: TrainableModel,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    clip_norm: float,
    forward: Callable[[Batch], torch.Tensor] | None = None,
    place: Distributed | None = None,
    *,
    precision: Precision | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> StepOutput:
    """Forward, backward, clip the gradient norm to ``clip_norm`` (0 = no clipping), update.

    ``forward`` computes the loss instead of ``model.training_step`` (the Trainer passes the
    DistributedDataParallel wrapper, whose backward pass averages the gradients over the
    processes before they are clipped). Raises ValueRangeError when the loss is not finite,
    instead of training on NaNs — with ``place`` (the process group), on every rank when it is
    not finite on any (one all-reduce of a flag per step).

    ``precision`` runs the forward pass under autocast (:mod:`rnnlab.train.precision`); the
    loss is taken in float32 either way, and ``scaler`` (float16) scales it for the backward
    pass and unscales the gradients before they are clipped.
    """
    optimizer.zero_grad(set_to_none=True)
    with precision.autocast() if precision is not None else contextlib.nullcontext():
        loss = (forward or model.training_step)(batch)
    loss = loss.float()
    value = float(loss.detach())
    finite = math.isfinite(value)
    # Under DDP every rank must stop together: one that raised alone would leave the others
    # waiting in the gradient all-reduce until the process group's timeout.
    everywhere = finite if place is None or not place.active else place.sum(not finite)[0] == 0
    if not everywhere:
        where = f"became {value}" if not finite else "became non-finite in another process"
        raise ValueRangeError(
            f"The training loss {where}; lower train.lr or set train.clip_norm "
            f"(now {clip_norm}) to a smaller positive value."
        )
    (scaler.scale(loss) if scaler is not None else loss).backward()
    if scaler is not None:
        scaler.unscale_(optimizer)
    params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    max_norm = clip_norm if clip_norm > 0 else math.inf  # inf: measure only, scale by 1
    grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    if scaler is not None:
        scaler.step(optimizer)  # skipped when the scaled gradients overflowed
        scaler.update()
    else:
        optimizer.step()
    return StepOutput(value, grad_norm)


def evaluate(model: TrainableModel, batches: Iterable[Batch]) -> dict[str, float]:
    """``model.evaluate(batches)`` in eval mode without gradients; restores the mode after."""
    was_training = model.training  # type: ignore[attr-defined]
    model.eval()  # type: ignore[attr-defined]
    try:
        with torch.no_grad():
            metrics = model.evaluate(batches)
    finally:
        model.train(was_training)  # type: ignore[attr-defined]
    out = {}
    for key, value in metrics.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            raise ValueRangeError(
                f"{type(model).__name__}.evaluate() must return numbers, got "
                f"{type(value).__name__} for {key!r}; return flat float metrics."
            ) from None
    return out


def resolve_device(name: str) -> torch.device:
    """``"auto"`` → the first CUDA device when one is present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                f"Config key 'train.device' is {name!r} but CUDA is not available here; "
                f"use 'auto' or 'cpu'."
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"Config key 'train.device' is {name!r} but only {torch.cuda.device_count()} "
                f"CUDA device(s) exist; use 'cuda:0' … 'cuda:{torch.cuda.device_count() - 1}'."
            )
    return device


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), Python ``random`` and NumPy's global generator."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
