"""Configuration of language-model runs: the ``[model]``, ``[data]`` and ``[train]`` tables.

``[model]`` is the shared recurrent encoder (:class:`~rnnlab.tasks.encoder.EncoderConfig`,
here an LSTM by default) plus the AWD-LSTM regularisers of the output side; ``[data]`` the
corpus, its level (words or characters) and the BPTT window; ``[train]`` the shared
:class:`~rnnlab.config.TrainConfig`, following validation perplexity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rnnlab.config import (
    ConfigSection,
    RunConfig,
    TrainConfig,
    override_defaults,
    refuse_bucketing,
    refuse_dropout_without_layers,
    setting,
)
from rnnlab.errors import ConfigError
from rnnlab.tasks.base import TrainCommand
from rnnlab.tasks.encoder import EncoderConfig

__all__ = ["LMDataConfig", "LMModelConfig", "LMRunConfig"]


@dataclass(frozen=True)
@override_defaults(
    cell="lstm", embedding_dim=200, hidden_size=200, input_dropout=0.25, weight_dropout=0.2
)
class LMModelConfig(EncoderConfig):
    """embedding → LSTM/GRU layers → (projection) → softmax tied to the embedding."""

    # Locked (variational) dropout on the last layer's outputs, before the softmax.
    output_dropout: float = setting(
        0.25, low=0, below=1, help="Locked dropout on the last layer's outputs, before the softmax."
    )
    # Dropout of whole word types: every occurrence of a dropped word is zero in the batch.
    embedding_dropout: float = setting(
        0.05,
        low=0,
        below=1,
        help="Dropout of whole word types: every occurrence of a dropped word is zero.",
    )
    # Share the softmax weights with the embedding (Press & Wolf 2017; Inan et al. 2017); a
    # projection H → E is added when the sizes differ.
    tie_weights: bool = setting(
        True,
        aliases=("tie", "tied"),
        help="Share the softmax weights with the embedding (Press & Wolf 2017).",
    )
    # The output layer: "full" softmax over V, "adaptive" two-level softmax (the
    # softmax_cutoff most frequent ids + a tail cluster; rnnlab.nn.softmax.TiedAdaptiveSoftmax),
    # or "auto": adaptive when the vocabulary has at least twice softmax_cutoff ids.
    softmax: str = setting(
        "auto",
        choices=("auto", "full", "adaptive"),
        help="Output layer: auto, full or adaptive (two-level).",
    )
    softmax_cutoff: int = setting(
        2000,
        low=1,
        aliases=("cutoff",),
        help="Adaptive softmax: the most frequent ids in its head.",
    )
    # AR α · mean(h_t²) and TAR β · mean((h_t − h_{t−1})²), Merity et al. 2017.
    ar: float = setting(
        2.0,
        low=0,
        aliases=("alpha",),
        help="Activation regularisation α · mean(h_t²) (Merity et al. 2017).",
    )
    tar: float = setting(
        1.0,
        low=0,
        aliases=("beta",),
        help="Temporal activation regularisation β · mean((h_t − h_{t−1})²).",
    )

    def check(self) -> None:
        super().check()
        if self.bidirectional:
            raise ConfigError(
                "model.bidirectional: a language model predicts the next token from the "
                "past only; set it to false."
            )


@dataclass(frozen=True)
class LMDataConfig(ConfigSection):
    """The corpus, how it becomes tokens, and the truncated-BPTT window."""

    section: ClassVar[str] = "data"

    data: str = setting(
        "",
        aliases=("train", "dataset", "path", "corpus"),
        help=(
            "Text file (one document per line), ptb, peoples_daily_text or a classification "
            "dataset "
            "(its training texts only)."
        ),
    )
    valid: str = setting(
        "", aliases=("validation", "dev"), help="Validation text (default: 10% of --data's lines)."
    )
    test: str = setting("", help="Test text, evaluated after training.")
    level: str = setting("word", choices=("word", "char"), help="Tokens: word or char.")
    # Text files as running text: a paragraph (lines up to a blank line) is one document, its
    # line breaks read as spaces; off, every line is a document. <eos> ends each document.
    continuous: bool = setting(
        False,
        help=(
            "Text files as running text (a paragraph is a document: --continuous) or one document "
            "per"
            " line (--lines)."
        ),
        flag="--continuous/--lines",
    )
    # Word level: "whitespace" (pre-tokenised corpora such as PTB), "english", "chinese", or
    # "auto" (whitespace for the built-in corpora, else english or chinese by the script).
    tokenizer: str = setting(
        "auto",
        choices=("auto", "whitespace", "english", "chinese"),
        help="Word level: auto, whitespace, english or chinese.",
    )
    max_vocab: int = setting(
        50000,
        low=1,
        aliases=("vocab_size", "max_size"),
        help="Vocabulary size (the most frequent tokens).",
    )
    min_count: int = setting(
        1, low=1, aliases=("min_freq",), help="Tokens seen fewer times are out of the vocabulary."
    )
    bptt: int = setting(
        35, low=2, aliases=("seq_len", "window"), help="Truncated-BPTT window (tokens)."
    )
    # AWD-LSTM's random window lengths around bptt in training.
    variable_bptt: bool = setting(
        True, help="Random window lengths around --bptt in training (AWD-LSTM)."
    )

    def check(self) -> None:
        if self.level == "char" and self.tokenizer != "auto":
            raise ConfigError(
                f"Config key 'data.tokenizer' is {self.tokenizer!r}, but data.level is 'char', "
                "which reads text character by character with no word tokenizer; remove "
                "data.tokenizer or set data.level = 'word'."
            )


def _train_defaults() -> TrainConfig:
    return TrainConfig(
        epochs=6,
        batch_size=20,
        optimizer="adamw",
        lr=2e-3,
        clip_norm=0.25,
        monitor="perplexity",
        monitor_mode="min",
    )


@dataclass(frozen=True)
class LMRunConfig(RunConfig):
    """Everything a language-model run needs; written beside the run as ``config.toml``."""

    model: LMModelConfig = field(default_factory=LMModelConfig)
    data: LMDataConfig = field(default_factory=LMDataConfig)
    train: TrainConfig = field(default_factory=_train_defaults)

    def check(self) -> None:
        """Settings a language-model run would otherwise accept and ignore."""
        refuse_dropout_without_layers(self.model, (
            "input_dropout", "recurrent_dropout", "weight_dropout", "output_dropout",
            "embedding_dropout",
        ))  # fmt: skip
        refuse_bucketing(
            self.train, "a language model reads its corpus as one stream cut into BPTT windows"
        )


def _headline(metrics: dict[str, Any], split: str) -> str:
    return (
        f"{split} perplexity {metrics[f'{split}_perplexity']:.2f}  bits/token "
        f"{metrics[f'{split}_bits_per_token']:.4f}  ({metrics[f'{split}_tokens']} tokens)"
    )


# The metrics ``--seeds`` summarises: test and validation perplexity and bits.
LM_SCORES = tuple(
    f"{split}_{k}" for split in ("test", "valid") for k in ("perplexity", "bits_per_token", "bpc")
)

COMMAND = TrainCommand(
    help="Train a language model (embedding → LSTM/GRU → tied softmax), word or character level.",
    examples=(
        "rnnlab train lm --data ptb --out runs/ptb",
        "rnnlab train lm --data ptb --level char --out runs/ptb-char",
        "rnnlab train lm --data corpus.txt --valid dev.txt --bptt 70 --out runs/corpus",
    ),
    seeds=LM_SCORES,
    headline=_headline,
)
