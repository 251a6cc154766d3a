"""``TimeSeriesClassifier``: series classification in scikit-learn's shape (fit / predict /
score).

    >>> import numpy as np
    >>> import rnnlab
    >>> from rnnlab.tasks.classify_series.estimator import TimeSeriesClassifier
    >>> t = np.linspace(0, 1, 30)
    >>> noise = np.random.default_rng(0).normal(0, 0.1, (20, 30))
    >>> X = np.stack([np.sin(2 * np.pi * f * t) for f in [1, 3] * 10]) + noise  # (N, T)
    >>> y = ["slow", "fast"] * 10
    >>> clf = TimeSeriesClassifier(hidden_size=8, epochs=10).fit(X, y)
    >>> clf.predict(X[:4]), clf.predict_proba(X[:4]).shape
    (['slow', 'fast', 'slow', 'fast'], (4, 2))
    >>> clf.save("waves.safetensors")
    PosixPath('waves.safetensors')
    >>> rnnlab.load("waves.safetensors").predict(X[:4])
    ['slow', 'fast', 'slow', 'fast']

``X`` is an (N, T) array of series of one length (a list of equal-length rows works too),
``y`` their class labels (kept as text, as a .ts file holds them). ``fit`` learns
``classes_``, ``model_``, ``history_`` and ``predictor_`` (a
:class:`~rnnlab.tasks.classify_series.predictor.SeriesPredictor`) and returns ``self``.
Keyword parameters are the fields of
:class:`~rnnlab.tasks.classify_series.config.SeriesClassifyRunConfig`, bare when unambiguous
or dotted (:mod:`rnnlab.tasks.params`). There is no validation data: the best epoch is the
one of lowest training loss, as in ``rnnlab train classify-series``, whose training
(:func:`rnnlab.tasks.classify_series.workflow.fit_series`) this is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.errors import DataError
from rnnlab.tasks.classify_series.config import SeriesClassifyRunConfig
from rnnlab.tasks.classify_series.workflow import SeriesFit, fit_series, save_series
from rnnlab.tasks.params import ConfigEstimator
from rnnlab.train.trainer import resolve_monitor

try:  # scikit-learn is optional; with it the estimator is a classifier to its model selection
    from sklearn.base import ClassifierMixin

    _BASES: tuple[type, ...] = (ClassifierMixin, ConfigEstimator)
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    _BASES = (ConfigEstimator,)

__all__ = ["TimeSeriesClassifier"]


def _series(values: Any, labels: Any) -> tuple[np.ndarray, list[str]]:
    """``values`` as a finite (N, T) float array and ``labels`` as N strings; one sentence
    for anything else."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(
            "X: expected series of one length as an (N, T) array or equal-length rows of "
            "numbers; give every series the same number of values."
        ) from None
    if array.ndim != 2 or not array.size:
        raise DataError(f"X: expected an (N, T) array of series, got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise DataError("X: the series hold missing or infinite values; fill them first.")
    found = [str(label) for label in labels]
    if len(found) != len(array):
        raise DataError(f"X holds {len(array)} series but y {len(found)} labels; give one "
                        "label per series.")  # fmt: skip
    return array, found


class TimeSeriesClassifier(*_BASES):  # type: ignore[misc]
    """Series of numbers → recurrent encoder → a class, trained with the training loss
    followed (no validation data).

    A scikit-learn estimator (see :mod:`rnnlab.tasks.params`): :meth:`score` is accuracy,
    as for every scikit-learn classifier.
    """

    fit_arguments = "X, y"
    config_type = SeriesClassifyRunConfig

    def fit(
        self,
        X: Any,
        y: Sequence[Any],
        *,
        run_dir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] = (),
    ) -> TimeSeriesClassifier:
        """Learn the classes of ``y`` and train on the series ``X``; returns ``self``."""
        config = self.resolved_config()
        config = replace(config, train=resolve_monitor(config.train, has_validation=False))
        values, labels = _series(X, y)
        if len(set(labels)) < 2:
            raise DataError("y: a classifier needs at least two classes; got "
                            f"{sorted(set(labels))}.")  # fmt: skip
        fitted = fit_series(
            config, values, labels, resume=resume, callbacks=callbacks,
            run_dir=None if run_dir is None else Path(run_dir),
        )  # fmt: skip
        self._fitted: SeriesFit = fitted
        self.config_ = config
        self.classes_ = list(fitted.labels)
        self.model_ = fitted.model
        self.fit_result_ = fitted.result
        self.history_ = fitted.result.history
        self.predictor_ = fitted.predictor
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """(N, C) class probabilities; column k belongs to ``classes_[k]``."""
        self._check_fitted()
        return self.predictor_.predict_proba(X)

    def predict(self, X: Any) -> list[str]:
        """The most probable class of each series."""
        self._check_fitted()
        return self.predictor_.predict(X)

    def score(self, X: Any, y: Sequence[Any]) -> float:
        """Accuracy of :meth:`predict` against ``y``."""
        values, labels = _series(X, y)
        predicted = self.predict(values)
        return float(np.mean([p == t for p, t in zip(predicted, labels, strict=True)]))

    def save(self, path: str | Path) -> Path:
        """Write the one-file model (weights, config, classes, length, training counts)."""
        self._check_fitted()
        return save_series(path, self._fitted, self.config_)
