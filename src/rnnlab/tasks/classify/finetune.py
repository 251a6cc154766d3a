"""A classifier that starts from a language model (ULMFiT, Howard & Ruder 2018; Dai & Le 2015).

    LM run:      embedding ─► LSTM/GRU layers ─► softmax over words
                     │              │
                     ▼ copied       ▼ copied
    classifier:  embedding ─► LSTM/GRU layers ─► concat pooling [last, max, mean] ─► head

``model.init_from`` names a word-level language-model run (``rnnlab train lm``) or its model
file. The classifier takes the LM's tokenizer and vocabulary (ids must mean the same words),
the shape of its encoder (cell, embedding size, hidden size, layers) and their weights; the
head is new. :data:`FINE_TUNING` holds the training settings the command line starts from
with ``--init-from``: discriminative learning rates (each layer group 2.6 times slower than
the one above it), gradual unfreezing (epoch e trains the top e groups: head, top recurrent
layer, …, embedding) and the slanted triangular schedule — see :mod:`rnnlab.train.optim`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnlab.errors import ConfigError
from rnnlab.runs import load_model_file
from rnnlab.tasks.encoder import TextEncoder
from rnnlab.tasks.pretrained import AUTO, NONE
from rnnlab.text.vocab import Vocab

__all__ = ["FINE_TUNING", "PretrainedLM", "adopt_language_model", "read_language_model"]

# The encoder keys a fine-tuned classifier takes from its language model.
ENCODER_KEYS = ("cell", "embedding_dim", "hidden_size", "num_layers")

# ULMFiT's fine-tuning recipe, under the user's own flags and config.
FINE_TUNING: dict[str, Any] = {
    "model.pooling": "concat",
    "model.head_dropout": 0.1,
    "train.lr": 3e-3,
    "train.epochs": 30,
    "train.patience": 3,
    "train.layer_lr_decay": 2.6,
    "train.gradual_unfreezing": True,
    "train.schedule": "slanted",
}


@dataclass(frozen=True)
class PretrainedLM:
    """What a classifier takes from a language-model file."""

    source: str
    model_config: dict[str, Any]
    tokenizer: dict[str, Any]
    vocab: Vocab
    tensors: dict[str, Tensor]


def read_language_model(path: str | Path, *, weights: bool = True) -> PretrainedLM:
    """The language model at ``path`` (a run directory or model file); one sentence when it
    is not a word-level language model a classifier can read its texts with. Without
    ``weights`` only the file's header is read (enough for :func:`adopt_language_model`)."""
    tensors, meta = load_model_file(path, weights=weights)
    where = f"model.init_from (--init-from) {path}"
    if meta["task"] != "lm":
        raise ConfigError(
            f"{where} holds a {meta['task']} model, not a language model; train one on your "
            "texts first (rnnlab train lm --data TEXTS --out RUN) and pass that run."
        )
    if meta["preprocessing"].get("level") != "word":
        raise ConfigError(
            f"{where} is a character-level language model and the classifier reads words; "
            "train the language model with --level word."
        )
    if meta["tokenizer"].get("name") == "whitespace":
        raise ConfigError(
            f"{where} was trained on pre-tokenised text split at spaces, which the "
            "classifier's tokenizers do not reproduce; train the language model on your own "
            "texts (rnnlab train lm --data TEXTS)."
        )
    vocab = Vocab.from_dict(meta["vocab"], source=str(path))
    return PretrainedLM(str(path), meta["model_config"], meta["tokenizer"], vocab, tensors)


def adopt_language_model(config: Any, lm: PretrainedLM) -> Any:
    """``config`` (a ClassifyRunConfig) with the LM's tokenizer and encoder shape, read left
    to right as the LM reads (unidirectional); refuses a tokenizer other than the LM's."""
    wanted = config.data.tokenizer
    name = lm.tokenizer["name"]
    if wanted not in ("auto", name):
        raise ConfigError(
            f"data.tokenizer is {wanted!r} but the language model {lm.source} reads {name!r} "
            f"tokens, and its vocabulary only fits those; drop --tokenizer or set it to {name}."
        )
    if config.model.embeddings not in ("", AUTO, NONE):
        raise ConfigError(
            f"model.embeddings ({config.model.embeddings}) would overwrite the embedding the "
            f"language model {lm.source} trained; drop --embeddings or --init-from."
        )
    if config.data.oov_buckets:
        raise ConfigError(
            f"data.oov_buckets: the classifier uses the vocabulary of the language model "
            f"{lm.source} unchanged, which has no buckets; set it to 0."
        )
    changes: dict[str, Any] = {f"model.{key}": lm.model_config[key] for key in ENCODER_KEYS}
    changes["model.bidirectional"] = False
    changes["model.embeddings"] = NONE  # the LM's embedding, not self-trained vectors
    changes["data.tokenizer"] = name
    # The LM's options, so config.toml shows what tokenises. user_dict is left out: the model
    # file carries the dictionary's text, and an unset one (None) has no TOML form.
    changes["data.tokenizer_options"] = {
        key: value for key, value in lm.tokenizer.get("options", {}).items() if key != "user_dict"
    }
    return config.merge(changes)


@torch.no_grad()
def load_language_model_weights(encoder: TextEncoder, lm: PretrainedLM) -> None:
    """Copy the LM's embedding and recurrent weights into ``encoder`` (built from the
    adopted config, over the LM's vocabulary); the padding row stays zero."""
    embedding = lm.tensors["embedding.weight"]
    if embedding.shape != encoder.embedding.weight.shape:
        raise ConfigError(
            f"model.init_from {lm.source}: its embedding is {tuple(embedding.shape)} and the "
            f"classifier's {tuple(encoder.embedding.weight.shape)}; the classifier must use "
            "the language model's vocabulary unchanged."
        )
    encoder.embedding.weight.copy_(embedding)
    if encoder.embedding.padding_idx is not None:
        encoder.embedding.weight[encoder.embedding.padding_idx].zero_()
    recurrent = {k.removeprefix("rnn."): v for k, v in lm.tensors.items() if k.startswith("rnn.")}
    missing, unexpected = encoder.rnn.load_state_dict(recurrent, strict=False)
    missing = [k for k in missing if not k.endswith("_extra_state")]
    if missing or unexpected:
        raise ConfigError(
            f"model.init_from {lm.source}: its recurrent weights do not fit the classifier's "
            f"encoder (missing {missing}, unexpected {unexpected}); pass a language model "
            "trained by rnnlab train lm."
        )
