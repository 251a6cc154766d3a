"""Series classification runs end to end: train on the training series, evaluate on the test
ones beside the majority class and 1-nearest-neighbour baselines — Euclidean, and dynamic time
warping (full window, dtaidistance's C implementation) when dtaidistance is installed.

There is no validation data: the run follows the training loss (``train.monitor =
"train_loss"`` in its ``config.toml``, whatever was asked), and the model file records the
training class counts, so that a later evaluation can score the majority baseline too.

    runs/NAME/  config.toml, model.safetensors (task "classify_series"), metrics.json
                (accuracy, macro_f1 with 95 % bootstrap intervals, baseline_majority_accuracy,
                baseline_1nn_accuracy, baseline_1nn_dtw_accuracy, McNemar against 1-NN),
                history.jsonl, analysis/predictions.csv, report.html
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.ucr import is_ucr_name
from rnnlab.errors import ConfigError, DataError
from rnnlab.evaluate.bootstrap import classification_cis
from rnnlab.evaluate.metrics import classification_metrics
from rnnlab.evaluate.significance import mcnemar
from rnnlab.explain.page import optional_report
from rnnlab.explain.series_report import PREDICTIONS_FILE, write_series_report
from rnnlab.fileio import atomic_write_json, atomic_write_text, csv_text, make_dir
from rnnlab.runs import MODEL_FILE, load_model_file, save_model_file, training_run
from rnnlab.tasks.base import Evaluation, TrainSummary, plan_evaluation, write_evaluation_metrics
from rnnlab.tasks.classify_series.config import SeriesClassifyRunConfig
from rnnlab.tasks.classify_series.data import SeriesBatches, load_split, znorm
from rnnlab.tasks.classify_series.model import SeriesClassifier
from rnnlab.tasks.classify_series.predictor import SeriesPredictor
from rnnlab.train import Trainer, seed_everything
from rnnlab.train.trainer import resolve_monitor

__all__ = [
    "evaluate_series_run",
    "majority_class",
    "nearest_neighbour",
    "nearest_neighbour_dtw",
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
    labels = sorted(set(train.labels))
    counts = {label: train.labels.count(label) for label in labels}
    config = replace(config, train=resolve_monitor(config.train, has_validation=False))
    norm = znorm if config.data.znorm else (lambda v: v)
    x_train, x_test = norm(train.values), norm(test.values)
    targets = np.array([labels.index(label) for label in train.labels])
    with training_run(run_dir, config, resume=resume) as run_dir:
        seed_everything(config.train.seed)
        model = SeriesClassifier(len(labels), config.model)
        batches = SeriesBatches(x_train, targets, config.train.batch_size, config.train.seed)
        start = time.perf_counter()
        result = Trainer(config.train, run_dir=run_dir, callbacks=callbacks).fit(
            model, batches, resume=resume
        )
        seconds = time.perf_counter() - start
        model.cpu().eval()
        save_model_file(
            run_dir / MODEL_FILE, model.state_dict(), task="classify_series",
            model_config=config.model, tokenizer={}, vocab={}, labels=labels,
            preprocessing={"length": int(x_train.shape[1]), "znorm": config.data.znorm,
                           "train_counts": counts},
        )  # fmt: skip
        predictor = SeriesPredictor(model, labels, x_train.shape[1], config.data.znorm)
        probabilities = predictor.predict_proba(test.values)
        predicted = [labels[i] for i in probabilities.argmax(1)]
        baselines = {
            "majority": [majority_class(labels, counts)] * len(test.labels),
            "1nn": nearest_neighbour(x_train, train.labels, x_test),
        }
        dtw = nearest_neighbour_dtw(x_train, train.labels, x_test)
        if dtw is not None:
            baselines["1nn_dtw"] = dtw
        metrics = {"data": test.source, **score(test.labels, predicted, baselines, labels),
                   "train_seconds": round(seconds, 2)}  # fmt: skip
        atomic_write_json(run_dir / "metrics.json", metrics)
        _write_predictions(run_dir, test.values, test.labels, predicted, probabilities.max(1))
        report = optional_report(write_series_report, run_dir)
    return TrainSummary(run_dir, metrics, "test", seconds, result.best_epoch, report=report)


def _write_predictions(run_dir: Path, values: np.ndarray, truth: list[str],
                       predicted: list[str], confidence: np.ndarray) -> None:  # fmt: skip
    """``analysis/predictions.csv``: each test series' index, true and predicted class, the
    predicted class's probability and the values (space-separated), for the report."""
    rows = [
        {"index": i, "truth": t, "predicted": p, "confidence": f"{float(c):.6f}",
         "values": " ".join(f"{v:.6g}" for v in row)}
        for i, (row, t, p, c) in enumerate(zip(values, truth, predicted, confidence, strict=True))
    ]  # fmt: skip
    atomic_write_text(make_dir(run_dir / "analysis") / PREDICTIONS_FILE, csv_text(rows))


def evaluate_series_run(
    run_dir: str | Path, data: str | None = None, *, name: str | None = None,
    options: dict[str, Any] | None = None, write: bool = True,
) -> Evaluation:  # fmt: skip
    """Accuracy of the run's model on a .ts file (or its own test series), with intervals
    and the majority baseline from the training class counts in the model file (files
    written before they were recorded give none; 1-NN needs the training series, which the
    run does not keep)."""
    run_dir = Path(run_dir)
    predictor = SeriesPredictor.from_file(run_dir)
    _, meta = load_model_file(run_dir, weights=False)
    counts = meta["preprocessing"].get("train_counts")
    _, source, target = plan_evaluation(
        run_dir, SeriesClassifyRunConfig, data, name=name, options=options, write=write,
        kind="a .ts file", builtin=lambda text: bool(text),
    )  # fmt: skip
    found = load_split(source, "TEST")
    predicted = predictor.predict(found.values)
    baselines = {}
    if isinstance(counts, dict) and all(isinstance(n, int) for n in counts.values()):
        baselines["majority"] = [majority_class(predictor.labels, counts)] * len(found.labels)
    scores = score(found.labels, predicted, baselines, predictor.labels)
    metrics = {"data": found.source, **scores}
    if target is not None:
        write_evaluation_metrics(target, metrics, run_dir)
    return Evaluation(metrics, target)
