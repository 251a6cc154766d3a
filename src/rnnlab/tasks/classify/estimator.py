"""``TextClassifier``: the scikit-learn-shaped way to train a recurrent text classifier.

    >>> from rnnlab.tasks.classify.estimator import TextClassifier
    >>> texts = ["a fine, moving film", "dull and far too long", "lovely acting", "a boring plot"]
    >>> labels = ["pos", "neg", "pos", "neg"]
    >>> clf = TextClassifier(cell="gru", hidden_size=8, epochs=2)
    >>> clf.fit(texts * 5, labels * 5, valid_texts=texts, valid_labels=labels)
    TextClassifier(cell='gru', epochs=2, hidden_size=8)
    >>> clf.predict(["a gripping, beautiful film"]), clf.classes_
    (['pos'], ['neg', 'pos'])

``__init__`` only stores; ``fit`` learns ``tokenizer_``, ``vocab_``, ``classes_``, ``model_``
and ``history_`` and returns ``self``. Keyword parameters are the fields of
:class:`~rnnlab.tasks.classify.config.ClassifyRunConfig` — bare (``lr=3e-3``) when the name
is unambiguous, dotted (``"train.lr"``) otherwise — and the estimator works with scikit-learn's
``clone``, ``Pipeline``, ``GridSearchCV`` and ``cross_val_score`` (:mod:`rnnlab.tasks.params`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.labels import sorted_labels
from rnnlab.errors import DataError
from rnnlab.runs import save_model_file
from rnnlab.tasks.classify.config import ClassifyRunConfig
from rnnlab.tasks.classify.data import ClassificationBatches
from rnnlab.tasks.classify.finetune import (
    adopt_language_model,
    load_language_model_weights,
    read_language_model,
)
from rnnlab.tasks.classify.model import RecurrentClassifier
from rnnlab.tasks.classify.predictor import TextPredictor
from rnnlab.tasks.params import ConfigEstimator
from rnnlab.text.batching import encode_texts
from rnnlab.text.tokenize import Tokenizer, get_tokenizer, guess_tokenizer
from rnnlab.text.vocab import Vocab
from rnnlab.train import seed_everything

try:  # scikit-learn is optional; with it the estimator is a classifier to its model selection
    from sklearn.base import ClassifierMixin

    _BASES: tuple[type, ...] = (ClassifierMixin, ConfigEstimator)
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    _BASES = (ConfigEstimator,)

__all__ = ["TextClassifier", "resolve_tokenizer"]


def _plain(label: Any) -> Any:
    """NumPy scalars (from an array of labels) as Python values, so they save as JSON."""
    return label.item() if isinstance(label, np.generic) else label


# What ``data.tokenizer = "auto"`` means for text that is not Chinese: the English tokenizer
# with digits and punctuation kept as tokens, so that "7/10", "!" and ":)" reach the model
# (the README's "Why digits and punctuation are kept" has the comparison); jieba already keeps
# both for Chinese. An explicit `tokenizer = "english"` stays the classic letters-only
# preprocessing.
AUTO_ENGLISH_OPTIONS: dict[str, bool] = {"keep_digits": True, "keep_punctuation": True}


def resolve_tokenizer(config: ClassifyRunConfig, texts: Sequence[str]) -> ClassifyRunConfig:
    """``data.tokenizer = "auto"`` replaced by the tokenizer the texts call for, with the
    options it means (:data:`AUTO_ENGLISH_OPTIONS` for English; ``data.tokenizer_options``
    given by the user win), so the run's ``config.toml`` shows what really tokenised."""
    if config.data.tokenizer != "auto":
        return config
    name = guess_tokenizer(texts)
    changes: dict[str, Any] = {"data.tokenizer": name}
    if name == "english":
        changes["data.tokenizer_options"] = {
            **AUTO_ENGLISH_OPTIONS,
            **config.data.tokenizer_options,
        }
    return config.merge(changes)


