"""Classification runs end to end: data → training → evaluation → the run directory.

    runs/NAME/
      config.toml        resolved configuration (written first; a resumed run must match it)
      vocab.json         tokenizer settings, vocabulary and labels, for people and other tools
      model.safetensors  the one-file model (see rnnlab.runs)
      metrics.json       test metrics, flat keys (accuracy, macro_f1, per class, confusion matrix)
      history.jsonl      one line per epoch
      report.html        the run on one page; analysis/*.csv the error tables (rnnlab.analysis)
      checkpoints/       last.pt and best.pt, for --resume

The CLI is a thin layer over these functions; Python users can call them directly.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab import datasets
from rnnlab.analysis import finish_run, refresh_run
from rnnlab.config import DataConfig, RunConfig
from rnnlab.data.labels import check_classes, check_known_labels
from rnnlab.data.splits import stratified_split
from rnnlab.data.tables import LabeledTexts, read_table
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.evaluate.metrics import classification_metrics
from rnnlab.fileio import atomic_write_json, atomic_write_text
from rnnlab.predictor import Predictor
from rnnlab.runs import MODEL_FILE
from rnnlab.tasks.text_classifier import TextClassifier, resolve_tokenizer
from rnnlab.text.batching import padding_fraction

__all__ = ["Splits", "TrainSummary", "evaluate_run", "load_splits", "train_classifier"]


@dataclass
class Splits:
    """Train, validation and (optional) test tables, and where each came from."""

    train: LabeledTexts
    valid: LabeledTexts
    test: LabeledTexts | None
    origin: str


@dataclass
class TrainSummary:
    run_dir: Path
    metrics: dict[str, Any]
    evaluated_on: str
    seconds: float
    best_epoch: int
    padding: dict[str, float] = field(default_factory=dict)
    report: Path | None = None  # report.html (None when matplotlib is not installed)


def _subset(table: LabeledTexts, positions: list[int], what: str) -> LabeledTexts:
    return LabeledTexts(
        texts=[table.texts[i] for i in positions],
        labels=None if table.labels is None else [table.labels[i] for i in positions],
        source=f"{table.source} ({what})",
        row_numbers=[table.row_numbers[i] for i in positions],
    )


def _holdout(table: LabeledTexts, fraction: float, seed: int) -> tuple[LabeledTexts, LabeledTexts]:
    """Stratified split of a table into (rest, held-out fraction) for validation."""
    n_valid = max(1, round(fraction * len(table.texts)))
    train_idx, valid_idx, _ = stratified_split(table.labels, n_valid, 0, seed=seed)
    return _subset(table, sorted(train_idx), "train part"), _subset(
        table, sorted(valid_idx), "held-out validation part"
    )


def load_splits(data: DataConfig, seed: int) -> Splits:
    """A dataset name (``imdb``) or files; without ``--valid`` 10 % of train is held out."""
    if datasets.is_dataset_name(data.data):
        _check_classification_dataset(data.data)
        loaded = datasets.load(data.data, seed=seed)
        return Splits(loaded.train, loaded.valid, loaded.test, f"dataset {data.data}")
    if not data.data:
        raise ConfigError(
            "No training data: pass --data FILE (CSV, TSV, JSONL or Parquet) or a dataset name "
            f"({', '.join(datasets.names('classify'))})."
        )

    def read(path: str) -> LabeledTexts:
        return read_table(
            path,
            text_col=data.text_col,
            label_col=data.label_col,
            format=data.format or None,
            skip_empty=data.skip_empty,
        )

    train = read(data.data)
    classes = check_classes(train.labels, train.source)
    if data.valid:
        valid = read(data.valid)
    else:
        train, valid = _holdout(train, 0.1, seed)
    test = read(data.test) if data.test else None
    for part in (valid, test):  # before training, not after it
        if part is not None:
            check_known_labels(part.labels, classes, part.source, part.row_numbers)
    return Splits(train, valid, test, data.data)


def _check_classification_dataset(name: str) -> None:
    if datasets.task_of(name) != "classify":
        raise ConfigError(
            f"{name!r} is a tagged dataset for sequence labelling, not a classification "
            f"table; use it with: rnnlab train tag --data {name}"
        )


def check_resume_config(run_dir: Path, config: Any, resume: bool) -> None:
    """With ``resume``, refuse a ``config`` that differs from the run's ``config.toml`` (read
    as the same config class: :class:`RunConfig`, :class:`TagRunConfig`, …)."""
    path = run_dir / "config.toml"
    if resume and path.exists():
        previous = type(config).from_toml(path)
        if previous.to_dict() != config.to_dict():
            raise ConfigError(
                f"--resume: the configuration differs from the one in {path}; resume with the "
                "same settings or train into a new --out directory."
            )


def train_classifier(
    config: RunConfig, run_dir: str | Path, *, resume: bool = False, callbacks: tuple = ()
) -> TrainSummary:
    """Train, evaluate on the test split (or validation when there is none), write the run."""
    run_dir = Path(run_dir)
    splits = load_splits(config.data, config.train.seed)
    config = resolve_tokenizer(config, splits.train.texts)
    check_resume_config(run_dir, config, resume)
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.toml", config.to_toml())
    start = time.perf_counter()
    try:
        clf = TextClassifier(config).fit(
            splits.train.texts,
            splits.train.labels,
            valid_texts=splits.valid.texts,
            valid_labels=splits.valid.labels,
            run_dir=run_dir,
            resume=resume,
            callbacks=callbacks,
        )
    except RnnlabError:
        # Bad input found while building the model (e.g. vectors of the wrong size): leave
        # no half-made run behind. Interruptions keep their checkpoints for --resume.
        if created:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    clf.save(run_dir / MODEL_FILE)
    atomic_write_json(
        run_dir / "vocab.json",
        {
            "tokenizer": clf.tokenizer_.to_dict(),
            "labels": list(clf.classes_),
            "vocab": clf.vocab_.to_dict(),
        },
    )
    evaluated = splits.test if splits.test is not None else splits.valid
    name = "test" if splits.test is not None else "valid"
    metrics, probs = _metrics(clf.predictor_, evaluated, name)
    metrics["train_seconds"] = round(seconds, 2)
    metrics["best_epoch"] = clf.fit_result_.best_epoch
    if clf.embedding_coverage_ is not None:
        metrics["embedding_coverage"] = round(clf.embedding_coverage_, 4)
    atomic_write_json(run_dir / "metrics.json", metrics)
    metrics, report = finish_run(
        run_dir, clf.predictor_, evaluated, train=splits.train, seed=config.train.seed, probs=probs
    )
    lengths = [len(s) for s in clf.predictor_.encode(splits.train.texts[:5000])]
    return TrainSummary(
        run_dir,
        metrics,
        name,
        seconds,
        clf.fit_result_.best_epoch,
        padding=_padding_report(lengths, config.train.batch_size, config.train.seed),
        report=report,
    )


def _padding_report(lengths: list[int], batch_size: int, seed: int) -> dict[str, float]:
    from rnnlab.text.batching import BucketBatchSampler

    bucketed = list(BucketBatchSampler(lengths, batch_size, shuffle=True, seed=seed))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths)).tolist()
    random_batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return {
        "bucketed": padding_fraction(lengths, bucketed),
        "random": padding_fraction(lengths, random_batches),
    }


def _metrics(
    predictor: Predictor, table: LabeledTexts, split: str
) -> tuple[dict[str, Any], np.ndarray]:
    """Flat metrics of ``table`` and the probabilities (N, K) they came from, which the
    analysis reuses rather than running the model again."""
    labels = predictor.labels
    check_known_labels(table.labels, labels, table.source, table.row_numbers)
    index = {label: k for k, label in enumerate(labels)}
    probs = predictor.predict_proba(table.texts)
    metrics: dict[str, Any] = {"split": split, "num_examples": len(table.texts)}
    metrics.update(
        classification_metrics(
            [index[label] for label in table.labels],
            probs.argmax(axis=1).tolist(),
            [str(label) for label in labels],
        )
    )
    metrics["labels"] = [str(label) for label in labels]
    return metrics, probs


def evaluate_run(
    run_dir: str | Path,
    data: str | None = None,
    *,
    text_col: str | None = None,
    label_col: str | None = None,
    skip_empty: bool = False,
    write: bool = True,
) -> dict[str, Any]:
    """Evaluate a trained run on a labelled table (or its dataset's test split); writes
    ``metrics.json`` when ``run_dir`` is a run directory."""
    run_dir = Path(run_dir)
    predictor = Predictor.from_file(run_dir)
    config = (
        RunConfig.from_toml(run_dir / "config.toml")
        if (run_dir / "config.toml").exists()
        else RunConfig()
    )
    source = evaluation_source(run_dir, config.data, data, "a labelled table")
    if datasets.is_dataset_name(source):
        _check_classification_dataset(source)
        table = datasets.load(source, seed=config.train.seed).test
    else:
        table = read_table(
            source,
            text_col=text_col or config.data.text_col,
            label_col=label_col or config.data.label_col,
            skip_empty=skip_empty,
        )
    metrics, probs = _metrics(predictor, table, "test")
    metrics["data"] = source
    if write and run_dir.is_dir():
        write_evaluation_metrics(run_dir, metrics)
    return refresh_run(
        run_dir,
        predictor,
        table,
        metrics,
        train=_training_split(config),
        seed=config.train.seed,
        write=write and run_dir.is_dir(),
        probs=probs,
    )


def evaluation_source(run_dir: Path, data_config: Any, data: str | None, kind: str) -> str:
    """What ``evaluate`` scores: ``data`` if given, else the run's test data, else the test
    part of the built-in dataset it was trained on — never its own training data, which
    would overstate its accuracy (refused, asking for ``--data`` with ``kind``)."""
    trained_on_dataset = datasets.is_dataset_name(data_config.data)
    source = data or data_config.test or (data_config.data if trained_on_dataset else "")
    if not source:
        raise ConfigError(
            f"{run_dir} was trained without --test data, and scoring its training data "
            f"would overstate its accuracy; pass --data with {kind}."
        )
    return source


def write_evaluation_metrics(run_dir: Path, metrics: dict[str, Any]) -> None:
    """Write ``metrics`` to ``run_dir/metrics.json``, keeping the training-time keys
    (``train_seconds``, ``best_epoch``) of the file it replaces; adds them to ``metrics``."""
    metrics_path = run_dir / "metrics.json"
    if metrics_path.exists():
        previous = json.loads(metrics_path.read_text(encoding="utf-8"))
        for key in ("train_seconds", "best_epoch"):
            if key in previous:
                metrics[key] = previous[key]
    atomic_write_json(metrics_path, metrics)


def _training_split(config: RunConfig) -> LabeledTexts | None:
    """The run's training split, to fit baselines on; None when its data is not at hand."""
    if not config.data.data:
        return None
    try:
        return load_splits(config.data, config.train.seed).train
    except (RnnlabError, OSError):
        return None
