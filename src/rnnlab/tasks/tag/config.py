"""Configuration of sequence-labelling runs: the tagger's own ``model`` and ``data`` sections.

A tagging run is a :class:`TagRunConfig`: the same three TOML tables as a classification run
(``[model]``, ``[data]``, ``[train]``), with the keys a tagger reads — a word embedding, an
optional character encoder, a bidirectional recurrent layer and a softmax or CRF output in
``[model]``; the tagged file's format, columns and tag scheme in ``[data]``; and training
defaults measured on People's Daily and WNUT-16 (see the README) in ``[train]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rnnlab.config import (
    ConfigSection,
    RunConfig,
    TrainConfig,
    override_defaults,
    refuse_dropout_without_layers,
    setting,
)
from rnnlab.errors import ConfigError
from rnnlab.tasks.base import TrainCommand
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
    decoder: str = setting(
        "crf",
        choices=("crf", "softmax"),
        aliases=("output", "head"),
        help="crf (Viterbi over tag transitions) or softmax (each token on its own).",
    )
    # Character encoder of each word: "cnn" (Ma & Hovy, 2016), "gru" (a BiGRU, Lample et al.,
    # 2016) or "none". Its vector is concatenated to the word embedding.
    char_encoder: str = setting(
        "cnn",
        choices=("cnn", "gru", "none"),
        aliases=("chars",),
        help="Character features of each word: cnn, gru or none.",
    )
    char_dim: int = setting(
        30, low=1, aliases=("char_embedding_dim",), help="Size of the character vectors."
    )
    char_hidden: int = setting(
        50,
        low=1,
        aliases=("char_hidden_size", "char_filters"),
        help="Filters (cnn) or units (gru) of the character encoder.",
    )
    output_dropout: float = setting(
        0.25, low=0, below=1, help="Dropout on the recurrent outputs, before the tag scores."
    )

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

    data: str = setting(
        "",
        aliases=("train", "dataset", "path"),
        help="Tagged training file or dataset name (wnut16, peoples_daily_pos, peoples_daily_ner).",
    )
    valid: str = setting(
        "", aliases=("validation", "dev"), help="Validation file (default: 10% of --data)."
    )
    test: str = setting("", help="Test file, evaluated after training.")
    # "" = from the file name (.conllu → conllu, else conll); wordtag must be asked for.
    format: str = setting(
        "",
        choices=("", "conll", "wordtag", "conllu"),
        help="conll, wordtag or conllu (default: conllu for *.conllu, else conll).",
    )
    token_col: int = setting(
        0, aliases=("token_column", "word_col"), help="CoNLL column of the tokens (0-based)."
    )
    tag_col: int = setting(
        -1, aliases=("tag_column", "label_col"), help="CoNLL column of the tags (-1: the last)."
    )
    conllu_tags: str = setting(
        "upos", choices=("upos", "xpos"), help="CoNLL-U tags to learn: upos or xpos."
    )
    # Tags the model learns: "auto" keeps the data's scheme; "bioes" learns BIO data as BIOES
    # (predictions are written back in the data's scheme).
    scheme: str = setting(
        "auto",
        choices=("auto", "bio", "bioes", "plain"),
        aliases=("tagging",),
        help="Tags to learn: auto (the data's), bio, bioes or plain.",
    )
    max_vocab: int = setting(
        50000,
        low=1,
        aliases=("vocab_size", "max_size"),
        help="Vocabulary size (the most frequent words).",
    )
    # Words seen once are left out, so that <unk> is trained for words never seen.
    min_count: int = setting(
        2, low=1, aliases=("min_freq",), help="Words seen fewer times are out of the vocabulary."
    )
    # Characters seen fewer times share the character <unk> (the character encoder's input).
    char_min_count: int = setting(
        2,
        low=1,
        aliases=("min_char_count",),
        help="Characters seen fewer times share the character <unk>.",
    )
    max_word_len: int = setting(
        20,
        low=1,
        aliases=("max_chars",),
        help="Characters of each word the character encoder reads.",
    )


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


def _headline(metrics: dict[str, Any], split: str) -> str:
    entity = f"entity F1 {metrics['f1']:.4f}  " if "f1" in metrics else ""
    return f"{split} {entity}token accuracy {metrics['accuracy']:.4f}"


COMMAND = TrainCommand(
    help="Train a sequence tagger (NER, POS): words + characters → BiGRU/BiLSTM → CRF or softmax.",
    examples=(
        "rnnlab train tag --data peoples_daily_pos --out runs/pos",
        "rnnlab train tag --data wnut16 --decoder softmax --char-encoder none --out runs/w",
        "rnnlab train tag --data train.conll --valid dev.conll --test test.conll --tag-col 3 "
        "--out runs/ner",
        "rnnlab train tag --data pd.txt --format wordtag --out runs/pd",
        "rnnlab train tag --data en_ewt-ud-train.conllu --conllu-tags xpos --out runs/ud",
    ),
    seeds=("f1", "precision", "recall", "accuracy"),
    headline=_headline,
)
