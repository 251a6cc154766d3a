r"""Sequence to sequence with attention: bidirectional encoder → attention decoder.

    source ids (B, S) ─Embedding─► BiGRU/BiLSTM (rnnlab.nn) ─► V (B, S, D·H)
        memory      M = V W_mᵀ (B, S, H)     (D = 2: both directions brought to H, once)
        keys        K = M (dot) · M W_aᵀ (general) · M U_aᵀ + b (additive), once a sentence
        decoder h_0 = tanh(W_b [h_fwd; h_bwd])  per layer (the encoder's final states)

    decoder, step t (y_0 = <sos>):
        x_t  = [E y_{t−1} (; c_t for additive) (; h̃_{t−1} with input feeding)]
        h_t  = RNN(x_t, h_{t−1})
        s_ts = h_tᵀ K_s / √H (dot, general: Luong)   or   vᵀ tanh(W_q h_{t−1} + K_s) (additive)
        α_t  = softmax over the source positions the mask keeps (padding never seen)
        c_t  = Σ_s α_ts M_s
        h̃_t = tanh(W_c [c_t; h_t])                         (the attentional vector)
        p(y_t | y_<t, x) = softmax(W_o dropout(h̃_t) + b_o)

Luong attention reads h_t, the state *after* the recurrent step, so under teacher forcing
(no input feeding) h_1 … h_T do not depend on attention: the decoder's recurrent layer runs
over the whole target at once on rnnlab.nn's fast paths, and the scores, contexts,
attentional vectors and logits of every step are a few large batched matrix products. The
additive (Bahdanau) score reads h_{t−1} and feeds c_t into the step, and input feeding
feeds h̃_{t−1}: both need the step loop (:meth:`Seq2Seq.step`), which decoding uses for
every variant. Tests hold the fast path to the step loop.

The loss is token-level cross-entropy with label smoothing ε (Szegedy et al. 2016), as
``torch.nn.functional.cross_entropy(label_smoothing=ε)``::

    ℓ_t = (1 − ε)·(−log p(y_t)) + ε·(1/V)·Σ_v −log p(v)

averaged over the real target tokens (``</s>`` included, padding excluded); logits are
computed only for those rows. With ``tie_embeddings`` the output layer's weights are the
target embedding (Press & Wolf 2017; h̃ is then ``embedding_dim`` wide).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import rnnlab.nn as rnn
from rnnlab.tasks.encoder import recurrent_layer
from rnnlab.tasks.translate.config import TranslateModelConfig
from rnnlab.tasks.translate.data import TranslateBatch
from rnnlab.tasks.translate.scoring import corpus_bleu_tokens

__all__ = ["Attention", "Memory", "Seq2Seq", "State"]

State = Tensor | tuple[Tensor, Tensor]


def map_state(state: State, fn: Any) -> State:
    """``fn`` applied to the state tensor (GRU/RNN) or to both of an LSTM's (h, c)."""
    return (fn(state[0]), fn(state[1])) if isinstance(state, tuple) else fn(state)


