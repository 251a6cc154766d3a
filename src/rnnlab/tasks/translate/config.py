"""Configuration of translation runs: the ``[model]``, ``[data]`` and ``[train]`` sections.

A translation run is a :class:`TranslateRunConfig`. ``[model]`` holds the recurrent layers'
keys shared with every task (:class:`~rnnlab.tasks.encoder.RecurrentConfig`: cell, width,
depth and dropouts, here of the bidirectional encoder; the decoder has the same cell, width
and depth), the embedding sizes, the attention (``general``/``dot``: Luong, computed after
the decoder's recurrent step so that teacher forcing runs the decoder's recurrent layer over
the whole target at once; ``additive``: Bahdanau, with a step loop), input feeding, weight
tying and label smoothing. ``[data]`` says where the sentence pairs lie and how each side is
split into tokens. ``[train]`` is the shared :class:`~rnnlab.config.TrainConfig`, with
defaults for translation (early stopping on validation loss).

Every field carries its ``help`` line: the command-line flags are written from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rnnlab.config import (
    ConfigSection,
    RunConfig,
    TrainConfig,
    inherited,
    refuse_dropout_without_layers,
    setting,
)
from rnnlab.errors import ConfigError
from rnnlab.tasks.base import TrainCommand
from rnnlab.tasks.encoder import EncoderConfig, RecurrentConfig

__all__ = [
    "ATTENTIONS",
    "COMMAND",
    "TOKENIZERS",
    "TranslateDataConfig",
    "TranslateDecodeConfig",
    "TranslateModelConfig",
    "TranslateRunConfig",
]

ATTENTIONS = ("general", "dot", "additive")
# "word": letters / digits runs and single punctuation marks, case kept (ä ß é œ are
# letters); "english": rnnlab's English tokenizer (lower-cased, punctuation kept);
# "chinese": jieba; "char": characters; "whitespace": pre-tokenised text;
# "bpe" / "unigram": subword units learnt on the training side (SentencePiece);
# "auto": chinese for CJK text, word otherwise.
TOKENIZERS = ("auto", "word", "english", "chinese", "char", "whitespace", "bpe", "unigram")


def _inherited(name: str, default: Any, help: str) -> Any:
    """Field ``name`` of :class:`RecurrentConfig` with a new default and help line."""
    return inherited(RecurrentConfig, name, default, help=help)


@dataclass(frozen=True)
class TranslateModelConfig(RecurrentConfig):
    """embedding → bidirectional encoder → attention decoder → output layer."""

    cell: str = _inherited(
        "cell", "gru", "Recurrent cell of encoder and decoder: gru, lstm or rnn."
    )
    hidden_size: int = _inherited(
        "hidden_size", 256, "Width of each encoder direction and of the decoder's recurrent layer."
    )
    num_layers: int = _inherited(
        "num_layers", 1, "Stacked recurrent layers of the encoder and the decoder."
    )
    bidirectional: bool = _inherited(
        "bidirectional",
        True,
        "Read the source in both directions (the decoder always runs left to right).",
    )
    dropout: float = _inherited(
        "dropout", 0.0, "Dropout between stacked recurrent layers (needs num_layers >= 2)."
    )
    input_dropout: float = _inherited(
        "input_dropout",
        0.2,
        "Variational dropout on each recurrent layer's input, embeddings included.",
    )
    recurrent_dropout: float = _inherited(
        "recurrent_dropout",
        0.0,
        "Variational dropout on the previous hidden state (runs the step path).",
    )
    weight_dropout: float = _inherited(
        "weight_dropout", 0.0, "DropConnect on the recurrent weights W_hh, one mask per batch."
    )
    embedding_dim: int = inherited(
        EncoderConfig, "embedding_dim", 256, help="Width of the source and target word embeddings."
    )
    attention: str = setting(
        "general",
        choices=ATTENTIONS,
        aliases=("attn", "attention_type"),
        help="Attention score: general (Luong, s = hᵀW k), dot (s = hᵀk) or additive "
        "(Bahdanau, step loop).",
    )
    input_feeding: bool = setting(
        False,
        aliases=("input_feed",),
        help="Feed the previous attentional vector to the decoder's input (Luong; step loop).",
    )
    tie_embeddings: bool = setting(
        False,
        aliases=("tie_weights", "weight_tying"),
        help="Share the target embedding with the output layer (the attentional vector is "
        "then embedding_dim wide).",
    )
    output_dropout: float = setting(
        0.3, low=0, below=1, help="Dropout on the attentional vector before the output layer."
    )
    label_smoothing: float = setting(
        0.1,
        low=0,
        below=1,
        aliases=("smoothing",),
        help="Label smoothing ε of the training loss: (1−ε)·NLL + ε·mean over the vocabulary.",
    )
    init: str = setting(
        "orthogonal",
        choices=("orthogonal", "torch"),
        aliases=("initializer",),
        help="Weight initialisation: orthogonal recurrent weights (embeddings N(0, 1)), or "
        "torch.nn's defaults.",
    )

    def check(self) -> None:
        refuse_dropout_without_layers(self, ("input_dropout", "output_dropout"))

    @property
    def step_loop(self) -> bool:
        """Whether teacher forcing needs the step loop: additive attention reads the
        decoder's previous state, input feeding feeds each step the previous attention."""
        return self.attention == "additive" or self.input_feeding


