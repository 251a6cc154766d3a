"""Series classification runs end to end: train on the training series, evaluate on the test
ones beside the majority class and 1-nearest-neighbour baselines — Euclidean, and dynamic time
warping (full window, dtaidistance's C implementation) when dtaidistance is installed.

There is no validation data: the run follows the training loss (``train.monitor =
"train_loss"`` in its ``config.toml``, whatever was asked), and the model file records the
training class counts, so that a later evaluation can score the majority baseline too.

    runs/NAME/  config.toml, model.safetensors (task "classify_series"), metrics.json
                (accuracy, macro_f1 with 95 % bootstrap intervals, baseline_majority_accuracy,
                baseline_1nn_accuracy, baseline_1nn_dtw_accuracy, McNemar against 1-NN),
                history.jsonl, analysis/predictions.csv, report.html; every later
                ``rnnlab evaluate RUN --data X``: evaluations/NAME/ (metrics.json,
                analysis/predictions.csv)

The files are written by the one run writer (:mod:`rnnlab.tasks.run_writer`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.ucr import is_ucr_name
from rnnlab.errors import ConfigError, DataError
from rnnlab.evaluate.bootstrap import classification_cis
from rnnlab.evaluate.metrics import classification_metrics
from rnnlab.evaluate.significance import mcnemar
from rnnlab.explain.series_report import PREDICTIONS_FILE, write_series_report
from rnnlab.fileio import atomic_write_text, csv_text
from rnnlab.runs import load_model_file, save_model_file, training_run
from rnnlab.tasks.base import Evaluation, TrainSummary, plan_evaluation
from rnnlab.tasks.classify_series.config import SeriesClassifyRunConfig
from rnnlab.tasks.classify_series.data import SeriesBatches, load_split, znorm
from rnnlab.tasks.classify_series.model import SeriesClassifier
from rnnlab.tasks.classify_series.predictor import SeriesPredictor
from rnnlab.tasks.run_writer import RunRecord, write_evaluation, write_run
from rnnlab.train import Trainer, seed_everything
from rnnlab.train.trainer import FitResult, resolve_monitor

__all__ = [
    "SeriesFit",
    "evaluate_series_run",
    "fit_series",
    "majority_class",
    "nearest_neighbour",
    "nearest_neighbour_dtw",
    "predictions_writer",
    "save_series",
    "score",
    "train_series_classifier",
]


def nearest_neighbour(train: np.ndarray, train_labels: list[str], test: np.ndarray) -> list[str]:
    """1-NN with Euclidean distance, ties to the first training series (the UCR baseline)."""
    distances = ((test[:, None, :] - train[None, :, :]) ** 2).sum(-1)
    return [train_labels[i] for i in distances.argmin(1)]


def nearest_neighbour_dtw(
    train: np.ndarray, train_labels: list[str], test: np.ndarray
) -> list[str] | None:
    """1-NN with the dynamic-time-warping distance, no warping window (the UCR archive's
    "DTW (full window)" baseline), ties to the first training series; ``None`` without
    dtaidistance, whose C loops make the (test × train) distance table take a second.

    DTW(a, b) = sqrt(D[n, m]), D[i, j] = (a_i − b_j)² + min(D[i−1, j], D[i, j−1], D[i−1, j−1]).
    """
    try:
        from dtaidistance import dtw
    except ImportError:
        return None
    stacked = np.ascontiguousarray(np.concatenate([train, test]), dtype=np.double)
    n = len(train)
    table = dtw.distance_matrix_fast(
        stacked, block=((0, n), (n, len(stacked))), compact=False, parallel=False
    )
    distances = np.asarray(table)[:n, n:].T  # (test, train)
    return [train_labels[i] for i in distances.argmin(1)]


def majority_class(labels: list[str], counts: dict[str, int]) -> str:
    """The most frequent training class, ties to the first in ``labels`` (the sorted classes)."""
    return max(labels, key=lambda label: (counts.get(label, 0), -labels.index(label)))


def score(truth: list[str], predicted: list[str], baselines: dict[str, list[str]],
          labels: list[str]) -> dict[str, Any]:  # fmt: skip
    """Accuracy and macro-F1 with intervals, the baselines' accuracy, McNemar against 1-NN."""
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted({t for t in truth if t not in index})
    if unknown:
        raise DataError(f"test labels {unknown} never occur in the training series.")
    y_true = [index[t] for t in truth]
    y_pred = [index[p] for p in predicted]
    found = classification_metrics(y_true, y_pred, labels)
    metrics: dict[str, Any] = {k: v for k, v in found.items() if k in ("accuracy", "macro_f1")}
    metrics.update(classification_cis(y_true, y_pred, len(labels)))
    right = np.array(truth) == np.array(predicted)
    for name, guesses in baselines.items():
        agree = np.array(guesses) == np.array(truth)
        metrics[f"baseline_{name}_accuracy"] = float(np.mean(agree))
    if "1nn" in baselines:
        test = mcnemar(right, np.array(baselines["1nn"]) == np.array(truth))
        metrics["mcnemar_1nn_p_value"] = test.p_value
        metrics["mcnemar_1nn_model_only"] = test.model_only
        metrics["mcnemar_1nn_baseline_only"] = test.baseline_only
    metrics["test_size"] = len(truth)
    return metrics


