r"""GloVe (Pennington, Socher & Manning, 2014): weighted least squares on log co-occurrences.

Written here because no maintained Python library trains GloVe on the CPU with a streamed
corpus; gensim has Word2Vec and FastText only.

Given the co-occurrence matrix ``X`` (:mod:`rnnlab.embeddings.cooccur`), GloVe learns word
vectors ``w_i``, context vectors ``w̃_j`` and biases ``b_i``, ``b̃_j`` minimising, over the
nonzero entries only,

.. math::

    J = \tfrac12 \sum_{X_{ij} > 0} f(X_{ij})\,
        \big(w_i^\top \tilde w_j + b_i + \tilde b_j - \log X_{ij}\big)^2,
    \qquad
    f(x) = \min\big(1, (x / x_{max})^{\alpha}\big)

with ``x_max = 100`` and ``α = 0.75``. (The ½ is the reference implementation's: it leaves the
minimiser unchanged and keeps the gradients the reference's.) With
``e_ij = f(X_ij)(w_iᵀw̃_j + b_i + b̃_j − log X_ij)`` the gradients of one entry are

.. math::

    \partial J/\partial w_i = e_{ij}\,\tilde w_j,\quad
    \partial J/\partial \tilde w_j = e_{ij}\,w_i,\quad
    \partial J/\partial b_i = \partial J/\partial \tilde b_j = e_{ij}.

Optimisation is AdaGrad, per entry as in the reference ``glove.c``: each parameter ``θ`` keeps
a running sum of squared gradients ``G`` (initialised to 1) and moves by ``−η g / sqrt(G)``.
Each epoch visits the nonzero entries in a fresh random order, in mini-batches; within a
batch the gradients of each row are summed and the row takes one AdaGrad step (see
:func:`_step` for why per-entry steps do not work in batches). Vectors are initialised uniformly in
``[−0.5, 0.5] / D``. The returned word vectors are ``w + w̃``, which the paper found slightly
better than ``w`` alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from rnnlab.embeddings.events import ProgressEvent, ProgressFn
from rnnlab.threads import torch_threads

__all__ = ["GloveModel", "glove_loss_and_grads", "train_glove", "weighting"]


def weighting(x: torch.Tensor, x_max: float = 100.0, alpha: float = 0.75) -> torch.Tensor:
    """``f(x) = min(1, (x / x_max) ** alpha)``: rare pairs count less, frequent ones cap at 1."""
    return torch.clamp(x / x_max, max=1.0) ** alpha


@dataclass
class GloveModel:
    """GloVe's training state: both vector tables, both biases and AdaGrad's squared sums.

    Shape:
        W, W_context: ``(V, D)``; b, b_context: ``(V,)``.
    """

    W: torch.Tensor
    W_context: torch.Tensor
    b: torch.Tensor
    b_context: torch.Tensor
    grad_sq: list[torch.Tensor]
    losses: list[float]

    @property
    def vectors(self) -> np.ndarray:
        """The word vectors ``w + w̃`` as a ``(V, D)`` float32 array."""
        return (self.W + self.W_context).numpy().astype(np.float32)

    def params(self) -> list[torch.Tensor]:
        return [self.W, self.W_context, self.b, self.b_context]


def _entry_terms(
    params: list[torch.Tensor],
    rows: torch.Tensor,
    cols: torch.Tensor,
    log_x: torch.Tensor,
    f_x: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-entry ``diff``, weighted error ``e`` and the gathered rows ``w_i``, ``w̃_j``."""
    W, Wc, b, bc = params
    wi, wj = W[rows], Wc[cols]  # (B, D)
    diff = (wi * wj).sum(1) + b[rows] + bc[cols] - log_x  # (B,)
    return diff, f_x * diff, wi, wj


def glove_loss_and_grads(
    params: list[torch.Tensor],
    rows: torch.Tensor,
    cols: torch.Tensor,
    x: torch.Tensor,
    x_max: float = 100.0,
    alpha: float = 0.75,
) -> tuple[float, list[torch.Tensor]]:
    """``J`` over the entries ``X[rows, cols] = x`` and its gradient for ``[W, W̃, b, b̃]``.

    The reference the trainer is tested against; the trainer uses the same per-entry terms.
    """
    f_x = weighting(x, x_max, alpha)
    diff, err, wi, wj = _entry_terms(params, rows, cols, torch.log(x), f_x)
    grads = [torch.zeros_like(p) for p in params]
    grads[0].index_add_(0, rows, err[:, None] * wj)
    grads[1].index_add_(0, cols, err[:, None] * wi)
    grads[2].index_add_(0, rows, err)
    grads[3].index_add_(0, cols, err)
    return float(0.5 * (err * diff).sum()), grads


