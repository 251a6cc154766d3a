"""Configuration of sequence-labelling runs: the tagger's own ``model`` and ``data`` sections.

A tagging run is a :class:`TagRunConfig`: the same three TOML tables as a classification run
(``[model]``, ``[data]``, ``[train]``), with the keys a tagger reads — a word embedding, an
optional character encoder, a bidirectional recurrent layer and a softmax or CRF output in
``[model]``; the tagged file's format, columns and tag scheme in ``[data]``; and training
defaults measured on People's Daily and WNUT-16 (see the README) in ``[train]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rnnlab.config import (
    ConfigSection,
    RunConfig,
    TrainConfig,
    override_defaults,
    refuse_dropout_without_layers,
    setting,
)
from rnnlab.errors import ConfigError
from rnnlab.tasks.encoder import EncoderConfig

__all__ = ["TagDataConfig", "TagModelConfig", "TagRunConfig", "resolve_monitor"]


@dataclass(frozen=True)
@override_defaults(
    embedding_dim=100,
    num_layers=1,
    bidirectional=True,
    input_dropout=0.25,
    weight_dropout=0.0,
)
class TagModelConfig(EncoderConfig):
    """word embedding (+ character encoder) → recurrent layers → emission scores → decoder."""

    # Output layer: "crf" scores whole tag paths (transitions learnt, Viterbi decoding);
    # "softmax" scores each token on its own (argmax decoding).
    decoder: str = setting("crf", choices=("crf", "softmax"), aliases=("output", "head"))
    # Character encoder of each word: "cnn" (Ma & Hovy, 2016), "gru" (a BiGRU, Lample et al.,
    # 2016) or "none". Its vector is concatenated to the word embedding.
    char_encoder: str = setting("cnn", choices=("cnn", "gru", "none"), aliases=("chars",))
    char_dim: int = setting(30, low=1, aliases=("char_embedding_dim",))
    char_hidden: int = setting(50, low=1, aliases=("char_hidden_size", "char_filters"))
    output_dropout: float = setting(0.25, low=0, below=1)

    def check(self) -> None:
        super().check()
        if self.char_encoder == "gru" and self.char_hidden % 2:
            raise ConfigError(
                f"Config key 'model.char_hidden' is {self.char_hidden} but the 'gru' character "
                "encoder splits it between two directions; use an even number."
            )


@dataclass(frozen=True)
class TagDataConfig(ConfigSection):
    """Where the tagged sentences lie, how to read them, and how words become ids."""

    section: ClassVar[str] = "data"

    data: str = setting("", aliases=("train", "dataset", "path"))
    valid: str = setting("", aliases=("validation", "dev"))
    test: str = setting("")
    # "" = from the file name (.conllu → conllu, else conll); wordtag must be asked for.
    format: str = setting("", choices=("", "conll", "wordtag", "conllu"))
    token_col: int = setting(0, aliases=("token_column", "word_col"))
    tag_col: int = setting(-1, aliases=("tag_column", "label_col"))
    conllu_tags: str = setting("upos", choices=("upos", "xpos"))
    # Tags the model learns: "auto" keeps the data's scheme; "bioes" learns BIO data as BIOES
    # (predictions are written back in the data's scheme).
    scheme: str = setting("auto", choices=("auto", "bio", "bioes", "plain"), aliases=("tagging",))
    max_vocab: int = setting(50000, low=1, aliases=("vocab_size", "max_size"))
    # Words seen once are left out, so that <unk> is trained for words never seen.
    min_count: int = setting(2, low=1, aliases=("min_freq",))
    # Characters seen fewer times share the character <unk> (the character encoder's input).
    char_min_count: int = setting(2, low=1, aliases=("min_char_count",))
    max_word_len: int = setting(20, low=1, aliases=("max_chars",))


def _train_defaults() -> TrainConfig:
    return TrainConfig(epochs=6, batch_size=32, lr=3e-3, monitor="auto")


@dataclass(frozen=True)
class TagRunConfig(RunConfig):
    """Everything a tagging run needs; written beside the run as ``config.toml``.

    ``train.monitor = "auto"`` follows validation entity F1 for span tags and token accuracy
    for plain tags (see :func:`resolve_monitor`).
    """

    model: TagModelConfig = field(default_factory=TagModelConfig)  # type: ignore[assignment]
    data: TagDataConfig = field(default_factory=TagDataConfig)  # type: ignore[assignment]
    train: TrainConfig = field(default_factory=_train_defaults)

    def check(self) -> None:
        """``model.dropout`` needs a layer above to drop into (torch.nn only warns)."""
        refuse_dropout_without_layers(
            self.model, ("input_dropout", "recurrent_dropout", "weight_dropout", "output_dropout")
        )


def resolve_monitor(config: TagRunConfig, scheme: str) -> TagRunConfig:
    """``train.monitor = "auto"`` replaced by ``f1`` (span schemes) or ``accuracy`` (plain)."""
    if config.train.monitor != "auto":
        return config
    return config.merge(
        {"train.monitor": "accuracy" if scheme == "plain" else "f1", "train.monitor_mode": "max"}
    )
