r"""Linear-chain conditional random field over emission scores.

For emissions E (B, T, K) and a tag path y_1..y_n (n = the sequence's length):

.. math::
    s(y) = \pi^{start}_{y_1} + \sum_{t=1}^{n} E_{t, y_t}
           + \sum_{t=2}^{n} A_{y_{t-1}, y_t} + \pi^{end}_{y_n},\qquad
    \log p(y \mid E) = s(y) - \log Z,\quad \log Z = \log\sum_{y'} e^{s(y')}

``log Z`` comes from the forward algorithm in log space,
α_t(j) = logsumexp_i(α_{t−1}(i) + A_{ij}) + E_{t,j}, and the best path from Viterbi (max in
place of logsumexp, with back-pointers). Padded steps (mask False) leave α unchanged, so
sequences of different lengths share a batch. Written here rather than taken from a package
because the available ones (pytorch-crf) are unmaintained and take time-major input only.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnlab.errors import ShapeError, ValueRangeError

__all__ = ["CRF"]


class CRF(nn.Module):
    """Linear-chain CRF with start, end and transition scores.

    Args:
        num_tags: number of tags K.
    Attributes:
        start_transitions (K,), end_transitions (K,), transitions (K, K) with
        ``transitions[i, j]`` the score of tag i followed by tag j.
    Shape:
        emissions (B, T, K); tags (B, T) long; mask (B, T) bool, True at valid steps, with
        every sequence starting at step 0 (``mask[:, 0]`` all True) and contiguous.

    Example:
        >>> crf = CRF(5)
        >>> nll = -crf(emissions, tags, mask).mean()
        >>> best_paths = crf.decode(emissions, mask)
    """

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        if not isinstance(num_tags, int) or num_tags < 1:
            raise ValueRangeError(f"CRF: num_tags must be a positive integer, got {num_tags!r}.")
        self.num_tags = num_tags
        self.start_transitions = nn.Parameter(torch.empty(num_tags))
        self.end_transitions = nn.Parameter(torch.empty(num_tags))
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(−0.1, 0.1), as is customary for CRF layers."""
        for p in (self.start_transitions, self.end_transitions, self.transitions):
            nn.init.uniform_(p, -0.1, 0.1)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}"

    def _check(self, emissions: Tensor, tags: Tensor | None, mask: Tensor | None) -> Tensor:
        if emissions.dim() != 3 or emissions.shape[-1] != self.num_tags:
            raise ShapeError(
                f"CRF: emissions must have shape (batch, time, num_tags={self.num_tags}), "
                f"got {tuple(emissions.shape)}."
            )
        batch, steps = emissions.shape[:2]
        if tags is not None and tuple(tags.shape) != (batch, steps):
            raise ShapeError(
                f"CRF: tags must have shape (batch, time) = {(batch, steps)}, "
                f"got {tuple(tags.shape)}."
            )
        if mask is None:
            return torch.ones(batch, steps, dtype=torch.bool, device=emissions.device)
        if tuple(mask.shape) != (batch, steps):
            raise ShapeError(
                f"CRF: mask must have shape (batch, time) = {(batch, steps)}, "
                f"got {tuple(mask.shape)}."
            )
        mask = mask.bool()
        if steps > 0 and not bool(mask[:, 0].all()):
            raise ValueRangeError(
                "CRF: mask[:, 0] must be True for every sequence (sequences start at step 0), "
                "got a sequence whose first step is masked."
            )
        return mask

    def forward(self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None) -> Tensor:
        """Log-likelihood log p(tags | emissions) per sequence, shape (B,)."""
        mask = self._check(emissions, tags, mask)
        return self._score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def _score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """s(y) for the given paths, shape (B,)."""
        maskf = mask.to(emissions.dtype)
        emit = emissions.gather(2, tags.unsqueeze(-1)).squeeze(-1)  # (B, T)
        score = self.start_transitions[tags[:, 0]] + (emit * maskf).sum(1)
        trans = self.transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
        score = score + (trans * maskf[:, 1:]).sum(1)
        last = mask.long().sum(1) - 1
        last_tags = tags.gather(1, last.unsqueeze(1)).squeeze(1)
        return score + self.end_transitions[last_tags]

    def log_partition(self, emissions: Tensor, mask: Tensor | None = None) -> Tensor:
        """log Z per sequence by the forward algorithm, shape (B,)."""
        mask = self._check(emissions, None, mask)
        alpha = self.start_transitions + emissions[:, 0]  # (B, K)
        for t in range(1, emissions.shape[1]):
            scores = alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1)
            alpha = torch.where(mask[:, t].unsqueeze(1), torch.logsumexp(scores, dim=1), alpha)
        return torch.logsumexp(alpha + self.end_transitions, dim=1)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor | None = None) -> list[list[int]]:
        """Viterbi: the highest-scoring tag path of each sequence (list of length n_b)."""
        mask = self._check(emissions, None, mask)
        batch, steps, _ = emissions.shape
        score = self.start_transitions + emissions[:, 0]
        pointers = []
        for t in range(1, steps):
            candidates = score.unsqueeze(2) + self.transitions  # (B, K_prev, K)
            best, best_prev = candidates.max(dim=1)
            step_mask = mask[:, t].unsqueeze(1)
            score = torch.where(step_mask, best + emissions[:, t], score)
            pointers.append(best_prev)
        score = score + self.end_transitions
        lengths = mask.long().sum(1).tolist()
        last_tags = score.argmax(dim=1).tolist()
        paths = []
        for b in range(batch):
            tag = last_tags[b]
            path = [tag]
            for t in range(lengths[b] - 2, -1, -1):
                tag = int(pointers[t][b, tag])
                path.append(tag)
            path.reverse()
            paths.append(path)
        return paths
