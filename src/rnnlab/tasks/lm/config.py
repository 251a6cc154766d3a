"""Configuration of language-model runs: the ``[model]``, ``[data]`` and ``[train]`` tables.

``[model]`` is the shared recurrent encoder (:class:`~rnnlab.tasks.encoder.EncoderConfig`,
here an LSTM by default) plus the AWD-LSTM regularisers of the output side; ``[data]`` the
corpus, its level (words or characters) and the BPTT window; ``[train]`` the shared
:class:`~rnnlab.config.TrainConfig`, following validation perplexity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

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
from rnnlab.tasks.encoder import EncoderConfig

__all__ = ["LMDataConfig", "LMModelConfig", "LMRunConfig"]


@dataclass(frozen=True)
@override_defaults(
    cell="lstm", embedding_dim=200, hidden_size=200, input_dropout=0.25, weight_dropout=0.2
)
class LMModelConfig(EncoderConfig):
    """embedding → LSTM/GRU layers → (projection) → softmax tied to the embedding."""

    # Locked (variational) dropout on the last layer's outputs, before the softmax.
    output_dropout: float = setting(0.25, low=0, below=1)
    # Dropout of whole word types: every occurrence of a dropped word is zero in the batch.
    embedding_dropout: float = setting(0.05, low=0, below=1)
    # Share the softmax weights with the embedding (Press & Wolf 2017; Inan et al. 2017); a
    # projection H → E is added when the sizes differ.
    tie_weights: bool = setting(True, aliases=("tie", "tied"))
    # The output layer: "full" softmax over V, "adaptive" two-level softmax (the
    # softmax_cutoff most frequent ids + a tail cluster; rnnlab.nn.softmax.TiedAdaptiveSoftmax),
    # or "auto": adaptive when the vocabulary has at least twice softmax_cutoff ids.
    softmax: str = setting("auto", choices=("auto", "full", "adaptive"))
    softmax_cutoff: int = setting(2000, low=1, aliases=("cutoff",))
    # AR α · mean(h_t²) and TAR β · mean((h_t − h_{t−1})²), Merity et al. 2017.
    ar: float = setting(2.0, low=0, aliases=("alpha",))
    tar: float = setting(1.0, low=0, aliases=("beta",))

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

    data: str = setting("", aliases=("train", "dataset", "path", "corpus"))
    valid: str = setting("", aliases=("validation", "dev"))
    test: str = setting("")
    level: str = setting("word", choices=("word", "char"))
    # Text files as running text: a paragraph (lines up to a blank line) is one document, its
    # line breaks read as spaces; off, every line is a document. <eos> ends each document.
    continuous: bool = setting(False)
    # Word level: "whitespace" (pre-tokenised corpora such as PTB), "english", "chinese", or
    # "auto" (whitespace for the built-in corpora, else english or chinese by the script).
    tokenizer: str = setting("auto", choices=("auto", "whitespace", "english", "chinese"))
    max_vocab: int = setting(50000, low=1, aliases=("vocab_size", "max_size"))
    min_count: int = setting(1, low=1, aliases=("min_freq",))
    bptt: int = setting(35, low=2, aliases=("seq_len", "window"))
    # AWD-LSTM's random window lengths around bptt in training.
    variable_bptt: bool = setting(True)

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