def train_glove(
    X: sp.spmatrix,
    vector_size: int = 100,
    epochs: int = 15,
    learning_rate: float = 0.5,
    x_max: float = 100.0,
    alpha: float = 0.75,
    batch_size: int = 4096,
    seed: int = 0,
    workers: int | None = None,
    progress: ProgressFn | None = None,
) -> GloveModel:
    """Fit GloVe to the co-occurrence matrix ``X`` (``(V, V)``, nonnegative).

    Args:
        X: co-occurrence counts; only nonzero entries are used.
        vector_size: ``D``.
        epochs: passes over the nonzero entries.
        learning_rate: AdaGrad's ``η``. 0.5, ten times ``glove.c``'s per-entry 0.05: here a
            row takes one step per batch however many of the batch's entries it is in, so
            frequent words get far fewer steps than in per-entry updates; at 0.05 the word
            vectors all end up pointing one way, with no useful neighbourhoods.
        x_max, alpha: the weighting ``f``.
        batch_size: entries updated together.
        seed: initialisation and shuffling seed.
        workers: torch threads while training (``None``: leave torch's setting).
        progress: optional callback, called after every 64 batches and each epoch.
    """
    coo = sp.coo_matrix(X)
    mask = coo.data > 0
    rows = torch.from_numpy(coo.row[mask].astype(np.int64))
    cols = torch.from_numpy(coo.col[mask].astype(np.int64))
    x = torch.from_numpy(coo.data[mask].astype(np.float64))
    log_x = torch.log(x).float()
    f_x = weighting(x, x_max, alpha).float()
    n, size = len(rows), X.shape[0]
    gen = torch.Generator().manual_seed(seed)

    def init(*shape: int) -> torch.Tensor:
        return (torch.rand(*shape, generator=gen) - 0.5) / vector_size

    params = [init(size, vector_size), init(size, vector_size), init(size), init(size)]
    grad_sq = [torch.ones_like(p) for p in params]
    model = GloveModel(*params, grad_sq=grad_sq, losses=[])
    start = time.perf_counter()
    with torch_threads(workers), torch.no_grad():
        for epoch in range(1, epochs + 1):
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for k, lo in enumerate(range(0, n, batch_size), start=1):
                idx = order[lo : lo + batch_size]
                total += _step(
                    params, grad_sq, rows[idx], cols[idx], log_x[idx], f_x[idx], learning_rate
                )
                if progress is not None and k % 64 == 0:
                    progress(
                        ProgressEvent(
                            "train",
                            epoch,
                            epochs,
                            (epoch - 1) * n + lo,
                            epochs * n,
                            time.perf_counter() - start,
                            total / lo,
                        )
                    )
            model.losses.append(total / max(n, 1))
            if progress is not None:
                progress(
                    ProgressEvent(
                        "train",
                        epoch,
                        epochs,
                        epoch * n,
                        epochs * n,
                        time.perf_counter() - start,
                        model.losses[-1],
                    )
                )
    return model


def _step(
    params: list[torch.Tensor],
    grad_sq: list[torch.Tensor],
    rows: torch.Tensor,
    cols: torch.Tensor,
    log_x: torch.Tensor,
    f_x: torch.Tensor,
    lr: float,
) -> float:
    """One mini-batch AdaGrad step; returns the batch's summed loss.

    The entry gradients of a row are summed first and the row takes one AdaGrad step with the
    sum. Applying every entry's own normalised step instead would move a frequent word (present
    in many entries of a batch) many learning rates at once, and on real text the vectors
    collapse into one direction.
    """
    diff, err, wi, wj = _entry_terms(params, rows, cols, log_x, f_x)
    for k, index, grad in (
        (0, rows, err[:, None] * wj),
        (1, cols, err[:, None] * wi),
        (2, rows, err),
        (3, cols, err),
    ):
        unique, position = torch.unique(index, return_inverse=True)
        summed = grad.new_zeros((len(unique), *grad.shape[1:])).index_add_(0, position, grad)
        grad_sq[k].index_add_(0, unique, summed * summed)
        params[k].index_add_(0, unique, -lr * summed / torch.sqrt(grad_sq[k][unique]))
    return float(0.5 * (err * diff).sum())
