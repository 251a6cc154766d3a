"""The scikit-learn estimator protocol over a run config, shared by every task's estimator.

An estimator's parameters are its run config's keys: ``TextClassifier(hidden_size=64,
lr=3e-3)`` — bare when one section owns the name, dotted (``"train.lr"``) otherwise — plus
``config``, a whole run config to start from. ``__init__`` only stores them;
:meth:`get_params` returns exactly what was given and :meth:`set_params` adds to it, so
``sklearn.base.clone``, ``Pipeline``, ``GridSearchCV`` (``param_grid={"hidden_size": [64,
128]}``) and ``cross_val_score`` work as with any scikit-learn estimator. As scikit-learn
asks, nothing is checked before ``fit``; there a misspelt name is a
:class:`~rnnlab.errors.ConfigError` with a suggestion, and the config sections check every
value.

With scikit-learn installed the estimators derive from its ``BaseEstimator`` (repr, tags,
HTML display); without it they work the same, minus those.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from torch import nn

from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError
from rnnlab.fileio import atomic_write_json, make_dir
from rnnlab.tasks.pretrained import init_embeddings, vectors_source
from rnnlab.text.vocab import Vocab
from rnnlab.train import Trainer
from rnnlab.train.checkpoint import checkpoint_path

# Beside the checkpoints: what the embedding started from and the share of the vocabulary
# found, so that a resumed run (whose last.pt holds the embedding) need not train or read
# the vectors again.
VECTORS_RECORD = "checkpoints/vectors.json"


def _vectors_record(run_dir: str | Path | None) -> dict[str, Any] | None:
    """The vectors record of a run that has a ``last.pt`` to resume from, else None."""
    if run_dir is None or not checkpoint_path(run_dir, "last").is_file():
        return None
    try:
        record = json.loads((Path(run_dir) / VECTORS_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("coverage"), (int, float)):
        return None
    return record


try:  # scikit-learn is optional: the estimators do not need it to train or predict
    from sklearn.base import BaseEstimator as _SklearnBase
    from sklearn.exceptions import NotFittedError as _SklearnNotFitted
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    _SklearnBase = object  # type: ignore[assignment,misc]
    _SklearnNotFitted = AttributeError  # type: ignore[assignment,misc]

__all__ = ["ConfigEstimator", "NotFittedError"]


class NotFittedError(ConfigError, _SklearnNotFitted):  # type: ignore[misc,valid-type]
    """Predicting before ``fit``: a :class:`~rnnlab.errors.ConfigError`, and scikit-learn's
    ``NotFittedError`` where scikit-learn is installed, so its tools recognise it."""


class ConfigEstimator(_SklearnBase):  # type: ignore[misc,valid-type]
    """Parameters = ``config`` + run-config keys; subclasses set :attr:`config_type`."""

    config_type: ClassVar[type[RunConfig]] = RunConfig

    # How the fit call reads, for the "not fitted yet" message.
    fit_arguments: ClassVar[str] = "X, y"

    def __init__(self, config: RunConfig | None = None, **params: Any) -> None:
        self.config = config
        self._params: dict[str, Any] = dict(params)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """``config`` and every key given to ``__init__`` or :meth:`set_params`."""
        return {"config": self.config, **self._params}

    def set_params(self, **params: Any) -> ConfigEstimator:
        """Set ``config`` and/or run-config keys (bare or dotted); returns ``self``."""
        if "config" in params:
            self.config = params.pop("config")
        self._params.update(params)
        return self

    def resolved_config(self) -> Any:
        """The run config to fit with: ``config`` (or the defaults) with the keys applied."""
        base = self.config if self.config is not None else self.config_type()
        if not isinstance(base, self.config_type):
            raise ConfigError(
                f"{type(self).__name__}: config must be a {self.config_type.__name__}, got "
                f"{type(base).__name__}."
            )
        if not self._params:
            return base
        return base.merge(type(base).dotted_keys(self._params, type(self).__name__))

    def _check_fitted(self) -> None:
        if not hasattr(self, "predictor_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet; call fit({self.fit_arguments}) first."
            )

    def _train_model(
        self,
        model: nn.Module,
        embedding: nn.Embedding,
        vocab: Vocab,
        config: Any,
        train: Any,
        valid: Any,
        *,
        run_dir: str | Path | None,
        resume: bool,
        callbacks: Sequence[Any],
        corpus: Sequence[Sequence[str]] | None = None,
    ) -> None:
        """Pretrained vectors into ``embedding`` when ``model.embeddings`` names some (or
        ``skipgram``/``auto``: trained on ``corpus``, the tokenised training texts), then
        the one Trainer; sets ``model_``, ``embedding_source_`` (what the embedding started
        from: a path, a packaged name, ``skipgram``, or None), ``embedding_coverage_``,
        ``fit_result_``,
        ``history_`` and ``config_``, and leaves the model on the CPU in eval mode."""
        self.model_ = model
        self.embedding_coverage_ = None
        self.embedding_source_ = vectors_source(config.model.embeddings) or None
        if source := self.embedding_source_:
            record = _vectors_record(run_dir) if resume else None
            if record is not None and record.get("source") == source:
                # last.pt holds the embedding; only the freezing and the coverage are needed
                # (skip-gram vectors of IMDB take minutes to train again).
                embedding.weight.requires_grad_(not config.model.freeze_embeddings)
                self.embedding_coverage_ = float(record["coverage"])
            else:
                self.embedding_coverage_ = init_embeddings(
                    embedding,
                    source,
                    vocab,
                    freeze=config.model.freeze_embeddings,
                    seed=config.train.seed,
                    corpus=corpus,
                )
                if run_dir is not None:
                    path = Path(run_dir) / VECTORS_RECORD
                    make_dir(path.parent)
                    atomic_write_json(path, {"source": source,
                                             "coverage": self.embedding_coverage_})  # fmt: skip
        trainer = Trainer(
            config.train, run_dir=None if run_dir is None else Path(run_dir), callbacks=callbacks
        )
        self.fit_result_ = trainer.fit(model, train, valid, resume=resume)
        self.history_ = self.fit_result_.history
        self.config_ = config
        model.cpu().eval()
