r"""ONNX export of a sequence tagger: token ids in, emission scores and decoded tags out.

The exported graph (character inputs only when the tagger has a character encoder)::

    ids           int64  (batch, time)   word ids, row b holds lengths[b] ids, then pad_id
    lengths       int64  (batch,)        tokens per sentence, 1 ≤ length ≤ time
    chars         int64  (forms, chars)  character ids of each word form, row 0 padding
    char_lengths  int64  (forms,)        characters per form (row 0: 1)
    word_index    int64  (batch, time)   the row of ``chars`` holding token t's form (0: padding)
        │
        ▼  embedding (+ character encoder) → BiGRU/BiLSTM → linear   (the trained weights)
    emissions  float32  (batch, time, K)   per-token scores; softmax over K gives a softmax
                                           tagger's per-token probabilities
    tags       int64    (batch, time)      best tag ids (CRF: Viterbi; softmax: argmax),
                                           −1 past each sentence's length

Characters enter once per distinct word form of the batch, as in training
(:mod:`rnnlab.tasks.tag.data`); a consumer that does not deduplicate may give every token its
own row — the result is the same. The CRF's Viterbi recursion is a TorchScript loop, so it
becomes an ONNX ``Loop`` over however many steps the batch has; its scores also travel in the
metadata (``crf``) for consumers that decode the emissions themselves with
:func:`rnnlab.nn.crf.viterbi_decode`.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.nn.crf import CRF, viterbi_paths
from rnnlab.tasks.graph import ExportGraph, padded_example
from rnnlab.tasks.tag.data import TagBatch
from rnnlab.tasks.tag.model import RecurrentTagger

__all__ = ["tagger_graph", "tagger_metadata"]


@functools.cache
def _scripted_viterbi() -> Any:
    """:func:`rnnlab.nn.crf.viterbi_paths` compiled once: a scripted loop exports with a
    dynamic trip count (the TorchScript exporter's only form of one; its deprecation notice
    is not for users)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(viterbi_paths)


