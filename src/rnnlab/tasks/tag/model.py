r"""Sequence labelling: one tag per token (named entities, parts of speech).

    word ids (B, T) ─Embedding─► (B, T, E) ─┐
    characters of each distinct form (U, L) ─CharCNN / CharGRU─► (U, C) ─gather─► (B, T, C)
                                            └─► concat (B, T, E+C) ─► BiGRU/BiLSTM ─► (B, T, 2H)
                                                ─dropout─► Linear ─► emissions (B, T, K)
                                                ─► decoder: CRF (Viterbi) or softmax (argmax)

The decoder is a component with one interface — ``decoder(emissions, tags, mask)`` is the
log-likelihood log p(tags | x) of each sentence (B,), ``decoder.decode(emissions, mask)``
its best tag paths — so the CRF (:class:`rnnlab.nn.CRF`, which scores transitions between
tags) and the per-token softmax (:class:`SoftmaxDecoder`) are interchangeable. The loss is
the negative log-likelihood summed over each sentence's tokens, averaged over sentences:

    softmax:  −log p(y | x) = −Σ_t log softmax(E_t)_{y_t}
    CRF:      −log p(y | x) = log Z(E) − s(y)        (see rnnlab.nn.crf)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

import rnnlab.nn as rnn
from rnnlab.evaluate.entities import entity_metrics, token_accuracy
from rnnlab.tasks.encoder import init_orthogonal, recurrent_layer
from rnnlab.tasks.tag.config import TagModelConfig
from rnnlab.tasks.tag.data import TagBatch

__all__ = ["CharCNN", "CharGRU", "RecurrentTagger", "SoftmaxDecoder", "build_tagger"]


class CharCNN(nn.Module):
    """A word's characters → one vector: embedding, convolution (width 3), max over characters
    (Ma & Hovy, 2016). Input chars (U, L) with padding id 0, lengths (U,); output (U, C)."""

    def __init__(self, num_chars: int, char_dim: int, hidden: int, width: int = 3) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.conv = nn.Conv1d(char_dim, hidden, kernel_size=width, padding=width // 2)
        self.output_size = hidden

    def forward(self, chars: Tensor, lengths: Tensor) -> Tensor:
        steps = chars.shape[1]
        valid = torch.arange(steps, device=chars.device) < lengths.to(chars.device).unsqueeze(1)
        valid = valid.unsqueeze(1)  # (U, 1, L): past a word's end the convolution sees zeros
        x = self.embedding(chars).transpose(1, 2) * valid  # (U, D, L)
        h = self.conv(x)  # (U, C, L)
        return h.masked_fill(~valid, float("-inf")).amax(dim=2)  # (U, C)


class CharGRU(nn.Module):
    """A word's characters → the final states of a BiGRU over them, both directions
    concatenated (Lample et al., 2016). Input chars (U, L), lengths (U,); output (U, C)."""

    def __init__(self, num_chars: int, char_dim: int, hidden: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.rnn = rnn.GRU(char_dim, hidden // 2, batch_first=True, bidirectional=True)
        self.output_size = hidden

    def forward(self, chars: Tensor, lengths: Tensor) -> Tensor:
        _, h_n = self.rnn(self.embedding(chars), lengths=lengths)  # h_n (2, U, C/2)
        return torch.cat((h_n[0], h_n[1]), dim=-1)


class SoftmaxDecoder(nn.Module):
    """Independent per-token softmax over the emission scores, with the CRF's interface."""

    def forward(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """log p(tags | emissions) = Σ_t log softmax(E_t)[y_t] over valid steps, shape (B,)."""
        logp = torch.log_softmax(emissions, dim=-1).gather(2, tags.unsqueeze(-1)).squeeze(-1)
        return (logp * mask.to(logp.dtype)).sum(1)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """argmax_k E_{t,k} at each valid step."""
        best = emissions.argmax(-1).cpu().tolist()
        lengths = mask.long().sum(1).tolist()
        return [row[:n] for row, n in zip(best, lengths, strict=True)]


class RecurrentTagger(nn.Module):
    """Word embedding (+ character encoder) → recurrent encoder → emission scores → decoder.

    Args:
        num_words: rows of the word embedding (``len(vocab)``).
        tags: the tag names; emission column k scores ``tags[k]``.
        config: sizes, cell, dropouts.
        decoder: :class:`rnnlab.nn.CRF` or :class:`SoftmaxDecoder` over ``len(tags)`` tags.
        char_encoder: :class:`CharCNN`, :class:`CharGRU` or ``None``.
        scheme: ``bio``, ``bioes`` or ``plain``; span schemes add entity P/R/F1 to
            :meth:`evaluate`.
    Shape:
        batch ids (B, T) → emissions (B, T, K).
    """

    def __init__(
        self,
        num_words: int,
        tags: Sequence[str],
        config: TagModelConfig,
        decoder: nn.Module,
        char_encoder: nn.Module | None = None,
        *,
        scheme: str = "plain",
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.config = config
        self.tags = list(tags)
        self.scheme = scheme
        self.embedding = nn.Embedding(num_words, config.embedding_dim, padding_idx=pad_id)
        self.char_encoder = char_encoder
        width = config.embedding_dim + (char_encoder.output_size if char_encoder else 0)
        self.rnn = recurrent_layer(config, width)
        directions = 2 if config.bidirectional else 1
        self.output_dropout = nn.Dropout(config.output_dropout)
        self.emission = nn.Linear(directions * config.hidden_size, len(self.tags))
        self.decoder = decoder
        if config.init == "orthogonal":
            init_orthogonal(self.embedding, self.rnn, pad_id)

    def forward(self, batch: TagBatch) -> Tensor:
        """Emission scores (B, T, K)."""
        x = self.embedding(batch.ids)  # (B, T, E)
        if self.char_encoder is not None:
            per_form = self.char_encoder(batch.chars, batch.char_lengths)  # (U, C)
            x = torch.cat((x, per_form[batch.word_index]), dim=-1)  # (B, T, E+C)
        out = self.rnn(x, lengths=batch.lengths)[0]  # (B, T, D·H)
        return self.emission(self.output_dropout(out))

    def log_likelihood(self, batch: TagBatch) -> Tensor:
        """log p(tags | sentence) of each sentence, shape (B,)."""
        return self.decoder(self(batch), batch.tags, batch.mask())

    def training_step(self, batch: TagBatch) -> Tensor:
        return -self.log_likelihood(batch).mean()

    @torch.no_grad()
    def predict_batch(self, batch: TagBatch) -> list[list[int]]:
        """Best tag ids of each sentence (Viterbi for a CRF, argmax for softmax)."""
        return self.decoder.decode(self(batch), batch.mask())

    @torch.no_grad()
    def evaluate(self, batches: Iterable[TagBatch]) -> dict[str, float]:
        """``loss`` (per sentence), token ``accuracy``, and for span schemes entity
        ``precision``, ``recall``, ``f1`` (conlleval's definitions)."""
        total, count = 0.0, 0
        gold: list[list[str]] = []
        predicted: list[list[str]] = []
        for batch in batches:
            emissions = self(batch)
            mask = batch.mask()
            total -= float(self.decoder(emissions, batch.tags, mask).sum())
            count += len(batch.lengths)
            paths = self.decoder.decode(emissions, mask)
            rows = batch.tags.cpu().tolist()
            for path, row, n in zip(paths, rows, batch.lengths.tolist(), strict=True):
                predicted.append([self.tags[k] for k in path])
                gold.append([self.tags[k] for k in row[:n]])
        metrics = {"loss": total / max(count, 1), "accuracy": token_accuracy(gold, predicted)}
        if self.scheme != "plain":
            scores = entity_metrics(gold, predicted)
            metrics.update({k: float(scores[k]) for k in ("precision", "recall", "f1")})
        return metrics


def build_tagger(
    config: TagModelConfig,
    num_words: int,
    num_chars: int,
    tags: Sequence[str],
    *,
    scheme: str,
    pad_id: int = 0,
) -> RecurrentTagger:
    """The tagger ``config`` describes: its character encoder and decoder as components."""
    char_encoder: nn.Module | None = None
    if config.char_encoder == "cnn":
        char_encoder = CharCNN(num_chars, config.char_dim, config.char_hidden)
    elif config.char_encoder == "gru":
        char_encoder = CharGRU(num_chars, config.char_dim, config.char_hidden)
    decoder = rnn.CRF(len(tags)) if config.decoder == "crf" else SoftmaxDecoder()
    return RecurrentTagger(
        num_words, tags, config, decoder, char_encoder, scheme=scheme, pad_id=pad_id
    )
