r"""Greedy and batched beam search over a :class:`~rnnlab.tasks.translate.model.Seq2Seq`.

Both run the model's one-step decoder (:meth:`Seq2Seq.decode_step`) on every sentence of a
batch at once and return, per sentence, hypotheses scored the same way:

    log p(y | x) = Σ_{t=1}^{|y|+1} log p(y_t | y_<t, x)           (``</s>`` included)
    score(y)     = log p(y | x) / lp(y),   lp(y) = ((5 + |y| + 1) / 6)^α     (GNMT, Wu et al. 2016)

α = 0 scores by the plain log-probability. A hypothesis holds at most
``floor(max_ratio · source length) + max_extra`` tokens; at that length ``</s>`` is forced.
Each sentence's own length and mask decide everything it sees, so padding a batch with
longer sentences changes no translation.

Beam search keeps K live hypotheses per sentence (the rows of the batch are the B·K
hypotheses). At each step the 2K best extensions of a sentence's beams are ranked; those
ending in ``</s>`` among the first K are finished, the first K others live on (fairseq's
rule). A sentence is done when K hypotheses have finished, and leaves the batch, so later
steps compute only the sentences still searched. The greedy translation is scored
beside them and kept as a candidate, so beam search never returns a hypothesis scored below
the greedy one. Everything is deterministic: ties in ``topk`` go to the lower index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

from rnnlab.tasks.translate.model import Seq2Seq, State, map_state

__all__ = ["Hypothesis", "beam_search", "greedy", "length_penalty", "max_lengths"]


@dataclass
class Hypothesis:
    """A translation: target ids (``</s>`` excluded), its log-probability (``</s>``
    included), its length-normalised score, and the attention weights of each of its
    ``len(tokens) + 1`` steps over the source (when asked for)."""

    tokens: list[int]
    logprob: float
    score: float
    attention: list[list[float]] | None = field(default=None, repr=False)


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's lp = ((5 + length) / 6)^α; ``length`` counts ``</s>``."""
    return ((5.0 + length) / 6.0) ** alpha


def max_lengths(src_lengths: Tensor, max_ratio: float, max_extra: int) -> list[int]:
    """Most target tokens of each sentence: floor(max_ratio · source length) + max_extra."""
    return [math.floor(max_ratio * n) + max_extra for n in src_lengths.tolist()]


def _force_eos(logp: Tensor, rows: Tensor, eos: int) -> Tensor:
    """``logp`` with every token but ``</s>`` ruled out in ``rows`` (B,) bool."""
    if not bool(rows.any()):
        return logp
    forced = torch.full_like(logp, float("-inf"))
    forced[:, eos] = logp[:, eos]
    return torch.where(rows.unsqueeze(1), forced, logp)


