"""The optimizers (Adam, AdamW, SGD, NT-ASGD), their parameter groups, and the learning-rate
schedules: constant, linear decay or cosine after a warmup, or slanted triangular.

The schedule multiplies ``train.lr`` by a factor of the optimizer step ``s`` (from 0), with
``W = warmup_steps`` and ``N`` the total number of steps of the run:

    warmup (s < W):  (s + 1) / W
    none:            1
    linear:          (N − s) / (N − W)
    cosine:          ½ (1 + cos(π (s − W) / (N − W)))

so the first step already trains (factor 1/W) and the last step's factor is close to 0.
``slanted`` is ULMFiT's slanted triangular rate (Howard & Ruder 2018, eq. 3) with ratio
R = 32 and the peak at C = W, or ⌊N/10⌋ when no warmup is set:

    p = s / C  (s < C),  1 − (s − C) / (N − C)  (after);   factor = (1 + p (R − 1)) / R

**Layer groups.** A model may name its layer groups, input side first, with a method
``layer_groups() → list[list[Parameter]]`` (the classifier: embedding, each recurrent
layer, the head). With ``train.layer_lr_decay = d`` the group k places below the top starts
at ``lr / d**k`` (discriminative fine-tuning; ULMFiT's d = 2.6), and with
``train.gradual_unfreezing`` epoch e trains only the top e groups (:func:`unfrozen_groups`).
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
    "layer_groups",
    "lr_factor",
    "not_improving",
    "parameter_groups",
    "unfrozen_groups",
]

SLANTED_RATIO = 32.0  # ULMFiT's ratio of the peak rate to the lowest


def layer_groups(model: torch.nn.Module) -> list[list[torch.nn.Parameter]] | None:
    """The model's layer groups (input side first) when it names them, else None."""
    method = getattr(model, "layer_groups", None)
    return list(method()) if callable(method) else None


def parameter_groups(model: torch.nn.Module, config: TrainConfig) -> list[dict]:
    """The optimizer's parameter groups: one group of every trainable parameter at
    ``train.lr``, or with ``train.layer_lr_decay`` ≠ 1 one per layer group at
    ``lr / decay**k`` (k = places below the top). A model whose groups leave out a trainable
    parameter, or hold one twice, is a programming error and raises."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = layer_groups(model)
    if groups is None or config.layer_lr_decay == 1.0:
        return [{"params": trainable}]
    seen = [id(p) for group in groups for p in group]
    if len(seen) != len(set(seen)) or set(seen) != {id(p) for p in model.parameters()}:
        raise ValueError(
            f"{type(model).__name__}.layer_groups() must hold every parameter exactly once."
        )
    top = len(groups) - 1
    out = []
    for k, group in enumerate(groups):
        params = [p for p in group if p.requires_grad]
        if params:
            out.append({"params": params, "lr": config.lr / config.layer_lr_decay ** (top - k)})
    return out


def unfrozen_groups(num_groups: int, epoch: int) -> range:
    """The indices of the layer groups that train in ``epoch`` (from 0) under gradual
    unfreezing: the top ``epoch + 1``."""
    return range(max(0, num_groups - (epoch + 1)), num_groups)


def build_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """``train.optimizer`` over the trainable parameters with ``train.lr`` and
    ``train.weight_decay`` (L2 in the gradient for Adam and SGD, decoupled for AdamW).

    Adam and AdamW are PyTorch's fused kernels (one kernel over all parameters; CPU support
    since torch 2.4) where the parameters' device has them: on a large embedding several
    times faster than the per-parameter loop. Older torch or other devices get the default
    implementation, same update rule. "nt-asgd" starts as plain SGD; the Trainer switches it
    to :func:`averaging_optimizer` when its trigger fires.
    """
    params = parameter_groups(model, config)
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
    params = parameter_groups(model, config)
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

    if schedule == "slanted":
        cut = warmup_steps or max(1, total_steps // 10)

        def slanted(step: int) -> float:
            if step < cut:
                p = step / cut
            else:
                p = max(0.0, 1.0 - (step - cut) / max(1, total_steps - cut))
            return (1.0 + p * (SLANTED_RATIO - 1.0)) / SLANTED_RATIO

        return slanted

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
