"""ONNX export of a text classifier: token ids and lengths in, probabilities out.

The graph (traced and checked by :func:`rnnlab.deploy.onnx.export_onnx`)::

    ids      int64  (batch, time)   token ids, each row padded with the vocabulary's pad id
    lengths  int64  (batch,)        valid tokens per row, 1 ≤ length ≤ time
        │
        ▼  embedding → recurrent layers → head   (the trained weights)
    probabilities  float32  (batch, K)          one distribution per text

For the default classifier the graph holds the lexical member too (its TF-IDF of the same ids
and its logistic regression) and outputs the weighted average of the two members'
probabilities.

The metadata spells out the tokenizer (for the English one, its exact steps and regular
expression), the vocabulary and the encoding rules, so a consumer in any language can turn
text into ``ids``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.errors import ConfigError
from rnnlab.tasks.graph import ExportGraph, padded_example
from rnnlab.text.tokenize import english_steps

__all__ = ["classifier_graph", "classifier_metadata"]


class _Probabilities(nn.Module):
    """softmax over the last axis of a model's ``forward(ids, lengths)`` logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        return torch.softmax(self.model(ids, lengths), dim=-1)


def _vocab_size(model: nn.Module) -> int:
    embeddings = [m for m in model.modules() if isinstance(m, nn.Embedding)]
    if not embeddings:
        raise ConfigError("ONNX export: the model has no token embedding to take ids.")
    return embeddings[0].num_embeddings


def classifier_graph(model: nn.Module) -> ExportGraph:
    """The :class:`~rnnlab.tasks.graph.ExportGraph` of a :class:`RecurrentClassifier`."""
    vocab_size = _vocab_size(model)
    return ExportGraph(
        _Probabilities(model).eval(),
        inputs={"ids": ("batch", "time"), "lengths": ("batch",)},
        outputs={"probabilities": ("batch", None)},
        example=lambda batch, steps, seed: padded_example(vocab_size, batch, steps, seed),
    )


def classifier_metadata(predictor: Any) -> dict[str, Any]:
    """Labels, tokenizer (and its recipe), vocabulary, encoding rules, inputs and outputs."""
    tokenizer = predictor.tokenizer.to_dict()
    pattern = english_steps(tokenizer)
    return {
        "labels": list(predictor.labels),
        "tokenizer": tokenizer if pattern is None else {**tokenizer, **pattern},
        "vocab": predictor.vocab.to_dict(),
        "preprocessing": {
            "max_len": predictor.max_len,
            "truncate": predictor.truncate,
            "pad_id": predictor.vocab.pad_id,
            "unk_id": predictor.vocab.unk_id,
            "empty_text": "a text with no known tokens is encoded as [unk_id]",
        },
        "inputs": {
            "ids": "int64 (batch, time): token ids; row i holds lengths[i] ids, then pad_id",
            "lengths": "int64 (batch,): valid tokens per row, 1 <= length <= time",
        },
        "outputs": {
            "probabilities": "float32 (batch, K): label probabilities, column k is labels[k]"
        },
        "model": _model_description(predictor.model),
    }


def _model_description(model: nn.Module) -> str:
    """What computes the probabilities, in one sentence."""
    if getattr(model, "lexical", None) is None:
        return "the recurrent network's softmax"
    w = float(model.recurrent_weight)
    return (
        f"{w:g} × the recurrent network's softmax + {1 - w:g} × the softmax of a TF-IDF "
        "(unigrams and hashed bigrams of the same ids) + logistic-regression member, both "
        "inside the graph"
    )
