"""The optimizers (Adam, AdamW, SGD, NT-ASGD) and the learning-rate schedules: constant,
linear decay or cosine, after a warmup.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch.optim.lr_scheduler import LambdaLR

from rnnlab.config import TrainConfig

__all__ = [
    "averaged_weights",
    "averaging_optimizer",
    "build_optimizer",
    "build_scheduler",
    "lr_factor",
    "not_improving",
]


def build_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """``train.optimizer`` over the trainable parameters with ``train.lr`` and
    ``train.weight_decay`` (L2 in the gradient for Adam and SGD, decoupled for AdamW).

    Adam and AdamW are PyTorch's fused kernels (one kernel over all parameters; CPU support
    since torch 2.4) where the parameters' device has them: on a large embedding several
    times faster than the per-parameter loop. Older torch or other devices get the default
    implementation, same update rule. "nt-asgd" starts as plain SGD; the Trainer switches it
    to :func:`averaging_optimizer` when its trigger fires.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    kind, lr, decay = config.optimizer, config.lr, config.weight_decay
    if kind in ("sgd", "nt-asgd"):
        return torch.optim.SGD(params, lr=lr, weight_decay=decay)
    adam = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
    try:
        return adam(params, lr=lr, weight_decay=decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return adam(params, lr=lr, weight_decay=decay)


def averaging_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.ASGD:
    """The second phase of NT-ASGD: SGD steps at the same rate that also keep the running
    mean of the iterates, ``state[p]["ax"]`` (PyTorch's ASGD with t0 = 0, λ = 0, as
    AWD-LSTM; its mean starts at the second step after the switch)."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.ASGD(params, lr=config.lr, t0=0, lambd=0.0, weight_decay=config.weight_decay)


@contextmanager
def averaged_weights(optimizer: torch.optim.Optimizer) -> Iterator[None]:
    """Inside, every parameter an :func:`averaging_optimizer` tracks holds its average (what
    evaluation and the kept best weights see); outside, the iterate training continues from."""
    swapped = []
    with torch.no_grad():
        for group in optimizer.param_groups:
            for p in group["params"]:
                average = optimizer.state.get(p, {}).get("ax")
                if average is not None:
                    current = p.detach().clone()
                    p.copy_(average)
                    swapped.append((p, current))
    try:
        yield
    finally:
        with torch.no_grad():
            for p, current in swapped:
                p.copy_(current)


def not_improving(scores: list[float], nonmono: int, mode: str) -> bool:
    """NT-ASGD's trigger: the last score is worse than the best of all but the last
    ``nonmono`` ones (AWD-LSTM's ``val_loss > min(best_val_loss[:-nonmono])``)."""
    if len(scores) <= nonmono:
        return False
    earlier = scores[:-nonmono]
    best = min(earlier) if mode == "min" else max(earlier)
    return scores[-1] > best if mode == "min" else scores[-1] < best


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
