"""Adam and the learning-rate schedules: constant, linear decay or cosine, after a warmup.

The schedule multiplies ``train.lr`` by a factor of the optimizer step ``s`` (from 0), with
``W = warmup_steps`` and ``N`` the total number of steps of the run:

    warmup (s < W):  (s + 1) / W
    none:            1
    linear:          (N − s) / (N − W)
    cosine:          ½ (1 + cos(π (s − W) / (N − W)))

so the first step already trains (factor 1/W) and the last step's factor is close to 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.optim.lr_scheduler import LambdaLR

from rnnlab.config import TrainConfig

__all__ = ["build_optimizer", "build_scheduler", "lr_factor"]


def build_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Adam:
    """Adam over the trainable parameters with ``train.lr`` and ``train.weight_decay``.

    PyTorch's fused Adam (one kernel over all parameters; CPU support since torch 2.4) where
    the parameters' device has it: on a large embedding it is several times faster than the
    per-parameter loop. Older torch or other devices get the default implementation, same
    update rule.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    try:
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


def lr_factor(schedule: str, warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """The factor applied to the base learning rate at step ``s`` (see the module docstring)."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        if schedule == "none":
            return 1.0
        span = max(1, total_steps - warmup_steps)
        progress = min(1.0, (step - warmup_steps) / span)
        if schedule == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int
) -> LambdaLR | None:
    """A LambdaLR stepped once per optimizer step, or None for a constant rate."""
    if config.schedule == "none" and config.warmup_steps == 0:
        return None
    return LambdaLR(optimizer, lr_factor(config.schedule, config.warmup_steps, total_steps))