class Attention(nn.Module):
    """Scores of a query against precomputed keys, masked softmax, context over values.

    ``general``: s = qᵀ W_a m / √H; ``dot``: s = qᵀ m / √H (scaled as Vaswani et al. 2017);
    ``additive``: s = vᵀ tanh(W_q q + U_a m + b).
    :meth:`keys` computes the query-independent part once per sentence.
    """

    def __init__(self, kind: str, size: int) -> None:
        super().__init__()
        self.kind = kind
        # 1/√H keeps the multiplicative scores' spread near 1 whatever the width, so the
        # softmax does not saturate on one source position before alignment is learnt
        # (unscaled, the trained weights put all mass on one position for every target word).
        self.scale = 1.0 / math.sqrt(size) if kind in ("dot", "general") else 1.0
        if kind == "general":
            self.W_a = nn.Linear(size, size, bias=False)
        elif kind == "additive":
            self.W_q = nn.Linear(size, size, bias=False)
            self.U_a = nn.Linear(size, size)
            self.v = nn.Linear(size, 1, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        """(B, S, H): the part of the score that depends on the memory alone."""
        if self.kind == "general":
            return self.W_a(memory)
        if self.kind == "additive":
            return self.U_a(memory)
        return memory

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        """query (B, T, H), keys (B, S, H) → scores (B, T, S)."""
        if self.kind == "additive":
            hidden = torch.tanh(self.W_q(query).unsqueeze(2) + keys.unsqueeze(1))  # (B,T,S,H)
            return self.v(hidden).squeeze(-1)
        return torch.bmm(query, keys.transpose(1, 2)) * self.scale

    def forward(
        self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Context (B, T, H) and weights α (B, T, S); ``mask`` (B, S) True where seen."""
        scores = self.scores(query, keys).masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights, values), weights


@dataclass
class Memory:
    """What the decoder reads from the encoded source: values M (B, S, H), keys (B, S, H),
    the source mask (B, S) and each sentence's length (B,)."""

    values: Tensor
    keys: Tensor
    mask: Tensor
    lengths: Tensor

    def select(self, index: Tensor) -> Memory:
        """Rows ``index`` (beam search: each sentence repeated K times, then reordered)."""
        return Memory(
            self.values.index_select(0, index),
            self.keys.index_select(0, index),
            self.mask.index_select(0, index),
            self.lengths.index_select(0, index.cpu()),
        )


class Seq2Seq(nn.Module):
    """Embedding → bidirectional ``rnnlab.nn`` encoder → attention decoder → output layer.

    Args:
        source_vocab: rows of the source embedding.
        target_vocab: rows of the target embedding and the output layer's width.
        config: sizes, cell, attention, dropouts.
        eos_id: the target's end-of-sentence id (3), ``sos_id`` its start (1), pad 0.
    """

    def __init__(
        self,
        source_vocab: int,
        target_vocab: int,
        config: TranslateModelConfig,
        *,
        eos_id: int = 3,
        sos_id: int = 1,
    ) -> None:
        super().__init__()
        self.config = config
        self.eos_id, self.sos_id, self.pad_id = eos_id, sos_id, 0
        self.target_vocab = target_vocab
        hidden, emb = config.hidden_size, config.embedding_dim
        directions = 2 if config.bidirectional else 1
        self.src_embedding = nn.Embedding(source_vocab, emb, padding_idx=0)
        self.tgt_embedding = nn.Embedding(target_vocab, emb, padding_idx=0)
        self.encoder = recurrent_layer(config, emb)
        self.memory_proj = nn.Linear(directions * hidden, hidden, bias=False)
        self.bridge = nn.Linear(directions * hidden, hidden)
        self.bridge_c = nn.Linear(directions * hidden, hidden) if config.cell == "lstm" else None
        self.attentional_size = emb if config.tie_embeddings else hidden
        decoder_input = emb + (hidden if config.attention == "additive" else 0)
        decoder_input += self.attentional_size if config.input_feeding else 0
        decoder_config = _unidirectional(config)
        self.decoder = recurrent_layer(decoder_config, decoder_input)
        self.attention = Attention(config.attention, hidden)
        self.combine = nn.Linear(2 * hidden, self.attentional_size, bias=False)
        self.output_dropout = nn.Dropout(config.output_dropout)
        self.output = nn.Linear(self.attentional_size, target_vocab)
        if config.init == "orthogonal":
            # Orthogonal recurrent weights, but embeddings kept at torch's N(0, 1): the small
            # U(±0.05) start of the other tasks (init_orthogonal) left validation perplexity
            # on 4,000 Multi30K pairs at 105 after two epochs, against 44 with N(0, 1).
            rnn.orthogonal_init_(self.encoder)
            rnn.orthogonal_init_(self.decoder)
        if config.tie_embeddings:
            self.output.weight = self.tgt_embedding.weight
        # (model, src, src_lengths) → hypotheses with .tokens: set to score validation BLEU
        self.bleu_decoder: Callable[..., list[Any]] | None = None

    def file_tensors(self) -> dict[str, Tensor]:
        """The weights for the model file: tied output weights are stored once (as the
        target embedding), since safetensors keeps no shared tensors."""
        state = self.state_dict()
        if self.config.tie_embeddings:
            state.pop("output.weight")
        return state

    def load_file_tensors(self, tensors: dict[str, Tensor]) -> None:
        """Load :meth:`file_tensors`; every weight must be there and fit."""
        missing, unexpected = self.load_state_dict(tensors, strict=False)
        allowed = {"output.weight"} if self.config.tie_embeddings else set()
        if set(missing) - allowed or unexpected:
            raise KeyError(f"missing {sorted(set(missing) - allowed)}, unexpected {unexpected}")

    # ------------------------------------------------------------------ encoder

    def encode(self, src: Tensor, src_lengths: Tensor) -> tuple[Memory, State]:
        """The memory the decoder attends to and the decoder's initial state."""
        cfg = self.config
        out, final = self.encoder(self.src_embedding(src), lengths=src_lengths)[:2]
        values = self.memory_proj(out)  # (B, S, H)
        mask = torch.arange(src.shape[1], device=src.device).unsqueeze(0) < src_lengths.to(
            src.device
        ).unsqueeze(1)
        memory = Memory(values, self.attention.keys(values), mask, src_lengths.cpu())

        def bridge(layer: nn.Linear, state: Tensor) -> Tensor:
            directions = 2 if cfg.bidirectional else 1
            per_layer = state.view(cfg.num_layers, directions, *state.shape[1:])  # (L, D, B, H)
            joined = torch.cat(per_layer.unbind(1), dim=-1)  # (L, B, D·H)
            return torch.tanh(layer(joined)).contiguous()

        if isinstance(final, tuple):
            assert self.bridge_c is not None
            state: State = (bridge(self.bridge, final[0]), bridge(self.bridge_c, final[1]))
        else:
            state = bridge(self.bridge, final)
        return memory, state

    def initial_feed(self, batch: int, like: Tensor) -> Tensor | None:
        """h̃_0 = 0 with input feeding, else None."""
        if not self.config.input_feeding:
            return None
        return like.new_zeros(batch, self.attentional_size)

    # ------------------------------------------------------------------ decoder

    def _attentional(self, context: Tensor, hidden: Tensor) -> Tensor:
        """h̃ = tanh(W_c [c; h])."""
        return torch.tanh(self.combine(torch.cat((context, hidden), dim=-1)))

    def step(
        self, prev: Tensor, state: State, feed: Tensor | None, memory: Memory
    ) -> tuple[Tensor, State, Tensor | None, Tensor]:
        """One decoder step for every row: previous tokens (B,) → h̃ (B, A), the new state,
        the new feed (h̃ with input feeding, else None) and attention weights (B, S)."""
        x = self.tgt_embedding(prev).unsqueeze(1)  # (B, 1, E)
        parts = [x]
        if self.config.attention == "additive":
            top = (state[0] if isinstance(state, tuple) else state)[-1].unsqueeze(1)  # h_{t−1}
            context, weights = self.attention(top, memory.keys, memory.values, memory.mask)
            parts.append(context)
        if feed is not None:
            parts.append(feed.unsqueeze(1))
        out, state = self.decoder(torch.cat(parts, dim=-1), hx=state)[:2]  # (B, 1, H)
        if self.config.attention != "additive":
            context, weights = self.attention(out, memory.keys, memory.values, memory.mask)
        attentional = self._attentional(context, out).squeeze(1)  # (B, A)
        new_feed = attentional if feed is not None else None
        return attentional, state, new_feed, weights.squeeze(1)

    def logits(self, attentional: Tensor) -> Tensor:
        """Output scores (…, V) of attentional vectors (…, A)."""
        return self.output(self.output_dropout(attentional))

    def decode_step(
        self, prev: Tensor, state: State, feed: Tensor | None, memory: Memory
    ) -> tuple[Tensor, State, Tensor | None, Tensor]:
        """log p(· | y_<t, x) (B, V), the new state and feed, attention weights (B, S).
        ``<pad>`` and ``<sos>`` are never produced: their scores are −∞ before the softmax
        (training never targets them, so this renormalises a near-zero mass)."""
        attentional, state, feed, weights = self.step(prev, state, feed, memory)
        logits = self.logits(attentional)
        logits[:, : self.sos_id + 1] = float("-inf")
        return torch.log_softmax(logits, dim=-1), state, feed, weights

    def teacher_forced(self, batch: TranslateBatch) -> tuple[Tensor, Tensor]:
        """Attentional vectors (B, T, A) and attention weights (B, T, S) of every target
        step, the previous gold token fed at each: the fast path where the attention allows
        it, the step loop otherwise."""
        assert batch.tgt_in is not None and batch.tgt_lengths is not None
        memory, state = self.encode(batch.src, batch.src_lengths)
        if not self.config.step_loop:
            embedded = self.tgt_embedding(batch.tgt_in)  # (B, T, E)
            out = self.decoder(embedded, hx=state, lengths=batch.tgt_lengths)[0]  # (B, T, H)
            context, weights = self.attention(out, memory.keys, memory.values, memory.mask)
            return self._attentional(context, out), weights
        feed = self.initial_feed(batch.src.shape[0], memory.values)
        vectors, all_weights = [], []
        for t in range(batch.tgt_in.shape[1]):
            attentional, state, feed, weights = self.step(batch.tgt_in[:, t], state, feed, memory)
            vectors.append(attentional)
            all_weights.append(weights)
        return torch.stack(vectors, dim=1), torch.stack(all_weights, dim=1)

    def token_losses(self, batch: TranslateBatch, smoothing: float) -> tuple[Tensor, Tensor]:
        """Per real target token: the (smoothed) loss and the gold token's log-probability,
        each (N,), N = the batch's target tokens ``</s>`` included. Logits are computed for
        those N rows only: one (N, A) × (A, V) product."""
        assert batch.tgt_out is not None
        attentional, _ = self.teacher_forced(batch)
        real = batch.tgt_out != self.pad_id  # (B, T)
        logits = self.logits(attentional[real])  # (N, V)
        gold = batch.tgt_out[real]
        loss = F.cross_entropy(logits, gold, reduction="none", label_smoothing=smoothing)
        gold_logp = -F.cross_entropy(logits.detach(), gold, reduction="none")
        return loss, gold_logp

    def training_step(self, batch: TranslateBatch) -> Tensor:
        loss, _ = self.token_losses(batch, self.config.label_smoothing)
        return loss.mean()

    @torch.no_grad()
    def evaluate(self, batches: Iterable[TranslateBatch]) -> dict[str, float]:
        """``loss`` (NLL per target token, no smoothing), ``perplexity`` = exp(loss), and
        ``bleu`` (the translations :attr:`bleu_decoder` finds against the references, on
        token ids) when one is set (``train.monitor = "bleu"``: greedy search)."""
        total, count = 0.0, 0
        hypotheses: list[str] = []
        references: list[str] = []
        for batch in batches:
            _, gold_logp = self.token_losses(batch, 0.0)
            total -= float(gold_logp.sum())
            count += int(gold_logp.numel())
            if self.bleu_decoder is not None:
                assert batch.tgt_out is not None
                for hyp in self.bleu_decoder(self, batch.src, batch.src_lengths):
                    hypotheses.append(" ".join(map(str, hyp.tokens)))
                for row in batch.tgt_out.tolist():
                    references.append(" ".join(str(i) for i in row if i not in (0, self.eos_id)))
        loss = total / max(count, 1)
        metrics = {"loss": loss, "perplexity": math.exp(min(loss, 50.0))}
        if hypotheses:
            metrics["bleu"] = corpus_bleu_tokens(hypotheses, references)
        return metrics


def _unidirectional(config: TranslateModelConfig) -> Any:
    """The decoder's recurrent settings: the encoder's, left to right only."""
    from dataclasses import replace

    return replace(config, bidirectional=False)
