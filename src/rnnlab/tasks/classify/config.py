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

    embedding_dropout: float = setting(0.0, low=0, below=1)
    pooling: str = setting("concat", choices=POOLINGS, aliases=("pool",))
    # Dropout on the pooled vector, before the linear head.
    head_dropout: float = setting(0.0, low=0, below=1)
    # A word-level language-model run (or its model file) whose embedding, recurrent layers,
    # tokenizer and vocabulary the classifier starts from (ULMFiT): its encoder's shape
    # replaces cell, embedding_dim, hidden_size and num_layers.
    init_from: str = setting("", aliases=("pretrained_lm", "language_model"))
    # "tfidf": once the network has trained, average its probabilities with a TF-IDF (word
    # 1–2-grams) + logistic-regression model of the same token ids, C and the weight chosen
    # on the validation split (rnnlab.tasks.classify.combine); "none": the network alone.
    combine: str = setting("tfidf", choices=("tfidf", "none"))
    # Hash buckets of the lexical model's bigrams; 0: 2^20 up to 4 classes, fewer for more
    # (rnnlab.tasks.classify.lexical.default_buckets).
    lexical_buckets: int = setting(0, low=0)


@dataclass(frozen=True)
class DataConfig(ConfigSection):
    """Where the data lies and how text becomes token ids."""

    section: ClassVar[str] = "data"

    data: str = setting("", aliases=("train", "dataset", "path"))
    valid: str = setting("", aliases=("validation", "dev"))
    test: str = setting("")
    text_col: str = setting("text", aliases=("text_column",))
    label_col: str = setting("label", aliases=("label_column",))
    format: str = setting("", choices=("", "csv", "tsv", "jsonl", "parquet", "xlsx"))
    skip_empty: bool = setting(False)
    # Text encoding of the table files: "auto" detects it (rnnlab.data.encodings); the
    # command line records the encoding it detected here, so a resumed run reads the same.
    encoding: str = setting("auto", aliases=("charset", "codec"))
    # CSV/TSV delimiter: "auto" (tab for TSV, told from the first lines for CSV: , ; tab |),
    # "tab", or one character.
    delimiter: str = setting(
        "auto",
        pattern=(r'auto|tab|\\t|[^\r\n"]', "auto, tab or one character such as ';'"),
        aliases=("sep", "separator"),
    )
    # Workbooks (.xlsx): the sheet's name or 0-based index; "" reads the first sheet.
    sheet: str = setting("", aliases=("sheet_name", "worksheet"))
    # english | chinese | char | auto: chinese when most letters are CJK ideographs, else
    # english with digits and punctuation kept as tokens ("9/10", "!"; estimator.
    # AUTO_ENGLISH_OPTIONS) — `english` by name is the classic letters-only preprocessing.
    tokenizer: str = setting("auto", choices=("auto", "english", "chinese", "char"))
    tokenizer_options: dict[str, Any] = setting({})  # noqa: RUF009 (copied per instance)
    max_vocab: int = setting(30000, low=1, aliases=("vocab_size", "max_size"))
    min_count: int = setting(2, low=1, aliases=("min_freq",))
    oov_buckets: int = setting(0, low=0)
    # Long enough to keep most movie reviews whole; short texts never reach it.
    max_len: int = setting(500, low=1, aliases=("max_length", "maxlen", "seq_len"))
    truncate: str = setting("head", choices=("head", "tail"))


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
