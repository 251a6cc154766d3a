"""Configuration of classification runs: the ``[model]``, ``[data]`` and ``[train]`` tables.

``[model]`` is the shared recurrent encoder (:class:`~rnnlab.tasks.encoder.EncoderConfig`)
plus the classifier's pooling and embedding dropout; ``[data]`` says where the table lies,
which columns hold text and label, and how text becomes token ids; ``[train]`` is the shared
:class:`~rnnlab.config.TrainConfig`.
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
from rnnlab.tasks.base import TrainCommand
from rnnlab.tasks.encoder import POOLINGS, EncoderConfig

__all__ = ["ClassifyRunConfig", "DataConfig", "ModelConfig"]


@dataclass(frozen=True)
@override_defaults(bidirectional=True, embeddings="auto")
class ModelConfig(EncoderConfig):
    """The network: embedding → recurrent core → pooling → head.

    The defaults are the recipe chosen across six kinds of text (the README's recipe table
    has the comparison): an embedding started from skip-gram vectors trained on the run's
    own training texts (``embeddings = "auto"``), a bidirectional 2-layer GRU 128 read
    through concat pooling [last, max, mean], variational dropout 0.2 on every layer's input
    and DropConnect 0.2 on W_hh. Element-wise dropout (``dropout``, ``embedding_dropout``)
    is off, as sampling its masks is slow on the CPU.
    """

    embedding_dropout: float = setting(
        0.0, low=0, below=1, help="Dropout of whole word types in the embedding layer."
    )
    pooling: str = setting(
        "concat",
        choices=POOLINGS,
        aliases=("pool",),
        help=(
            "How the recurrent states become one vector: last, mean, max or concat ([last, max, "
            "mean])."
        ),
    )
    # Dropout on the pooled vector, before the linear head.
    head_dropout: float = setting(
        0.0, low=0, below=1, help="Dropout on the pooled vector, before the output layer."
    )
    # A word-level language-model run (or its model file) whose embedding, recurrent layers,
    # tokenizer and vocabulary the classifier starts from (ULMFiT): its encoder's shape
    # replaces cell, embedding_dim, hidden_size and num_layers.
    init_from: str = setting(
        "",
        aliases=("pretrained_lm", "language_model"),
        help=(
            "Fine-tune from a word-level language-model run (rnnlab train lm): its tokenizer, "
            "vocabulary, embedding and recurrent layers, with ULMFiT's schedule."
        ),
    )
    # "tfidf": once the network has trained, average its probabilities with a TF-IDF (word
    # 1–2-grams) + logistic-regression model of the same token ids, C and the weight chosen
    # on the validation split (rnnlab.tasks.classify.combine); "none": the network alone.
    combine: str = setting(
        "tfidf",
        choices=("tfidf", "none"),
        help=(
            "tfidf: average the network's probabilities with a TF-IDF (or NB-weighted) 1–2-gram "
            "logistic regression of the same tokens, weight chosen on validation; none: the "
            "network "
            "alone."
        ),
    )
    # Hash buckets of the lexical model's bigrams; 0: 2^20 up to 4 classes, fewer for more
    # (rnnlab.tasks.classify.lexical.default_buckets).
    lexical_buckets: int = setting(
        0,
        low=0,
        help="Hash buckets of the lexical model's bigrams (0: chosen from the number of classes).",
    )


@dataclass(frozen=True)
class DataConfig(ConfigSection):
    """Where the data lies and how text becomes token ids."""

    section: ClassVar[str] = "data"

    data: str = setting(
        "",
        aliases=("train", "dataset", "path"),
        help=(
            "Training table (CSV/TSV/JSONL/Parquet/xlsx) or dataset name (imdb, rotten_tomatoes, "
            "chinese_reviews, bbc_news, trec, tweets)."
        ),
    )
    valid: str = setting(
        "", aliases=("validation", "dev"), help="Validation table (default: 10% of --data)."
    )
    test: str = setting("", help="Test table, evaluated after training.")
    text_col: str = setting("text", aliases=("text_column",), help="Column holding the text.")
    label_col: str = setting("label", aliases=("label_column",), help="Column holding the label.")
    format: str = setting(
        "",
        choices=("", "csv", "tsv", "jsonl", "parquet", "xlsx"),
        help="csv, tsv, jsonl, parquet or xlsx (default: from the suffix).",
    )
    skip_empty: bool = setting(False, help="Drop rows with empty text instead of stopping.")
    # Text encoding of the table files: "auto" detects it (rnnlab.data.encodings); the
    # command line records the encoding it detected here, so a resumed run reads the same.
    encoding: str = setting(
        "auto",
        aliases=("charset", "codec"),
        help=(
            "Text encoding of the tables: auto (detected from the first bytes, recorded in the "
            "run's "
            "config), or a name such as utf-8, gb18030, big5, cp1252."
        ),
    )
    # CSV/TSV delimiter: "auto" (tab for TSV, told from the first lines for CSV: , ; tab |),
    # "tab", or one character.
    delimiter: str = setting(
        "auto",
        pattern=(r'auto|tab|\\t|[^\r\n"]', "auto, tab or one character such as ';'"),
        aliases=("sep", "separator"),
        help=(
            "CSV delimiter: auto (told from the first lines among , ; tab |), tab, or one "
            "character."
        ),
    )
    # Workbooks (.xlsx): the sheet's name or 0-based index; "" reads the first sheet.
    sheet: str = setting(
        "",
        aliases=("sheet_name", "worksheet"),
        help="Sheet of .xlsx workbooks: a name or 0-based index (default: the first).",
    )
    # english | chinese | char | auto: chinese when most letters are CJK ideographs, else
    # english with digits and punctuation kept as tokens ("9/10", "!"; estimator.
    # AUTO_ENGLISH_OPTIONS) — `english` by name is the classic letters-only preprocessing.
    tokenizer: str = setting(
        "auto",
        choices=("auto", "english", "chinese", "char"),
        help="english, chinese, char or auto (chinese when most letters are CJK).",
    )
    tokenizer_options: dict[str, Any] = setting(  # noqa: RUF009
        {}, help="Options of the tokenizer (TOML only).", flag=""
    )
    max_vocab: int = setting(
        30000,
        low=1,
        aliases=("vocab_size", "max_size"),
        help="Vocabulary size (the most frequent tokens).",
    )
    min_count: int = setting(
        2, low=1, aliases=("min_freq",), help="Tokens seen fewer times are out of the vocabulary."
    )
    oov_buckets: int = setting(
        0, low=0, help="Hash buckets shared by out-of-vocabulary tokens (0: one <unk>)."
    )
    # Long enough to keep most movie reviews whole; short texts never reach it.
    max_len: int = setting(
        500,
        low=1,
        aliases=("max_length", "maxlen", "seq_len"),
        help="Keep at most this many tokens per text.",
    )
    truncate: str = setting(
        "head", choices=("head", "tail"), help="Which end of a long text is kept: head or tail."
    )


def _train_defaults() -> TrainConfig:
    """Up to 20 epochs, stopped when validation accuracy has not improved for 2, the best
    epoch's weights kept: small data trains long enough and large data no longer than it
    gains (large sets peak within a few epochs, small ones need many more)."""
    return TrainConfig(epochs=20, patience=2)


@dataclass(frozen=True)
class ClassifyRunConfig(RunConfig):
    """Everything a classification run needs; written beside the run as ``config.toml``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=_train_defaults)

    def check(self) -> None:
        """``model.dropout`` needs a layer above to drop into (torch.nn only warns)."""
        refuse_dropout_without_layers(self.model, (
            "input_dropout", "recurrent_dropout", "weight_dropout", "embedding_dropout",
            "head_dropout",
        ))  # fmt: skip


