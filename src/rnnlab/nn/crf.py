r"""Linear-chain conditional random field over emission scores.

For emissions E (B, T, K) and a tag path y_1..y_n (n = the sequence's length):

.. math::
    s(y) = \pi^{start}_{y_1} + \sum_{t=1}^{n} E_{t, y_t}
           + \sum_{t=2}^{n} A_{y_{t-1}, y_t} + \pi^{end}_{y_n},\qquad
    \log p(y \mid E) = s(y) - \log Z,\quad \log Z = \log\sum_{y'} e^{s(y')}

``log Z`` comes from the forward algorithm in log space,
α_t(j) = logsumexp_i(α_{t−1}(i) + A_{ij}) + E_{t,j}, and the best path from Viterbi (max in
place of logsumexp, with back-pointers): :func:`viterbi_paths`, the one decoder that
:meth:`CRF.decode`, a tagger's ONNX graph and :func:`viterbi_decode` all run. Padded steps
(mask False) leave α unchanged, so sequences of different lengths share a batch. Written here
rather than taken from a package because the available ones (pytorch-crf) are unmaintained
and take time-major input only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.errors import ShapeError, ValueRangeError

__all__ = ["CRF", "viterbi_decode", "viterbi_paths"]


def viterbi_paths(
    emissions: Tensor, lengths: Tensor, start: Tensor, end: Tensor, transitions: Tensor
) -> Tensor:
    r"""The best tag path of each sequence under a linear-chain CRF, as one tensor.

    .. math::
        \delta_1(j) = \pi^{start}_j + E_{1,j},\qquad
        \delta_t(j) = \max_i\,(\delta_{t-1}(i) + A_{ij}) + E_{t,j},\qquad
        y_n = \arg\max_j\,(\delta_n(j) + \pi^{end}_j)

    then back through the argmax pointers. Padded steps keep the score and point each tag
    at itself, so one backward pass over all T steps reads every row's path from its own
    last token. Plain tensor code, so TorchScript compiles it into an exportable loop.

    Args:
        emissions: (B, T, K) emission scores.
        lengths: (B,) int64 valid steps per sequence, 1 ≤ length ≤ T.
        start, end: (K,) scores of the first and last tag; transitions: (K, K),
            ``transitions[i, j]`` scores tag i followed by tag j.
    Returns:
        (B, T) int64 tag ids, −1 past each sequence's length.
    """
    batch, steps, num_tags = emissions.shape[0], emissions.shape[1], emissions.shape[2]
    positions = torch.arange(steps, dtype=torch.long, device=emissions.device)
    mask = positions.unsqueeze(0) < lengths.to(emissions.device).unsqueeze(1)  # (B, T)
    identity = torch.arange(num_tags, dtype=torch.long, device=emissions.device)
    identity = identity.unsqueeze(0).expand(batch, num_tags)
    score = start.unsqueeze(0) + emissions[:, 0]  # (B, K)
    pointers: list[Tensor] = []
    for t in range(1, steps):
        best, previous = (score.unsqueeze(2) + transitions.unsqueeze(0)).max(dim=1)  # (B, K)
        valid = mask[:, t].unsqueeze(1)
        score = torch.where(valid, best + emissions[:, t], score)
        pointers.append(torch.where(valid, previous, identity))
    tag = (score + end.unsqueeze(0)).argmax(dim=1)  # (B,) each row's last tag
    path: list[Tensor] = [tag]
    for i in range(steps - 1):
        tag = pointers[steps - 2 - i].gather(1, tag.unsqueeze(1)).squeeze(1)
        path.append(tag)
    tags = torch.stack(path, dim=1).flip(1)  # (B, T)
    return torch.where(mask, tags, torch.full_like(tags, -1, dtype=torch.long))


def _rows(paths: Tensor, lengths: Sequence[int]) -> list[list[int]]:
    return [row[:n] for row, n in zip(paths.tolist(), lengths, strict=True)]


def viterbi_decode(
    emissions: Any, lengths: Any, transitions: Any, start: Any, end: Any
) -> list[list[int]]:
    """:func:`viterbi_paths` for arrays (NumPy or tensors) — for a consumer of an exported
    tagger that decodes its ``emissions`` output with the ``crf`` scores of the metadata
    (e.g. to forbid transitions). Returns one list of ``lengths[b]`` tag ids per sequence.

    Example::

        >>> emissions = np.array([[[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]])  # (B=1, T=3, K=2)
        >>> start, end = np.zeros(2), np.zeros(2)  # meta["crf"]["start_transitions"], …
        >>> viterbi_decode(emissions, [3], np.zeros((2, 2)), start, end)
        [[0, 1, 0]]
        >>> forbid_0_then_1 = np.array([[0.0, -1e4], [0.0, 0.0]])  # edited transitions
        >>> viterbi_decode(emissions, [3], forbid_0_then_1, start, end)
        [[0, 0, 0]]
    """

    def tensor(value: Any) -> Tensor:
        return torch.as_tensor(np.asarray(value, dtype=np.float64))

    lengths_t = torch.as_tensor(np.asarray(lengths, dtype=np.int64))
    paths = viterbi_paths(
        tensor(emissions), lengths_t, tensor(start), tensor(end), tensor(transitions)
    )
    return _rows(paths, lengths_t.tolist())


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
        >>> _ = torch.manual_seed(0)
        >>> crf = CRF(3)
        >>> emissions = torch.randn(2, 4, 3)  # (B, T, K)
        >>> tags = torch.tensor([[0, 1, 2, 1], [2, 2, 0, 0]])
        >>> mask = torch.tensor([[True] * 4, [True, True, False, False]])
        >>> nll = -crf(emissions, tags, mask).mean()  # the training loss
        >>> best_paths = crf.decode(emissions, mask)  # one list per sequence, its own length
        >>> len(best_paths[0]), len(best_paths[1])
        (4, 2)
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
        if emissions.shape[1] == 0:
            return [[] for _ in range(emissions.shape[0])]
        lengths = mask.long().sum(1)
        paths = viterbi_paths(
            emissions, lengths, self.start_transitions, self.end_transitions, self.transitions
        )
        return _rows(paths, lengths.tolist())
