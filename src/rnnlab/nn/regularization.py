"""Dropout that recurrent networks need beyond ``torch.nn.Dropout``.

* **Variational dropout** (Gal & Ghahramani, 2016): one Bernoulli mask per sequence, sampled
  once per forward pass and reused at every time step, for the input x_t and for the
  recurrent state h_{t-1} inside the gate pre-activations. Fresh masks at each step (ordinary
  dropout on h) inject noise that compounds over time and hurts long-range memory; a fixed
  mask is approximate Bayesian inference over the weights.
* **DropConnect on W_hh** (Wan et al., 2013; Merity et al., AWD-LSTM, 2018): drop entries of
  the hidden-to-hidden matrix once per forward pass. The weights change, not the per-step
  computation, so PyTorch's fused kernels stay usable.

Masks use inverted scaling (kept units are divided by 1 − p), so nothing changes at eval time.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["variational_mask", "weight_dropout"]


def variational_mask(batch: int, features: int, p: float, like: Tensor) -> Tensor:
    """A (batch, features) mask of 0 and 1/(1−p): one row per sequence, reused over time."""
    keep = 1.0 - p
    return like.new_empty(batch, features).bernoulli_(keep).div_(keep)


def weight_dropout(weight: Tensor, p: float, training: bool) -> Tensor:
    """DropConnect: the weight matrix with entries zeroed with probability p (scaled 1/(1−p))."""
    if not training or p == 0.0:
        return weight
    return torch.nn.functional.dropout(weight, p=p, training=True)