class TextClassifier(*_BASES):  # type: ignore[misc]
    """Tokenise → vocabulary → embedding → RNN/LSTM/GRU → pooling → softmax, trained with Adam.

    A scikit-learn classifier (see :mod:`rnnlab.tasks.params`): ``X`` is a sequence of
    texts, ``y`` their labels; :meth:`score` is accuracy.
    """

    fit_arguments = "texts, labels"
    config_type = ClassifyRunConfig

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
        """Learn the vocabulary and labels from ``texts``/``labels`` and train; returns
        ``self``. ``valid_texts`` with ``valid_labels`` are scored after every epoch (for
        early stopping and the best checkpoint)."""
        if (valid_texts is None) != (valid_labels is None):
            raise DataError(
                "TextClassifier.fit: valid_texts and valid_labels go together; pass both to "
                "validate after every epoch, or neither."
            )
        config = resolve_tokenizer(self.resolved_config(), texts)
        lm = None
        if config.model.init_from:
            lm = read_language_model(config.model.init_from)
            config = adopt_language_model(config, lm)
        texts = list(texts)
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
        seed_everything(config.train.seed)
        data = config.data
        if lm is not None:  # the LM's own tokenizer, options (a user dictionary) included
            self.tokenizer_ = Tokenizer.from_dict(lm.tokenizer)
        else:
            self.tokenizer_ = get_tokenizer(data.tokenizer, **data.tokenizer_options)
        tokens = self.tokenizer_.tokenize_many(texts)
        if lm is not None:
            self.vocab_ = lm.vocab
        else:
            self.vocab_ = Vocab.build(
                tokens,
                max_size=data.max_vocab,
                min_count=data.min_count,
                oov_buckets=data.oov_buckets,
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
        self.combination_ = None
        model = RecurrentClassifier(len(self.vocab_), classes, config.model, self.vocab_.pad_id)
        if lm is not None:
            load_language_model_weights(model.encoder, lm)
        self._train_model(
            model,
            model.encoder.embedding,
            self.vocab_,
            config,
            train,
            valid,
            run_dir=run_dir,
            resume=resume,
            callbacks=callbacks,
            corpus=tokens,
        )
        if config.model.combine == "tfidf":
            train_ids = [list(seq) for seq in train.sequences]
            self._combine(train_ids, [index[label] for label in labels], valid, config)
        self.predictor_ = TextPredictor(
            self.model_,
            self.tokenizer_,
            self.vocab_,
            max_len=data.max_len,
            truncate=data.truncate,
        )
        return self

    def _combine(
        self,
        train_ids: list[list[int]],
        train_labels: list[int],
        valid: ClassificationBatches | None,
        config: ClassifyRunConfig,
    ) -> None:
        """Fit the lexical model on the training ids and attach it to the trained network
        with the weight the validation split chooses (:mod:`rnnlab.tasks.classify.combine`)."""
        from rnnlab.tasks.classify.combine import combine_trained

        valid_ids = valid_labels = probs = None
        if valid is not None:
            probs, order = self.model_.predict_batches(valid.batches())
            valid_ids = [valid.sequences[i] for i in order]
            valid_labels = [int(valid.labels[i]) for i in order]
        self.combination_ = combine_trained(
            self.model_,
            train_ids,
            train_labels,
            vocab_size=len(self.vocab_),
            pad_id=self.vocab_.pad_id,
            buckets=config.model.lexical_buckets,
            valid_sequences=valid_ids,
            valid_labels=valid_labels,
            recurrent_valid_probs=probs,
        )

    def _batches(
        self, texts: Sequence[str], labels: Sequence[Any], config: ClassifyRunConfig
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
            tokenizer=self.tokenizer_.to_dict(),
            vocab=self.vocab_.to_dict(),
            labels=list(self.classes_),
            preprocessing={"max_len": data.max_len, "truncate": data.truncate},
        )