@torch.no_grad()
def greedy(
    model: Seq2Seq,
    src: Tensor,
    src_lengths: Tensor,
    *,
    alpha: float = 0.6,
    max_ratio: float = 2.0,
    max_extra: int = 5,
    attention: bool = False,
) -> list[Hypothesis]:
    """The most likely next token at every step, for each sentence of the batch."""
    was_training = model.training
    model.eval()
    try:
        memory, state = model.encode(src, src_lengths)
        batch = src.shape[0]
        limits = torch.tensor(max_lengths(src_lengths, max_ratio, max_extra))
        feed = model.initial_feed(batch, memory.values)
        prev = torch.full((batch,), model.sos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(batch, dtype=torch.bool)
        total = torch.zeros(batch, dtype=torch.float64)
        steps: list[Tensor] = []
        weights: list[Tensor] = []
        for t in range(int(limits.max()) + 1):
            logp, state, feed, attn = model.decode_step(prev, state, feed, memory)
            logp = _force_eos(logp, (limits <= t).to(logp.device), model.eos_id)
            best_logp, prev = logp.max(dim=-1)
            total += torch.where(done, 0.0, best_logp.double().cpu())
            steps.append(prev.cpu())
            if attention:
                weights.append(attn.cpu())
            done |= prev.cpu() == model.eos_id
            if bool(done.all()):
                break
        chosen = torch.stack(steps, dim=1).tolist()
        out = []
        for b in range(batch):
            row = chosen[b]
            n = row.index(model.eos_id) if model.eos_id in row else len(row)
            logprob = float(total[b])
            hyp = Hypothesis(row[:n], logprob, logprob / length_penalty(n + 1, alpha))
            if attention:
                length = int(src_lengths[b])
                hyp.attention = [w[b, :length].tolist() for w in weights[: n + 1]]
            out.append(hyp)
        return out
    finally:
        model.train(was_training)


def _select(state: State, index: Tensor) -> State:
    return map_state(state, lambda s: s.index_select(1, index))


@torch.no_grad()
def beam_search(
    model: Seq2Seq,
    src: Tensor,
    src_lengths: Tensor,
    *,
    beam: int = 5,
    nbest: int = 1,
    alpha: float = 0.6,
    max_ratio: float = 2.0,
    max_extra: int = 5,
    attention: bool = False,
) -> list[list[Hypothesis]]:
    """The ``nbest`` best-scored hypotheses of each sentence (best first), searched with
    ``beam`` live hypotheses per sentence."""
    if beam < 1 or not 1 <= nbest <= beam:
        raise ValueError(
            f"beam search needs beam >= 1 and 1 <= nbest <= beam, got {beam}, {nbest}."
        )
    was_training = model.training
    model.eval()
    try:
        return _beam_search(
            model, src, src_lengths, beam, nbest, alpha, max_ratio, max_extra, attention
        )
    finally:
        model.train(was_training)


def _beam_search(
    model: Seq2Seq,
    src: Tensor,
    src_lengths: Tensor,
    K: int,
    nbest: int,
    alpha: float,
    max_ratio: float,
    max_extra: int,
    attention: bool,
) -> list[list[Hypothesis]]:
    device = src.device
    B = src.shape[0]
    eos = model.eos_id
    greedy_hyps = greedy(
        model, src, src_lengths, alpha=alpha, max_ratio=max_ratio, max_extra=max_extra,
        attention=attention,
    )  # fmt: skip
    memory, state = model.encode(src, src_lengths)
    rows = torch.arange(B, device=device).repeat_interleave(K)  # (B·K,) hypothesis → sentence
    memory = memory.select(rows)
    state = _select(state, rows)
    feed = model.initial_feed(B * K, memory.values)
    limits_list = max_lengths(src_lengths, max_ratio, max_extra)
    limits = torch.tensor(limits_list, device=device).repeat_interleave(K)
    scores = torch.full((B, K), float("-inf"), dtype=torch.float64, device=device)
    scores[:, 0] = 0.0  # at the start the K beams are one: extend the first only
    prev = torch.full((B * K,), model.sos_id, dtype=torch.long, device=device)
    history = torch.zeros(B * K, 0, dtype=torch.long, device=device)
    attn_history: Tensor | None = None
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    done = [False] * B
    active = list(range(B))  # the sentences still searched, in row order
    for t in range(max(limits_list) + 1):
        n = len(active)
        base = (torch.arange(n, device=device) * K).unsqueeze(1)  # (n, 1) first row of each
        logp, state, feed, weights = model.decode_step(prev, state, feed, memory)
        logp = _force_eos(logp, limits <= t, eos).double()
        vocab = logp.shape[-1]
        candidates = (scores.unsqueeze(-1) + logp.view(n, K, vocab)).view(n, K * vocab)
        top_scores, top_index = candidates.topk(min(2 * K, K * vocab), dim=1)  # sorted
        origin = top_index // vocab  # (n, 2K) which live beam
        token = top_index % vocab
        is_eos = token == eos
        if attention:
            step_attn = weights.unsqueeze(1)  # (n·K, 1, S)
            attn_history = (
                step_attn if attn_history is None else torch.cat((attn_history, step_attn), dim=1)
            )
        # Finished: </s> among the first K candidates (finite scores only).
        eos_first = (is_eos[:, :K] & torch.isfinite(top_scores[:, :K])).nonzero().tolist()
        for b, j in eos_first:
            sentence = active[b]
            parent = int(base[b, 0] + origin[b, j])
            tokens = history[parent].tolist()
            logprob = float(top_scores[b, j])
            hyp = Hypothesis(tokens, logprob, logprob / length_penalty(len(tokens) + 1, alpha))
            if attention and attn_history is not None:
                length = int(src_lengths[sentence])
                hyp.attention = attn_history[parent, :, :length].tolist()
            finished[sentence].append(hyp)
        for sentence in active:
            if len(finished[sentence]) >= K or t >= limits_list[sentence]:
                done[sentence] = True
        if all(done):
            break
        # Live on: the first K candidates that do not end the sentence.
        rank = torch.where(is_eos, 2 * K + torch.arange(is_eos.shape[1], device=device), 0)
        rank = rank + torch.arange(is_eos.shape[1], device=device)
        keep = rank.argsort(dim=1, stable=True)[:, :K]  # (n, K) positions among the 2K
        scores = torch.where(is_eos.gather(1, keep), float("-inf"), top_scores.gather(1, keep))
        parents = (base + origin.gather(1, keep)).view(-1)  # (n·K,)
        prev = token.gather(1, keep).view(-1)
        history = torch.cat((history.index_select(0, parents), prev.unsqueeze(1)), dim=1)
        if attn_history is not None:
            attn_history = attn_history.index_select(0, parents)
        state = _select(state, parents)
        if feed is not None:
            feed = feed.index_select(0, parents)
        # Done sentences leave the batch: the next steps compute only the live ones.
        live = [b for b, sentence in enumerate(active) if not done[sentence]]
        if len(live) < n:
            local = torch.tensor(live, device=device)
            rows = (local.unsqueeze(1) * K + torch.arange(K, device=device)).view(-1)
            active = [active[b] for b in live]
            scores, prev, limits = scores[local], prev[rows], limits[rows]
            history = history.index_select(0, rows)
            if attn_history is not None:
                attn_history = attn_history.index_select(0, rows)
            state = _select(state, rows)
            feed = None if feed is None else feed.index_select(0, rows)
            memory = memory.select(rows)
    out = []
    for b in range(B):
        candidates = [*finished[b], greedy_hyps[b]]
        candidates.sort(key=lambda h: -h.score)  # stable: beam hypotheses before greedy
        unique: list[Hypothesis] = []
        for hyp in candidates:
            if all(hyp.tokens != u.tokens for u in unique):
                unique.append(hyp)
        out.append(unique[:nbest])
    return out