def train_series_classifier(
    config: SeriesClassifyRunConfig, run_dir: str | Path, *, resume: bool = False,
    callbacks: tuple = (),
) -> TrainSummary:  # fmt: skip
    """Train on ``data.data``'s training series, evaluate on its test series (a built-in
    set's TEST split, or ``data.test``); the best epoch is the one of lowest training loss,
    as the run's ``config.toml`` records (:func:`~rnnlab.train.trainer.resolve_monitor`)."""
    source = config.data.data
    if not source:
        raise ConfigError("No series given; pass --data with a .ts file, gunpoint or "
                          "italy_power_demand.")  # fmt: skip
    train = load_split(source, "TRAIN")
    if not config.data.test and not is_ucr_name(source):
        raise ConfigError(f"{source}: pass the test series with --test (a .ts file).")
    test = load_split(config.data.test or source, "TEST")
    if test.values.shape[1] != train.values.shape[1]:
        raise DataError(
            f"{test.source}: series of {test.values.shape[1]} values, the training ones have "
            f"{train.values.shape[1]}; give series of equal length."
        )
    config = replace(config, train=resolve_monitor(config.train, has_validation=False))
    with training_run(run_dir, config, resume=resume) as run_dir:
        fitted = fit_series(
            config, train.values, train.labels, run_dir=run_dir, resume=resume,
            callbacks=callbacks,
        )  # fmt: skip
        labels, counts = fitted.labels, fitted.counts
        probabilities = fitted.predictor.predict_proba(test.values)
        predicted = [labels[i] for i in probabilities.argmax(1)]
        norm = znorm if config.data.znorm else (lambda v: v)
        x_train, x_test = norm(train.values), norm(test.values)
        baselines = {
            "majority": [majority_class(labels, counts)] * len(test.labels),
            "1nn": nearest_neighbour(x_train, train.labels, x_test),
        }
        dtw = nearest_neighbour_dtw(x_train, train.labels, x_test)
        if dtw is not None:
            baselines["1nn_dtw"] = dtw
        metrics = {"data": test.source, **score(test.labels, predicted, baselines, labels)}
        return write_run(
            run_dir,
            RunRecord(
                metrics,
                "test",
                fitted.seconds,
                fitted.result.best_epoch,
                save_model=lambda path: save_series(path, fitted, config),
                analysis=predictions_writer(
                    test.values, test.labels, predicted, probabilities.max(1)
                ),
                report=write_series_report,
            ),
        )


@dataclass
class SeriesFit:
    """A series classifier trained on labelled series, and what it was trained with.

    Attributes:
        model: the trained model, on the CPU in eval mode (the best epoch's weights).
        labels: the classes, sorted; ``counts``: training series per class.
        length: the series length it reads; ``znorm``: whether each series is z-normalised.
        result: the Trainer's record (history, best epoch); ``seconds``: time spent training.
    """

    model: SeriesClassifier
    labels: list[str]
    counts: dict[str, int]
    length: int
    znorm: bool
    result: FitResult
    seconds: float

    @property
    def predictor(self) -> SeriesPredictor:
        """The trained model ready to use."""
        return SeriesPredictor(self.model, self.labels, self.length, self.znorm)


