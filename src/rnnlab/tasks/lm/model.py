r"""A recurrent language model: embedding → ``rnnlab.nn`` LSTM/GRU stack → softmax over words.

    ids (B, T) ─embedding (word-type dropout)─► (B, T, E) ─► LSTM/GRU layers ─► (B, T, H)
        (variational dropout on every layer's input, DropConnect on W_hh: the encoder's own)
      ─locked dropout─► [projection H → E when H ≠ E] ─► · Wᵀ (tied to the embedding) + b
      ─► logits (B, T, V)

The loss of a batch is the mean negative log-likelihood of its scored targets in nats,
−(1/N) Σ log p(w_t | w_<t), plus AR and TAR (:mod:`rnnlab.nn.regularization`) in training.
The hidden state carries from one batch to the next and is detached in between (truncated
back-propagation through time); a column that starts anew (``batch.reset``) starts from zero.
Perplexity = exp(NLL), bits per token = NLL / ln 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

import rnnlab.nn as rnn
from rnnlab.nn.regularization import (
    activation_penalty,
    embedding_dropout,
    locked_dropout,
    temporal_activation_penalty,
)
from rnnlab.nn.softmax import TiedAdaptiveSoftmax, linear_cross_entropy
from rnnlab.tasks.encoder import recurrent_layer
from rnnlab.tasks.lm.data import LMBatch

__all__ = ["RecurrentLM", "adaptive_cutoff", "detach_state"]

State = Tensor | tuple[Tensor, Tensor]
_EXTRA = "_extra_state"  # the state-dict key of get_extra_state


def detach_state(state: State | None) -> State | None:
    """The state cut from the graph of the batch that made it (pytorch/examples'
    ``repackage_hidden``): gradients stop at the window's start."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()


def adaptive_cutoff(config: Any, vocab_size: int) -> int | None:
    """The head size of the two-level softmax, or None for the full one: ``model.softmax``
    "adaptive" always, "auto" when the tail would hold at least as many ids as the head
    (word vocabularies; a character vocabulary is too small to gain)."""
    cutoff = config.softmax_cutoff
    if config.softmax == "full" or cutoff >= vocab_size:
        return None
    if config.softmax == "auto" and vocab_size < 2 * cutoff:
        return None
    return cutoff


def _reset_rows(state: State | None, reset: Tensor) -> State | None:
    """Zero the state of the rows whose column starts in this batch."""
    if state is None or bool(reset.all()):
        return None
    if not bool(reset.any()):
        return state
    keep = (~reset).to(state[0].dtype if isinstance(state, tuple) else state.dtype)
    keep = keep.view(1, -1, 1).to(state[0].device if isinstance(state, tuple) else state.device)
    if isinstance(state, tuple):
        return (state[0] * keep, state[1] * keep)
    return state * keep


