"""Dropout that recurrent networks need beyond ``torch.nn.Dropout``.

* **Variational dropout** (Gal & Ghahramani, 2016): one Bernoulli mask per sequence, sampled
  once per forward pass and reused at every time step, for the input x_t and for the
  recurrent state h_{t-1} inside the gate pre-activations. Fresh masks at each step (ordinary
  dropout on h) inject noise that compounds over time and hurts long-range memory; a fixed
  mask is approximate Bayesian inference over the weights.
* **DropConnect on W_hh** (Wan et al., 2013; Merity et al., AWD-LSTM, 2018): drop entries of
  the hidden-to-hidden matrix once per forward pass. The weights change, not the per-step
  computation, so PyTorch's fused kernels stay usable.

* **Embedding dropout** (Gal & Ghahramani, 2016; AWD-LSTM): drop whole word *types* — rows of
  the embedding matrix — so every occurrence of a dropped word in the batch is zero.
* **Locked dropout** (AWD-LSTM's name for variational dropout on a layer's output): one mask
  per sequence over the features, the same at every step.
* **AR and TAR** (Merity et al., 2017): penalties on the output activations h_t,
  AR = α · mean(h_t²) (on the dropped-out outputs) and TAR = β · mean((h_t − h_{t−1})²)
  (on the raw outputs), added to the loss.

Masks use inverted scaling (kept units are divided by 1 − p), so nothing changes at eval time.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "activation_penalty",
    "embedding_dropout",
    "locked_dropout",
    "temporal_activation_penalty",
    "variational_mask",
    "weight_dropout",
]


def variational_mask(batch: int, features: int, p: float, like: Tensor) -> Tensor:
    """A (batch, features) mask of 0 and 1/(1−p): one row per sequence, reused over time."""
    keep = 1.0 - p
    return like.new_empty(batch, features).bernoulli_(keep).div_(keep)


def weight_dropout(weight: Tensor, p: float, training: bool) -> Tensor:
    """DropConnect: the weight matrix with entries zeroed with probability p (scaled 1/(1−p))."""
    if not training or p == 0.0:
        return weight
    return torch.nn.functional.dropout(weight, p=p, training=True)


def embedding_dropout(weight: Tensor, p: float, training: bool) -> Tensor:
    """The embedding matrix (V, E) with whole rows — word types — zeroed with probability p,
    the kept rows scaled by 1/(1−p): ``F.embedding(ids, embedding_dropout(W, p, True))``."""
    if not training or p == 0.0:
        return weight
    keep = 1.0 - p
    mask = weight.new_empty(weight.shape[0], 1).bernoulli_(keep).div_(keep)  # (V, 1)
    return weight * mask


def locked_dropout(x: Tensor, p: float, training: bool, *, batch_first: bool = True) -> Tensor:
    """``x`` (B, T, F) — or (T, B, F) with ``batch_first=False`` — with one mask per sequence
    over the features, shared by every step (variational dropout on a layer's output)."""
    if not training or p == 0.0:
        return x
    batch = x.shape[0] if batch_first else x.shape[1]
    mask = variational_mask(batch, x.shape[-1], p, x)  # (B, F)
    return x * (mask.unsqueeze(1) if batch_first else mask.unsqueeze(0))


def _valid_steps(outputs: Tensor, mask: Tensor | None) -> Tensor:
    return (
        torch.ones(outputs.shape[:2], dtype=torch.bool, device=outputs.device)
        if (mask is None)
        else mask.bool()
    )


def activation_penalty(outputs: Tensor, alpha: float, mask: Tensor | None = None) -> Tensor:
    """AR: ``alpha`` · the mean of h_t² over the valid steps of ``outputs`` (B, T, H); ``mask``
    (B, T) marks valid steps (all when None)."""
    valid = _valid_steps(outputs, mask)
    if alpha == 0.0 or not bool(valid.any()):
        return outputs.new_zeros(())
    return alpha * outputs.pow(2)[valid].mean()


def temporal_activation_penalty(outputs: Tensor, beta: float, mask: Tensor | None = None) -> Tensor:
    """TAR: ``beta`` · the mean of (h_t − h_{t−1})² over pairs of valid consecutive steps of
    ``outputs`` (B, T, H)."""
    valid = _valid_steps(outputs, mask)
    pairs = valid[:, 1:] & valid[:, :-1]  # (B, T−1)
    if beta == 0.0 or not bool(pairs.any()):
        return outputs.new_zeros(())
    return beta * (outputs[:, 1:] - outputs[:, :-1]).pow(2)[pairs].mean()