class _TaggerOutputs(nn.Module):
    """``(ids, lengths[, chars, char_lengths, word_index]) → (emissions, tags)``."""

    def __init__(self, model: RecurrentTagger) -> None:
        super().__init__()
        self.model = model
        self.viterbi = _scripted_viterbi() if isinstance(model.decoder, CRF) else None

    def forward(
        self,
        ids: Tensor,
        lengths: Tensor,
        chars: Tensor | None = None,
        char_lengths: Tensor | None = None,
        word_index: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        if chars is None or char_lengths is None or word_index is None:
            chars = char_lengths = word_index = ids  # unused without a character encoder
        batch = TagBatch(ids, lengths, word_index, chars, char_lengths, None, lengths)
        emissions = self.model(batch)  # (B, T, K)
        if self.viterbi is not None:
            crf = self.model.decoder
            tags = self.viterbi(
                emissions, lengths, crf.start_transitions, crf.end_transitions, crf.transitions
            )
            return emissions, tags
        valid = torch.arange(ids.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
        best = emissions.argmax(dim=-1)
        return emissions, torch.where(valid, best, torch.full_like(best, -1))


def tagger_graph(model: nn.Module) -> ExportGraph:
    """The :class:`~rnnlab.tasks.graph.ExportGraph` of a :class:`RecurrentTagger`."""
    num_words = model.embedding.num_embeddings
    encoder = model.char_encoder
    inputs: dict[str, tuple[str | None, ...]] = {"ids": ("batch", "time"), "lengths": ("batch",)}
    if encoder is not None:
        inputs.update(
            chars=("forms", "chars"), char_lengths=("forms",), word_index=("batch", "time")
        )
        num_chars = encoder.embedding.num_embeddings

    def example(batch: int, steps: int, seed: int) -> tuple[Tensor, ...]:
        ids, lengths = padded_example(num_words, batch, steps, seed)
        if encoder is None:
            return ids, lengths
        generator = torch.Generator().manual_seed(seed + 1000)
        padding = torch.arange(steps).unsqueeze(0) >= lengths.unsqueeze(1)
        forms = batch * steps // 2 + 2  # fewer forms than tokens: rows are shared
        word_index = torch.randint(1, forms, (batch, steps), generator=generator)
        word_index = word_index.masked_fill(padding, 0)
        width = steps // 2 + 2
        char_lengths = torch.randint(1, width + 1, (forms,), generator=generator)
        char_lengths[0], char_lengths[1] = 1, width
        chars = torch.randint(1, max(num_chars, 2), (forms, width), generator=generator)
        chars = chars.masked_fill(torch.arange(width).unsqueeze(0) >= char_lengths.unsqueeze(1), 0)
        chars[0] = 0
        return ids, lengths, chars, char_lengths, word_index

    return ExportGraph(
        _TaggerOutputs(model).eval(),
        inputs=inputs,
        outputs={"emissions": ("batch", "time", None), "tags": ("batch", "time")},
        example=example,
    )


def tagger_metadata(predictor: Any) -> dict[str, Any]:
    """Vocabularies, tags, schemes, CRF scores and the recipe for every input of the graph."""
    model, encoder = predictor.model, predictor.encoder
    words = encoder.words
    inputs = {
        "ids": (
            "int64 (batch, time): ids[b, t] = the position of token t in vocab.specials + "
            "vocab.tokens (exact, case-sensitive match), unk_id when absent; pad_id after "
            "the sentence's end"
        ),
        "lengths": "int64 (batch,): tokens per sentence, 1 <= length <= time",
    }
    meta: dict[str, Any] = {
        "labels": list(predictor.labels),
        "tokenizer": {
            "name": "whitespace",
            "pretokenized": True,
            "steps": ["a sentence is a list of tokens; a string is split on whitespace"],
        },
        "vocab": words.to_dict(),
        "preprocessing": {
            "pad_id": words.pad_id,
            "unk_id": words.unk_id,
            "scheme": predictor.scheme,
            "data_scheme": predictor.data_scheme,
            "tags": (
                "tags come in `scheme`; rnnlab reports them in `data_scheme` when the two "
                "differ (rnnlab.text.tagschemes.convert)"
            ),
            "empty_sentence": "a sentence without tokens gets no tags; leave it out",
        },
        "decoder": "crf" if isinstance(model.decoder, CRF) else "softmax",
        "inputs": inputs,
        "outputs": {
            "emissions": (
                "float32 (batch, time, K): per-token scores, column k is labels[k]; "
                "softmax over K gives a softmax tagger's per-token probabilities; steps "
                "past a sentence's length are padding"
            ),
            "tags": (
                "int64 (batch, time): the best tag ids (crf: Viterbi over emissions and the "
                "crf scores; softmax: argmax), -1 past each sentence's length"
            ),
        },
    }
    if model.char_encoder is not None:
        chars = encoder.chars
        meta["chars"] = chars.to_dict()
        meta["preprocessing"].update(
            char_pad_id=0, char_unk_id=chars.unk_id, max_word_len=encoder.max_word_len
        )
        inputs.update(
            chars=(
                "int64 (forms, chars): row 0 is [0] (padding); row f >= 1 holds the ids of the "
                "first max_word_len characters (Unicode code points) of one word form in "
                "chars.specials + chars.tokens, char_unk_id when absent, then 0"
            ),
            char_lengths="int64 (forms,): characters per row (row 0: 1)",
            word_index=(
                "int64 (batch, time): the row of chars holding token t's form, 0 after the "
                "sentence's end; tokens with the same form may share a row"
            ),
        )
    if isinstance(model.decoder, CRF):
        crf = model.decoder
        meta["crf"] = {
            "start_transitions": crf.start_transitions.detach().cpu().tolist(),
            "end_transitions": crf.end_transitions.detach().cpu().tolist(),
            "transitions": crf.transitions.detach().cpu().tolist(),
            "note": (
                "transitions[i][j] scores tag i followed by tag j; decode the emissions with "
                "rnnlab.nn.crf.viterbi_decode"
            ),
        }
    return meta