@dataclass(frozen=True)
class TranslateDataConfig(ConfigSection):
    """Where the sentence pairs lie, how to read them, and how each side becomes ids."""

    section: ClassVar[str] = "data"

    data: str = setting(
        "",
        aliases=("train", "dataset", "path"),
        help="Training pairs: a table (CSV, TSV, JSONL, Parquet), the source-side text file "
        "(with --target-data), or multi30k.",
    )
    valid: str = setting(
        "",
        aliases=("validation", "dev"),
        help="Validation pairs, read like --data (default: 5 percent of the training pairs).",
    )
    test: str = setting("", help="Test pairs, read like --data, scored after training.")
    target_data: str = setting(
        "",
        aliases=("target_file", "tgt_data"),
        help="The target-side text file aligned line by line with --data.",
    )
    valid_target: str = setting(
        "", help="The target-side text file aligned line by line with --valid."
    )
    test_target: str = setting(
        "", help="The target-side text file aligned line by line with --test."
    )
    format: str = setting(
        "",
        choices=("", "csv", "tsv", "jsonl", "parquet", "text"),
        help="File format: csv, tsv, jsonl, parquet or text (default: from the suffix).",
    )
    source_col: str = setting(
        "source",
        aliases=("src_col", "source_column"),
        help="Column (or JSON key) of the source sentences; a number (from 1) with --no-header.",
    )
    target_col: str = setting(
        "target",
        aliases=("tgt_col", "target_column"),
        help="Column (or JSON key) of the target sentences; a number (from 1) with --no-header.",
    )
    header: bool = setting(
        True,
        help="The table starts with a header row; --no-header reads Tatoeba-style pairs "
        "(columns 1 and 2: source, target).",
    )
    source_lang: str = setting(
        "de",
        aliases=("src_lang", "source_language"),
        help="Source language of a built-in corpus (multi30k: en, de or fr).",
    )
    target_lang: str = setting(
        "en",
        aliases=("tgt_lang", "target_language"),
        help="Target language of a built-in corpus (multi30k: en, de or fr).",
    )
    source_tokenizer: str = setting(
        "auto",
        choices=TOKENIZERS,
        aliases=("src_tokenizer",),
        help="How source sentences become tokens: auto, word, english, chinese, char, "
        "whitespace, or subword units (bpe, unigram).",
    )
    target_tokenizer: str = setting(
        "auto",
        choices=TOKENIZERS,
        aliases=("tgt_tokenizer",),
        help="How target sentences become tokens (and are joined back for scoring).",
    )
    subword_vocab: int = setting(
        8000,
        low=16,
        aliases=("bpe_vocab", "spm_vocab"),
        help="Subword units learnt per side by the bpe and unigram tokenizers.",
    )
    lowercase: bool = setting(
        False, aliases=("lower",), help="Lower-case both sides before tokenising."
    )
    max_len: int = setting(
        80,
        low=1,
        aliases=("max_length", "max_tokens"),
        help="Training pairs with a side longer than this many tokens are left out.",
    )
    max_vocab: int = setting(
        30000,
        low=1,
        aliases=("vocab_size", "max_size"),
        help="Most frequent tokens kept in each side's vocabulary.",
    )
    min_count: int = setting(
        2,
        low=1,
        aliases=("min_freq",),
        help="Tokens seen fewer times in training share <unk>.",
    )

    @property
    def text_col(self) -> str:
        """The column of input text, for the tools every text task shares (``rnnlab predict
        --backend ray`` reads its default from here): the source column."""
        return self.source_col


