"""Classification runs end to end: data → training → evaluation → the run directory.

    runs/NAME/
      config.toml        resolved configuration (written first; a resumed run must match it)
      vocab.json         tokenizer settings, vocabulary and labels, for people and other tools
      model.safetensors  the one-file model (see rnnlab.runs)
      metrics.json       test metrics, flat keys (accuracy, macro_f1, per class, confusion matrix)
      history.jsonl      one line per epoch
      report.html        the run on one page; analysis/*.csv the error tables
      evaluations/NAME/  every later ``rnnlab evaluate RUN --data X``: metrics.json, analysis/
      checkpoints/       last.pt and best.pt, for --resume

The files are written by the one run writer (:mod:`rnnlab.tasks.run_writer`). The CLI is a
thin layer over these functions; Python users can call them directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data import datasets
from rnnlab.data.labels import check_known_labels
from rnnlab.data.tables import LabeledTexts
from rnnlab.errors import RnnlabError
from rnnlab.evaluate.metrics import classification_metrics
from rnnlab.runs import training_run
from rnnlab.tasks.base import Evaluation, TrainSummary, plan_evaluation
from rnnlab.tasks.classify.analysis import (
    RunAnalysis,
    analyse_classification,
    save_examples,
    with_analysis,
    write_run_report,
)
from rnnlab.tasks.classify.config import ClassifyRunConfig
from rnnlab.tasks.classify.data import classification_dataset, load_splits, read_labeled_table
from rnnlab.tasks.classify.finetune import adopt_language_model, read_language_model
from rnnlab.tasks.classify.predictor import TextPredictor
from rnnlab.tasks.run_writer import RunRecord, write_evaluation, write_run
from rnnlab.text.batching import padding_report

__all__ = ["evaluate_run", "train_classifier"]


def train_classifier(
    config: ClassifyRunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    callbacks: tuple = (),
) -> TrainSummary:
    """Train, evaluate on the test split (or validation when there is none), write the run."""
    # Imported here: the estimator brings scikit-learn, which loading a model never needs.
    from rnnlab.tasks.classify.estimator import TextClassifier, resolve_tokenizer

    splits = load_splits(config.data, config.train.seed)
    config = resolve_tokenizer(config, splits.train.texts)
    if config.model.init_from:  # the run's config.toml shows the encoder it really trains
        lm = read_language_model(config.model.init_from, weights=False)  # the header suffices
        config = adopt_language_model(config, lm)
    with training_run(run_dir, config, resume=resume) as run_dir:
        start = time.perf_counter()
        clf = TextClassifier(config).fit(
            splits.train.texts,
            splits.train.labels,
            valid_texts=splits.valid.texts,
            valid_labels=splits.valid.labels,
            run_dir=run_dir,
            resume=resume,
            callbacks=callbacks,
        )
    seconds = time.perf_counter() - start
    evaluated = splits.test if splits.test is not None else splits.valid
    name = "test" if splits.test is not None else "valid"
    metrics, probs, members = _metrics(clf.predictor_, evaluated, name)
    if clf.combination_ is not None:
        metrics.update(clf.combination_.summary())
    if clf.embedding_coverage_ is not None:
        metrics["embedding_coverage"] = round(clf.embedding_coverage_, 4)
        metrics["embedding_source"] = clf.embedding_source_
    analysis = analyse_classification(
        clf.predictor_, evaluated, probs, train=splits.train, valid=splits.valid,
        members=members, seed=config.train.seed,
    )  # fmt: skip
    metrics = with_analysis(metrics, analysis)
    if splits.notes:
        metrics["data_notes"] = splits.notes
    lengths = [len(s) for s in clf.predictor_.encode(splits.train.texts[:5000])]
    padding = padding_report(lengths, config.train.batch_size, seed=config.train.seed)
    return write_run(
        run_dir,
        RunRecord(
            metrics,
            name,
            seconds,
            clf.fit_result_.best_epoch,
            save_model=clf.save,
            vocab={
                "tokenizer": clf.tokenizer_.to_dict(),
                "labels": list(clf.classes_),
                "vocab": clf.vocab_.to_dict(),
            },
            analysis=_analysis_hook(analysis, examples=True),
            report=lambda run: write_run_report(run, clf.predictor_),
            padding={"bucketed": padding.bucketed, "random": padding.random},
        ),
    )


def _analysis_hook(analysis: RunAnalysis, *, examples: bool) -> Callable[[Path], None]:
    """What goes to ``analysis/``: the error tables, and with ``examples`` (the run's own
    test data) the texts the report explains."""

    def write(folder: Path) -> None:
        analysis.errors.write_csv(folder)
        if examples:
            save_examples(folder.parent, analysis)

    return write


def _metrics(
    predictor: TextPredictor, table: LabeledTexts, split: str
) -> tuple[dict[str, Any], np.ndarray, dict[str, np.ndarray]]:
    """Flat metrics of ``table``, the probabilities (N, K) they came from and the default
    model's members' own (``{}`` for a network alone), which the analysis reuses rather than
    running the model again."""
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
    if predictor.combined:
        metrics["combine_recurrent_weight"] = round(float(predictor.model.recurrent_weight), 4)
    return metrics, probs, predictor.predict_members(table.texts)


def evaluate_run(
    run_dir: str | Path,
    data: str | None = None,
    *,
    name: str | None = None,
    options: dict[str, Any] | None = None,
    write: bool = True,
) -> Evaluation:
    """Evaluate a trained run on a labelled table (or a dataset name's test part); by
    default on the run's own test data.

    ``options`` override the run's ``[data]`` reading keys (``text_col``, ``label_col``,
    ``format``, ``skip_empty``). The run's own test data refreshes ``RUN/metrics.json``,
    ``RUN/analysis/`` and the report; other data goes to ``RUN/evaluations/<name>/``
    (``name``: ``--name``, else the file's stem or dataset name), leaving the run's own
    record as it was, and the report lists it.
    """
    run_dir = Path(run_dir)
    predictor = TextPredictor.from_file(run_dir)
    config, source, target = plan_evaluation(
        run_dir, ClassifyRunConfig, data, name=name, options=options, write=write,
        kind="a labelled table",
    )  # fmt: skip
    if datasets.is_dataset_name(source):
        table = classification_dataset(source, config.train.seed).test
    else:
        table = read_labeled_table(source, config.data)
    metrics, probs, members = _metrics(predictor, table, "test")
    metrics["data"] = source
    train, valid = _training_splits(config)
    analysis = analyse_classification(
        predictor, table, probs, train=train, valid=valid, members=members,
        seed=config.train.seed,
    )  # fmt: skip
    metrics = with_analysis(metrics, analysis)
    return write_evaluation(
        run_dir, target, metrics,
        analysis=_analysis_hook(analysis, examples=target == run_dir),
        report=lambda run: write_run_report(run, predictor),
    )  # fmt: skip


def _training_splits(
    config: ClassifyRunConfig,
) -> tuple[LabeledTexts | None, LabeledTexts | None]:
    """The run's training and validation splits, to fit and tune baselines on; None when its
    data is not at hand."""
    if not config.data.data:
        return None, None
    try:
        splits = load_splits(config.data, config.train.seed)
    except (RnnlabError, OSError):
        return None, None
    return splits.train, splits.valid