def fit_series(
    config: SeriesClassifyRunConfig,
    values: np.ndarray,
    labels: Sequence[str],
    *,
    run_dir: Path | None = None,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
) -> SeriesFit:
    """Train a series classifier on ``values`` (N, T) and their ``labels``, following the
    training loss (``config.train`` must say so: :func:`resolve_monitor`); shared by
    :func:`train_series_classifier` and the estimator. ``run_dir`` takes checkpoints and
    ``history.jsonl``."""
    classes = sorted(set(labels))
    counts = {label: list(labels).count(label) for label in classes}
    x_train = znorm(values) if config.data.znorm else values
    targets = np.array([classes.index(label) for label in labels])
    seed_everything(config.train.seed)
    model = SeriesClassifier(len(classes), config.model)
    batches = SeriesBatches(x_train, targets, config.train.batch_size, config.train.seed)
    start = time.perf_counter()
    result = Trainer(config.train, run_dir=run_dir, callbacks=callbacks).fit(
        model, batches, resume=resume
    )
    seconds = time.perf_counter() - start
    model.cpu().eval()
    return SeriesFit(model, classes, counts, int(values.shape[1]), config.data.znorm, result,
                     seconds)  # fmt: skip


def save_series(path: str | Path, fitted: SeriesFit, config: SeriesClassifyRunConfig) -> Path:
    """Write a trained series classifier as one safetensors file (task
    ``"classify_series"``), with the training class counts for the majority baseline."""
    return save_model_file(
        path, fitted.model.state_dict(), task="classify_series",
        model_config=config.model, tokenizer={}, vocab={}, labels=fitted.labels,
        preprocessing={"length": fitted.length, "znorm": fitted.znorm,
                       "train_counts": fitted.counts},
    )  # fmt: skip


def predictions_writer(
    values: np.ndarray, truth: list[str], predicted: list[str], confidence: np.ndarray
) -> Callable[[Path], None]:
    """The run writer's analysis hook: ``predictions.csv`` in the ``analysis/`` folder it
    is given — each test series' index, true and predicted class, the predicted class's
    probability and the values (space-separated), for the report."""
    rows = [
        {"index": i, "truth": t, "predicted": p, "confidence": f"{float(c):.6f}",
         "values": " ".join(f"{v:.6g}" for v in row)}
        for i, (row, t, p, c) in enumerate(zip(values, truth, predicted, confidence, strict=True))
    ]  # fmt: skip

    def write(folder: Path) -> None:
        atomic_write_text(Path(folder) / PREDICTIONS_FILE, csv_text(rows))

    return write


def evaluate_series_run(
    run_dir: str | Path, data: str | None = None, *, name: str | None = None,
    options: dict[str, Any] | None = None, write: bool = True,
) -> Evaluation:  # fmt: skip
    """Accuracy of the run's model on a .ts file (or its own test series), with intervals
    and the majority baseline from the training class counts in the model file (files
    written before they were recorded give none; 1-NN needs the training series, which the
    run does not keep). ``analysis/predictions.csv`` goes beside the metrics; the run's own
    test series refresh its report as well."""
    run_dir = Path(run_dir)
    predictor = SeriesPredictor.from_file(run_dir)
    _, meta = load_model_file(run_dir, weights=False)
    counts = meta["preprocessing"].get("train_counts")
    _, source, target = plan_evaluation(
        run_dir, SeriesClassifyRunConfig, data, name=name, options=options, write=write,
        kind="a .ts file", builtin=lambda text: bool(text),
    )  # fmt: skip
    found = load_split(source, "TEST")
    probabilities = predictor.predict_proba(found.values)
    predicted = [predictor.labels[i] for i in probabilities.argmax(1)]
    baselines = {}
    if isinstance(counts, dict) and all(isinstance(n, int) for n in counts.values()):
        baselines["majority"] = [majority_class(predictor.labels, counts)] * len(found.labels)
    scores = score(found.labels, predicted, baselines, predictor.labels)
    metrics = {"data": found.source, **scores}
    return write_evaluation(
        run_dir, target, metrics,
        analysis=predictions_writer(found.values, found.labels, predicted, probabilities.max(1)),
        report=write_series_report if target == run_dir else None,
    )  # fmt: skip