@dataclass(frozen=True)
class TranslateDecodeConfig(ConfigSection):
    """How translations are searched for (evaluation, ``predict``, ``serve``)."""

    section: ClassVar[str] = "decode"

    beam: int = setting(
        5, low=1, aliases=("beam_size", "num_beams"), help="Beam size; 1 decodes greedily."
    )
    length_penalty: float = setting(
        0.6,
        low=0,
        aliases=("alpha", "lenpen"),
        help="GNMT length penalty α: scores are log p / ((5 + length) / 6)^α; 0 = none.",
    )
    max_ratio: float = setting(
        2.0,
        low=0,
        aliases=("max_len_ratio",),
        help="Longest translation, as a multiple of the source length (plus 5 tokens).",
    )
    nbest: int = setting(
        1, low=1, aliases=("n_best",), help="Translations returned per sentence (<= beam)."
    )

    def check(self) -> None:
        if self.nbest > self.beam:
            raise ConfigError(
                f"Config key 'decode.nbest' is {self.nbest} but decode.beam is {self.beam}; "
                "a beam of K returns at most K translations — raise --beam or lower --nbest."
            )


def _train_defaults() -> TrainConfig:
    return TrainConfig(
        epochs=10,
        batch_size=64,
        lr=3e-3,
        monitor="loss",
        monitor_mode="min",
        patience=3,
        clip_norm=1.0,
    )


@dataclass(frozen=True)
class TranslateRunConfig(RunConfig):
    """Everything a translation run needs; written beside the run as ``config.toml``."""

    model: TranslateModelConfig = field(default_factory=TranslateModelConfig)  # type: ignore[assignment]
    data: TranslateDataConfig = field(default_factory=TranslateDataConfig)  # type: ignore[assignment]
    decode: TranslateDecodeConfig = field(default_factory=TranslateDecodeConfig)
    train: TrainConfig = field(default_factory=_train_defaults)

    def check(self) -> None:
        """Target files need their source files; BLEU is followed upwards."""
        if self.train.monitor == "bleu" and self.train.monitor_mode != "max":
            raise ConfigError(
                "Config key 'train.monitor' is 'bleu', which is higher-is-better, but "
                "train.monitor_mode is 'min'; set train.monitor_mode = 'max'."
            )
        data = self.data
        for key, other in (
            ("valid_target", data.valid),
            ("test_target", data.test),
        ):
            if getattr(data, key) and not other:
                flag = key.split("_")[0]
                raise ConfigError(
                    f"Config key 'data.{key}' names the target side of --{flag} data, but "
                    f"data.{flag} is empty; pass --{flag} with the source-side file."
                )


def _headline(metrics: dict[str, Any], split: str) -> str:
    line = f"{split} BLEU {metrics['bleu']:.2f}  chrF {metrics['chrf']:.2f}"
    line += f"  lowercased BLEU {metrics['bleu_lowercase']:.2f}"
    if "copy_bleu" in metrics:
        line += f"  (copy-the-source BLEU {metrics['copy_bleu']:.2f})"
    return line


COMMAND = TrainCommand(
    help="Train a translation model: bidirectional encoder → attention decoder, scored with "
    "sacreBLEU.",
    examples=(
        "rnnlab train translate --data multi30k --source-lang de --target-lang en --out runs/de-en",
        "rnnlab train translate --data pairs.jsonl --source-col de --target-col en "
        "--valid dev.jsonl --test test.jsonl --out runs/mt",
        "rnnlab train translate --data train.de.gz --target-data train.en.gz --valid val.de "
        "--valid-target val.en --out runs/mt",
        "rnnlab train translate --data deu.txt --format tsv --no-header --source-col 2 "
        "--target-col 1 --out runs/tatoeba",
        "rnnlab train translate --data multi30k --attention additive --input-feeding --beam 5 "
        "--out runs/bahdanau",
    ),
    seeds=("bleu", "chrf", "bleu_lowercase"),
    headline=_headline,
)
