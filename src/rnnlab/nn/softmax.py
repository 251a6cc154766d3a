r"""The output layer of a language model as one operation: linear map, softmax and the
negative log-likelihood of the targets, with a hand-written backward.

For features x (N, D), weights W (V, D), bias b (V), targets y (N,) and per-row weights
m (N,) (1 for a scored token, 0 for padding)::

    z = x Wᵀ + b                                   logits (N, V)
    ℓ_i = log Σ_v exp z_iv − z_{i,y_i}              NLL of row i, in nats
    L = Σ_i m_i ℓ_i

    ∂L/∂z = m ⊙ (softmax(z) − onehot(y))            (N, V)
    ∂L/∂x = (∂L/∂z) W,   ∂L/∂W = (∂L/∂z)ᵀ x,   ∂L/∂b = Σ_i ∂L/∂z_i

Why by hand: on a word-level corpus the V-way softmax is most of the work of a training
step (V = 10,000 against hidden sizes of a few hundred). ``F.cross_entropy(F.linear(…))``
materialises the logits, their log-softmax, a zero-filled gradient of the log-softmax and
the gradient of the logits — four (N, V) tensors and as many passes over them. Here the
logits buffer is turned into the softmax in place in the forward pass and into ∂L/∂z in
place in the backward pass: one (N, V) tensor, two passes, the same three matrix products.
The result is exact (not a sampled or adaptive approximation); tests check values and
gradients against ``F.cross_entropy``. Under ``torch.autocast`` (mixed-precision training)
the three products take bfloat16 (or float16) operands and the softmax, the loss and the
gradients returned are float32.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["TiedAdaptiveSoftmax", "linear_cross_entropy"]


def _autocast_dtype(device_type: str) -> torch.dtype | None:
    """The lower-precision dtype of an active ``torch.autocast`` on ``device_type``, or None."""
    try:
        enabled = torch.is_autocast_enabled(device_type)
        dtype = torch.get_autocast_dtype(device_type) if enabled else None
    except (TypeError, AttributeError):  # torch < 2.4
        if device_type == "cpu":
            enabled = torch.is_autocast_cpu_enabled()
            dtype = torch.get_autocast_cpu_dtype() if enabled else None
        else:
            enabled = torch.is_autocast_enabled()
            dtype = torch.get_autocast_gpu_dtype() if enabled else None
    return dtype


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx, x: Tensor, weight: Tensor, bias: Tensor | None, targets: Tensor, row_weights: Tensor
    ) -> Tensor:
        low = _autocast_dtype(x.device.type)
        ctx.low = low
        if low is None:
            logits = x @ weight.t() if bias is None else torch.addmm(bias, x, weight.t())
        else:  # mixed precision: the product in bfloat16, the softmax and the loss in float32
            logits = (x.to(low) @ weight.to(low).t()).float()
            if bias is not None:
                logits += bias.float()
        target_logits = logits.gather(1, targets.unsqueeze(1)).squeeze(1)
        peak = logits.amax(dim=1, keepdim=True)
        probs = logits.sub_(peak).exp_()  # in place: the logits become exp(z − max z)
        total = probs.sum(dim=1, keepdim=True)
        probs.div_(total)
        nll = total.log_().squeeze(1) + peak.squeeze(1) - target_logits
        ctx.save_for_backward(x, weight, probs, targets, row_weights)
        ctx.has_bias = bias is not None
        ctx.used = False
        return (nll * row_weights).sum()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        if ctx.used:
            raise RuntimeError(
                "linear_cross_entropy keeps one buffer for its backward pass and has used it; "
                "compute the loss again instead of calling backward twice."
            )
        ctx.used = True
        x, weight, probs, targets, row_weights = ctx.saved_tensors
        rows = torch.arange(probs.shape[0], device=probs.device)
        probs[rows, targets] -= 1.0  # in place: softmax − onehot = ∂ℓ/∂z
        grad_logits = probs.mul_((row_weights * grad).to(probs.dtype).unsqueeze(1))
        low = ctx.low
        if low is None:
            grad_x = grad_logits @ weight if ctx.needs_input_grad[0] else None
            grad_w = grad_logits.t() @ x if ctx.needs_input_grad[1] else None
        else:  # the two products as the forward's: bfloat16 operands, float32 results
            low_grad = grad_logits.to(low)
            grad_x = (low_grad @ weight.to(low)).to(x.dtype) if ctx.needs_input_grad[0] else None
            grad_w = (
                (low_grad.t() @ x.to(low)).to(weight.dtype) if ctx.needs_input_grad[1] else None
            )
        grad_b = grad_logits.sum(dim=0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b, None, None


def linear_cross_entropy(
    features: Tensor,
    weight: Tensor,
    targets: Tensor,
    bias: Tensor | None = None,
    row_weights: Tensor | None = None,
) -> Tensor:
    """Σ_i m_i · NLL(y_i | softmax(x_i Wᵀ + b)) in nats (see the module docstring).

    Args:
        features: x, (N, D) — or (…, D), flattened.
        weight: W, (V, D), e.g. an embedding matrix tied to the softmax.
        targets: y, (N,) — or the same leading shape as ``features`` — ids in [0, V).
        bias: b, (V,) or None.
        row_weights: m, (N,) or the leading shape; ones when None.

    Returns:
        The weighted sum of the rows' NLL, a scalar; divide by Σ m for the mean.
    """
    x = features.reshape(-1, features.shape[-1])
    y = targets.reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(
            f"linear_cross_entropy: {x.shape[0]} feature rows but {y.shape[0]} targets."
        )
    m = torch.ones_like(y, dtype=x.dtype) if row_weights is None else row_weights.reshape(-1)
    return _LinearCrossEntropy.apply(x, weight, bias, y, m.to(x.dtype))


class TiedAdaptiveSoftmax(torch.nn.Module):
    r"""A two-level softmax over ids sorted by frequency, on the full softmax's own weights.

    The ``cutoff`` most frequent ids and one "tail" cluster form the head; the other ids are
    predicted given the tail (Goodman 2001; Grave et al. 2017's adaptive softmax with one
    cluster and no reduced tail dimension, so that the rows of the output weights — the
    embedding, when tied — serve both levels)::

        p(v | h) = softmax([W_head; c] h + [b_head; d])_v                      v < cutoff
        p(v | h) = softmax([W_head; c] h + [b_head; d])_tail · softmax(W_tail h + b_tail)_v

    a normalised distribution over all V ids, scored exactly in evaluation. Training needs the
    tail's V − cutoff logits only for the rows whose target is there (on word corpora a fifth
    or fewer), so most rows cost ``cutoff + 1`` logits instead of V. The module owns only the
    cluster's c and d; W and b are passed in (they belong to the model: the decoder, or the
    embedding it is tied to).

    Args:
        cutoff: size of the head's shortlist, 0 < cutoff < V.
        in_features: D.
    """

    def __init__(self, cutoff: int, in_features: int) -> None:
        super().__init__()
        if cutoff < 1:
            raise ValueError(f"TiedAdaptiveSoftmax: cutoff must be ≥ 1, got {cutoff}.")
        self.cutoff = cutoff
        self.cluster_weight = torch.nn.Parameter(torch.zeros(1, in_features))
        self.cluster_bias = torch.nn.Parameter(torch.zeros(1))

    def _head(self, weight: Tensor, bias: Tensor) -> tuple[Tensor, Tensor]:
        if not self.cutoff < weight.shape[0]:
            raise ValueError(
                f"TiedAdaptiveSoftmax: cutoff {self.cutoff} leaves no tail of a "
                f"{weight.shape[0]}-id vocabulary."
            )
        c = self.cutoff
        head_weight = torch.cat((weight[:c], self.cluster_weight))
        return head_weight, torch.cat((bias[:c], self.cluster_bias))

    def nll(
        self, features: Tensor, weight: Tensor, bias: Tensor, targets: Tensor, row_weights: Tensor
    ) -> Tensor:
        """Σ_i m_i · (−log p(y_i | x_i)) in nats, like :func:`linear_cross_entropy`."""
        x = features.reshape(-1, features.shape[-1])
        y, m = targets.reshape(-1), row_weights.reshape(-1).to(x.dtype)
        c = self.cutoff
        head_weight, head_bias = self._head(weight, bias)
        in_tail = y >= c
        total = linear_cross_entropy(x, head_weight, torch.where(in_tail, c, y), head_bias, m)
        rows = in_tail.nonzero().squeeze(1)
        if rows.numel():
            total = total + linear_cross_entropy(
                x[rows], weight[c:], y[rows] - c, bias[c:], m[rows]
            )
        return total

    def log_probs(self, features: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        """log p(v | x) for every id, (…, V): usable wherever logits are (its softmax is p)."""
        c = self.cutoff
        head_weight, head_bias = self._head(weight, bias)
        linear = torch.nn.functional.linear
        head = torch.log_softmax(linear(features, head_weight, head_bias), dim=-1)
        tail = torch.log_softmax(linear(features, weight[c:], bias[c:]), dim=-1)
        return torch.cat((head[..., :c], tail + head[..., c:]), dim=-1)
