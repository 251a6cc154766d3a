"""The one writer of a run directory's results, shared by every task (DESIGN.md, "The run
directory").

A task trains and evaluates in its own way, but what it leaves behind has one shape::

    runs/NAME/
      model.safetensors  written by the task's own saver (the weights are the task's)
      vocab.json         tokenizer settings, vocabulary, labels or tags, where the task has one
      history.jsonl      one line per epoch (the Trainer writes it as it trains; a task whose
                         training has no run directory hands its history over instead)
      metrics.json       the task's metrics + ``evaluated_on`` (the split scored),
                         ``train_seconds`` and ``best_epoch``
      analysis/          the task's error tables, written by its analysis hook
      report.html        written last by its report hook, from the files above

and every later ``rnnlab evaluate`` writes ``metrics.json`` and ``analysis/`` to the run
directory (its own test data) or to ``RUN/evaluations/NAME/`` (other data), then refreshes
the report. :func:`write_run` and :func:`write_evaluation` are those two ends; a task
describes its results as a :class:`RunRecord` (or metrics + hooks) and never writes these
files itself, so every task's run directory has the same files and keys.

It lives with the tasks, not in :mod:`rnnlab.runs`: it returns the contract's
:class:`~rnnlab.tasks.base.TrainSummary` and :class:`~rnnlab.tasks.base.Evaluation` and
renders reports through :mod:`rnnlab.explain`, both layers above ``runs``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.explain.page import REPORT_FILE, optional_report
from rnnlab.fileio import atomic_write_json, atomic_write_text, make_dir
from rnnlab.runs import MODEL_FILE
from rnnlab.tasks.base import Evaluation, TrainSummary, write_evaluation_metrics

__all__ = [
    "ANALYSIS_DIR",
    "HISTORY_FILE",
    "METRICS_FILE",
    "REPORT_FILE",
    "VOCAB_FILE",
    "AnalysisHook",
    "ReportHook",
    "RunRecord",
    "write_evaluation",
    "write_run",
]

VOCAB_FILE = "vocab.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.jsonl"
ANALYSIS_DIR = "analysis"

# analysis(folder) writes the task's tables into ``folder`` (RUN/analysis/ or
# RUN/evaluations/NAME/analysis/, created before the call).
AnalysisHook = Callable[[Path], Any]
# report(run_dir) writes RUN/report.html from the run's files and returns its path (None, or
# MissingDependencyError raised, when matplotlib is missing: the run is left without one).
ReportHook = Callable[[Path], Path | None]


@dataclass
class RunRecord:
    """What a finished training run leaves in its directory.

    Attributes:
        metrics: the task's flat metrics of the evaluated split; :func:`write_run` adds
            ``evaluated_on``, ``train_seconds`` and ``best_epoch``.
        evaluated_on: the split scored: ``"test"``, or ``"valid"`` when there is no test.
        seconds: seconds spent training.
        best_epoch: the epoch whose weights were kept, counting from 1 (0: none chosen).
        save_model: writes the one-file model to the path it is given
            (:func:`rnnlab.runs.save_model_file`, or an estimator's ``save``).
        vocab: the contents of ``vocab.json``; None for a task without a vocabulary.
        history: the per-epoch records, for a task whose training wrote no
            ``history.jsonl`` itself; None when the Trainer has written it.
        analysis: writes the error tables into ``analysis/``; None: no tables.
        report: writes ``report.html``; None: no report.
        padding: the padding report of the training batches, passed to the summary.
    """

    metrics: dict[str, Any]
    evaluated_on: str
    seconds: float
    best_epoch: int
    save_model: Callable[[Path], Any]
    vocab: Mapping[str, Any] | None = None
    history: Sequence[Mapping[str, Any]] | None = None
    analysis: AnalysisHook | None = None
    report: ReportHook | None = None
    padding: dict[str, float] = field(default_factory=dict)


def training_keys(record: RunRecord) -> dict[str, Any]:
    """The keys every run's ``metrics.json`` carries beside the task's own."""
    return {
        "evaluated_on": record.evaluated_on,
        "train_seconds": round(record.seconds, 2),
        "best_epoch": int(record.best_epoch),
    }


def write_run(run_dir: str | Path, record: RunRecord) -> TrainSummary:
    """Write the end of a training run into ``run_dir``, in this order: the model file,
    ``vocab.json``, ``history.jsonl`` (when handed over), ``metrics.json``, ``analysis/``,
    then ``report.html`` — last, because it is built from the others. Every file is written
    atomically. Returns the run's summary, whose metrics are those of ``metrics.json``."""
    run_dir = Path(run_dir)
    record.save_model(run_dir / MODEL_FILE)
    if record.vocab is not None:
        atomic_write_json(run_dir / VOCAB_FILE, dict(record.vocab))
    if record.history is not None:
        lines = "".join(json.dumps(dict(r)) + "\n" for r in record.history)
        atomic_write_text(run_dir / HISTORY_FILE, lines)
    metrics = {**record.metrics, **training_keys(record)}
    atomic_write_json(run_dir / METRICS_FILE, metrics)
    if record.analysis is not None:
        record.analysis(make_dir(run_dir / ANALYSIS_DIR))
    report = optional_report(record.report, run_dir) if record.report is not None else None
    return TrainSummary(
        run_dir,
        metrics,
        record.evaluated_on,
        record.seconds,
        int(record.best_epoch),
        padding=dict(record.padding),
        report=report,
    )


def write_evaluation(
    run_dir: str | Path,
    target: Path | None,
    metrics: dict[str, Any],
    *,
    analysis: AnalysisHook | None = None,
    report: ReportHook | None = None,
    own_record: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Write a later evaluation: ``metrics.json`` and ``analysis/`` in ``target`` (the run
    directory for its own test data, ``RUN/evaluations/NAME/`` for other data, None for
    nothing to write), then the run's ``report.html`` again, which lists every evaluation.

    ``metrics`` gain ``evaluated_on`` (their ``split``, else ``"test"``). Refreshing the
    run's own record keeps its training-time keys (``train_seconds``, ``best_epoch``, …); a
    task whose own record has another shape than an evaluation's (a language model's holds
    ``valid_*`` and ``test_*`` keys) passes ``own_record``: the keys that replace their
    namesakes in the run's ``metrics.json``, the rest of which is kept."""
    run_dir = Path(run_dir)
    metrics = {**metrics, "evaluated_on": metrics.get("split", "test")}
    if target is None:
        return Evaluation(metrics, None)
    if target == run_dir and own_record is not None:
        path = run_dir / METRICS_FILE
        previous = json.loads(path.read_text("utf-8")) if path.is_file() else {}
        atomic_write_json(path, {**previous, **own_record})
    else:
        write_evaluation_metrics(make_dir(target), metrics, run_dir)
    if analysis is not None:
        analysis(make_dir(target / ANALYSIS_DIR))
    written = optional_report(report, run_dir) if report is not None else None
    return Evaluation(metrics, target, written)