def _headline(metrics: dict[str, Any], split: str) -> str:
    return (
        f"{split} accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}  "
        f"({metrics['num_examples']} texts)"
    )


def _fine_tuning_defaults(flags: dict[str, Any]) -> dict[str, Any]:
    """``--init-from`` brings ULMFiT's recipe (:data:`~rnnlab.tasks.classify.finetune.
    FINE_TUNING`) under the user's flags."""
    if not flags.get("model.init_from"):
        return {}
    from rnnlab.tasks.classify.finetune import FINE_TUNING

    return dict(FINE_TUNING)


# The metrics ``--seeds`` summarises: the default model, its network alone (where it
# combines) and the tuned TF-IDF baseline.
CLASSIFY_SCORES = tuple(
    f"{prefix}{k}"
    for prefix in ("", "recurrent_", "baseline_tfidf_")
    for k in ("accuracy", "macro_f1")
)

COMMAND = TrainCommand(
    help="Train a text classifier (embedding → RNN/LSTM/GRU → pooling → softmax).",
    examples=(
        "rnnlab train classify --data imdb --out runs/imdb",
        "rnnlab train classify --data reviews.csv --text-col review --label-col stars "
        "--valid dev.csv --test test.csv --cell lstm --epochs 5 --out runs/reviews",
        "rnnlab train classify --config runs/imdb/config.toml --out runs/imdb --resume",
    ),
    seeds=CLASSIFY_SCORES,
    folds=True,
    flag_defaults=_fine_tuning_defaults,
    headline=_headline,
)
