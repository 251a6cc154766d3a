"""``TextClassifier``: the scikit-learn-shaped way to train a recurrent text classifier.

    >>> from rnnlab.tasks.text_classifier import TextClassifier
    >>> clf = TextClassifier(cell="gru", hidden_size=128, epochs=3)
    >>> clf.fit(train_texts, train_labels, valid_texts=v_texts, valid_labels=v_labels)
    >>> clf.predict(["a gripping, beautiful film"]), clf.score(test_texts, test_labels)

``__init__`` only stores; ``fit`` learns ``tokenizer_``, ``vocab_``, ``classes_``, ``model_``
and ``history_`` and returns ``self``. Keyword parameters are the fields of
:class:`rnnlab.config.RunConfig` — bare (``lr=3e-3``) when the name is unambiguous, dotted
(``"train.lr"``) otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.config import RunConfig
from rnnlab.data.labels import sorted_labels
from rnnlab.errors import ConfigError, DataError
from rnnlab.predictor import Predictor
from rnnlab.runs import save_model_file
from rnnlab.tasks.classify import ClassificationBatches, RecurrentClassifier
from rnnlab.tasks.pretrained import init_embeddings
from rnnlab.text.batching import encode_texts
from rnnlab.text.tokenize import get_tokenizer, guess_tokenizer
from rnnlab.text.vocab import Vocab
from rnnlab.train import Trainer

__all__ = ["TextClassifier", "resolve_tokenizer"]

_SECTIONS = ("model", "data", "train")


def dotted_params(params: dict[str, Any], config: Any, owner: str) -> dict[str, Any]:
    """Map bare parameter names to their dotted config key (``lr`` → ``train.lr``) in a run
    config with ``model``, ``data`` and ``train`` sections; ``owner`` names the estimator in
    errors."""
    owners: dict[str, list[str]] = {}
    for section in _SECTIONS:
        for f in fields(getattr(config, section)):
            owners.setdefault(f.name, []).append(section)
    dotted = {}
    for key, value in params.items():
        if "." in key:
            dotted[key] = value
            continue
        sections = owners.get(key)
        if not sections:
            raise ConfigError(f"{owner}: unknown parameter {key!r}; see rnnlab.config.")
        if len(sections) > 1:
            raise ConfigError(
                f"{owner}: {key!r} is ambiguous; write one of "
                + ", ".join(f"'{s}.{key}'" for s in sections)
                + "."
            )
        dotted[f"{sections[0]}.{key}"] = value
    return dotted


def _plain(label: Any) -> Any:
    """NumPy scalars (from an array of labels) as Python values, so they save as JSON."""
    return label.item() if isinstance(label, np.generic) else label


def resolve_tokenizer(config: RunConfig, texts: Sequence[str]) -> RunConfig:
    """``data.tokenizer = "auto"`` replaced by the tokenizer the texts call for."""
    if config.data.tokenizer != "auto":
        return config
    return config.merge({"data.tokenizer": guess_tokenizer(texts)})


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class TextClassifier:
    """Tokenise → vocabulary → embedding → RNN/LSTM/GRU → pooling → softmax, trained with Adam."""

    def __init__(self, config: RunConfig | None = None, **params: Any) -> None:
        self.config = config
        self.params = params

    def resolved_config(self) -> RunConfig:
        base = self.config or RunConfig()
        if not self.params:
            return base
        return base.merge(dotted_params(self.params, base, "TextClassifier"))

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[Any],
        *,
        valid_texts: Sequence[str] | None = None,
        valid_labels: Sequence[Any] | None = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] = (),
    ) -> TextClassifier:
        config = resolve_tokenizer(self.resolved_config(), texts)
        if config.model.freeze_embeddings and not config.model.embeddings:
            raise ConfigError(
                "model.freeze_embeddings (--freeze) needs pretrained vectors to keep fixed; "
                "add model.embeddings (--embeddings PATH or a packaged name such as "
                "glove-6b-50d)."
            )
        labels = [_plain(label) for label in labels]
        if len(texts) != len(labels):
            raise DataError(
                f"TextClassifier.fit: texts and labels must have the same length, "
                f"got {len(texts)} texts and {len(labels)} labels."
            )
        classes = sorted_labels(labels)
        if len(classes) < 2:
            raise DataError(
                f"TextClassifier.fit: training needs at least 2 classes, got only {classes!r}."
            )
        _seed_everything(config.train.seed)
        data = config.data
        self.tokenizer_ = get_tokenizer(data.tokenizer, **data.tokenizer_options)
        tokens = self.tokenizer_.tokenize_many(texts)
        self.vocab_ = Vocab.build(
            tokens, max_size=data.max_vocab, min_count=data.min_count, oov_buckets=data.oov_buckets
        )
        self.classes_ = classes
        index = {label: k for k, label in enumerate(classes)}
        train = ClassificationBatches(
            encode_texts(tokens, self.vocab_, data.max_len, data.truncate),
            [index[label] for label in labels],
            config.train.batch_size,
            shuffle=True,
            bucketing=config.train.bucketing,
            seed=config.train.seed,
            pad_id=self.vocab_.pad_id,
        )
        valid = None
        if valid_texts is not None and valid_labels is not None:
            valid = self._batches(valid_texts, valid_labels, config)
        self.model_ = RecurrentClassifier(
            len(self.vocab_), classes, config.model, pad_id=self.vocab_.pad_id
        )
        self.embedding_coverage_ = None
        if config.model.embeddings:
            self.embedding_coverage_ = init_embeddings(
                self.model_.encoder.embedding,
                config.model.embeddings,
                self.vocab_,
                freeze=config.model.freeze_embeddings,
                seed=config.train.seed,
            )
        trainer = Trainer(
            config.train, run_dir=None if run_dir is None else Path(run_dir), callbacks=callbacks
        )
        self.fit_result_ = trainer.fit(self.model_, train, valid, resume=resume)
        self.history_ = self.fit_result_.history
        self.config_ = config
        self.model_.cpu().eval()
        self.predictor_ = Predictor(
            self.model_,
            self.tokenizer_,
            self.vocab_,
            max_len=data.max_len,
            truncate=data.truncate,
        )
        return self

    def _batches(
        self, texts: Sequence[str], labels: Sequence[Any], config: RunConfig
    ) -> ClassificationBatches:
        index = {label: k for k, label in enumerate(self.classes_)}
        unknown = [label for label in labels if label not in index]
        if unknown:
            raise DataError(
                f"Label {unknown[0]!r} was not seen in training; known labels: {self.classes_!r}."
            )
        tokens = self.tokenizer_.tokenize_many(texts)
        sequences = encode_texts(tokens, self.vocab_, config.data.max_len, config.data.truncate)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        return ClassificationBatches(
            [sequences[i] for i in order],
            [index[labels[i]] for i in order],
            config.train.batch_size,
            pad_id=self.vocab_.pad_id,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "predictor_"):
            raise ConfigError("TextClassifier is not fitted yet; call fit(texts, labels) first.")

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        return self.predictor_.predict_proba(texts)

    def predict(self, texts: Sequence[str]) -> list:
        self._check_fitted()
        return self.predictor_.predict(texts)

    def evaluate(self, texts: Sequence[str], labels: Sequence[Any]) -> dict[str, float]:
        """Loss, accuracy, macro-F1 and per-class scores on labelled texts."""
        self._check_fitted()
        return self.model_.evaluate(self._batches(texts, labels, self.config_).batches())

    def score(self, texts: Sequence[str], labels: Sequence[Any]) -> float:
        """Accuracy, as scikit-learn's ``ClassifierMixin.score``."""
        predicted = self.predict(texts)
        return float(np.mean([p == y for p, y in zip(predicted, labels, strict=True)]))

    def save(self, path: str | Path) -> Path:
        """Write the one-file model (weights + config + tokenizer + vocabulary + labels)."""
        self._check_fitted()
        data = self.config_.data
        return save_model_file(
            path,
            self.model_.state_dict(),
            task="classify",
            model_config=self.config_.model,
            tokenizer=self.tokenizer_,
            vocab=self.vocab_,
            labels=list(self.classes_),
            preprocessing={"max_len": data.max_len, "truncate": data.truncate},
        )