class RecurrentLM(nn.Module):
    """Next-token model over a vocabulary of ``vocab_size`` ids (see the module docstring).

    Args:
        vocab_size: V.
        config: the ``[model]`` section (:class:`~rnnlab.tasks.encoder.EncoderConfig` keys
            plus ``output_dropout``, ``embedding_dropout``, ``tie_weights``, ``ar``, ``tar``).
    """

    def __init__(self, vocab_size: int, config: Any) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim)
        self.rnn = recurrent_layer(config, config.embedding_dim)
        width = config.hidden_size * (2 if config.bidirectional else 1)
        tie = config.tie_weights
        self.projection = (
            nn.Linear(width, config.embedding_dim)
            if tie and width != config.embedding_dim
            else None
        )
        self.decoder = nn.Linear(config.embedding_dim if tie else width, vocab_size)
        if tie:
            self.decoder.weight = self.embedding.weight
        cutoff = adaptive_cutoff(config, vocab_size)
        self.adaptive = (
            TiedAdaptiveSoftmax(cutoff, self.decoder.in_features) if cutoff is not None else None
        )
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)  # AWD-LSTM's embedding init
        nn.init.zeros_(self.decoder.bias)
        if config.init == "orthogonal":  # the recurrent weights as the other tasks' encoder
            rnn.orthogonal_init_(self.rnn)
        self._state: State | None = None

    def features(
        self, ids: Tensor, state: State | None = None
    ) -> tuple[Tensor, State, Tensor, Tensor]:
        """(softmax inputs (B, T, E or H), final state, raw outputs (B, T, H), dropped
        outputs): everything before the output layer."""
        weight = embedding_dropout(
            self.embedding.weight, self.config.embedding_dropout, self.training
        )
        x = nn.functional.embedding(ids, weight)  # (B, T, E)
        raw, state = self.rnn(x, state)  # (B, T, H)
        dropped = locked_dropout(raw, self.config.output_dropout, self.training)
        features = dropped if self.projection is None else self.projection(dropped)
        return features, state, raw, dropped

    def forward(
        self, ids: Tensor, state: State | None = None
    ) -> tuple[Tensor, State, Tensor, Tensor]:
        """(logits (B, T, V), final state, raw outputs (B, T, H), dropped outputs)."""
        features, state, raw, dropped = self.features(ids, state)
        if self.adaptive is not None:
            logits = self.adaptive.log_probs(features, self.decoder.weight, self.decoder.bias)
            return logits, state, raw, dropped
        return self.decoder(features), state, raw, dropped

    def _nll(self, batch: LMBatch, state: State | None) -> tuple[Tensor, State, Tensor, Tensor]:
        """Summed NLL (nats) of the scored targets, the new state, raw and dropped outputs;
        the output layer fused with its loss (:func:`rnnlab.nn.softmax.linear_cross_entropy`,
        exact) so that the (B·T, V) logits exist once."""
        features, state, raw, dropped = self.features(batch.inputs, _reset_rows(state, batch.reset))
        weight, bias = self.decoder.weight, self.decoder.bias
        if self.adaptive is not None:
            total = self.adaptive.nll(features, weight, bias, batch.targets, batch.mask)
        else:
            total = linear_cross_entropy(features, weight, batch.targets, bias, batch.mask)
        return total, state, raw, dropped

    def training_step(self, batch: LMBatch) -> Tensor:
        """Mean NLL of the batch + AR + TAR; the state carries to the next batch, detached."""
        total, state, raw, dropped = self._nll(batch, self._state)
        self._state = detach_state(state)
        loss = total / max(batch.num_tokens, 1)
        loss = loss + activation_penalty(dropped, self.config.ar, batch.mask)
        return loss + temporal_activation_penalty(raw, self.config.tar, batch.mask)

    @torch.no_grad()
    def evaluate(self, batches: Iterable[LMBatch]) -> dict[str, float]:
        """``loss`` (NLL per scored token, nats), ``perplexity`` and ``bits_per_token`` over
        every batch, the state carried from one to the next."""
        device = next(self.parameters()).device
        state, total, count = None, 0.0, 0
        for batch in batches:
            batch = batch.to(device)
            nll, state, _, _ = self._nll(batch, state)
            total += float(nll)
            count += batch.num_tokens
        loss = total / max(count, 1)
        return {
            "loss": loss,
            "perplexity": math.exp(min(loss, 700.0)),
            "bits_per_token": loss / math.log(2),
            "tokens": float(count),
        }

    def get_extra_state(self) -> dict[str, Any]:
        """The hidden state carried to the next training batch, in the state dict: a run
        resumed in the middle of an epoch continues from it, as if never interrupted."""
        state = self._state
        if state is None:
            return {}
        return {"h": state[0], "c": state[1]} if isinstance(state, tuple) else {"h": state}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        device = self.embedding.weight.device
        if not state:
            self._state = None
        elif "c" in state:
            self._state = (state["h"].to(device), state["c"].to(device))
        else:
            self._state = state["h"].to(device)

    def file_tensors(self) -> dict[str, Tensor]:
        """The weights for the model file: a tied softmax is stored once (safetensors keeps
        no shared tensors), as the embedding; no carried state."""
        tensors = {k: v for k, v in self.state_dict().items() if not k.endswith(_EXTRA)}
        if self.config.tie_weights:
            tensors.pop("decoder.weight")
        return tensors

    def load_file_tensors(self, tensors: dict[str, Tensor]) -> None:
        """Load :meth:`file_tensors`' weights; every other key must match exactly."""
        missing, unexpected = self.load_state_dict(tensors, strict=False)
        missing = [k for k in missing if not k.endswith(_EXTRA)]
        allowed = {"decoder.weight"} if self.config.tie_weights else set()
        if set(missing) - allowed or unexpected:
            raise RuntimeError(f"weights do not fit: missing {missing}, unexpected {unexpected}")

    def train(self, mode: bool = True) -> RecurrentLM:
        """Switching mode (evaluation in between) starts the next training batch from a
        fresh state; staying in training mode keeps the carried one (a resumed run)."""
        if mode != self.training:
            self._state = None
        return super().train(mode)
