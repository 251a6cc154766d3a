"""Research-grade evaluation of a classification run, shared by training and ``rnnlab evaluate``.

Given the model's probabilities on the evaluation split it adds to ``metrics.json``:

* bootstrap 95 % intervals of accuracy and macro-F1 (1,000 paired resamples, seeded):
  ``accuracy_ci_low``, ``accuracy_ci_high``, ``macro_f1_ci_low``, ``macro_f1_ci_high``;
* baselines trained on the run's own training split and scored on the same items:
  ``baseline_majority_*`` and ``baseline_tfidf_*`` (accuracy, macro-F1 and their intervals;
  the TF-IDF baseline tuned on the run's validation split, its choice in
  ``baseline_tfidf_ngrams`` — n of its 1…n-grams — and ``baseline_tfidf_c``);
* McNemar's test of the model against the TF-IDF baseline: ``mcnemar_p``,
  ``mcnemar_statistic``, ``mcnemar_method``, ``mcnemar_model_only``, ``mcnemar_baseline_only``;
* for the default model, which averages the network with a lexical model, each member alone:
  ``recurrent_*`` and ``lexical_*`` (accuracy, macro-F1, intervals), McNemar of the network
  alone against the TF-IDF baseline (``recurrent_mcnemar_*``) and of the combination against
  the network alone (``combined_vs_recurrent_mcnemar_*``: "model" is the combination);

and writes the error analysis to ``analysis/*.csv`` of the run (or of the evaluation) (see
:mod:`rnnlab.evaluate.error_analysis`). A baseline that cannot be computed (no training data
at hand, scikit-learn missing) is left out and the reason kept in ``baselines_skipped``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.tables import LabeledTexts
from rnnlab.errors import MissingDependencyError
from rnnlab.evaluate.baselines import majority_baseline, tfidf_baseline
from rnnlab.evaluate.bootstrap import accuracy, classification_cis, macro_f1
from rnnlab.evaluate.error_analysis import ErrorAnalysis, analyse_errors
from rnnlab.evaluate.significance import mcnemar
from rnnlab.explain.page import optional_report
from rnnlab.explain.report import EXAMPLES_FILE, write_report
from rnnlab.fileio import atomic_write_json

__all__ = [
    "ANALYSIS_DIR",
    "RunAnalysis",
    "analyse_classification",
    "pick_examples",
    "save_examples",
    "with_analysis",
    "write_run_report",
]

ANALYSIS_DIR = "analysis"
_CI = {"ci_method": "percentile bootstrap", "ci_level": 0.95, "ci_resamples": 1000}


def _is_analysis_key(key: str) -> bool:
    """Keys this module writes, dropped before a refresh so no stale value survives."""
    return (
        key.startswith(("baseline_", "mcnemar_", "ci_", "recurrent_", "lexical_", "combined_vs_"))
        or key.endswith(("_ci_low", "_ci_high"))
        or key == "baselines_skipped"
    )


@dataclass
class RunAnalysis:
    """Flat metrics to merge into metrics.json, the error tables, and (text, true label)
    pairs worth explaining in the report."""

    metrics: dict[str, Any]
    errors: ErrorAnalysis
    examples: list[tuple[str, str]] = field(default_factory=list)


def pick_examples(
    y_true: np.ndarray,
    probs: np.ndarray,
    lengths: Sequence[int],
    *,
    mistakes: int = 2,
    max_tokens: int = 60,
) -> list[int]:
    """Positions of texts to show explained: for each class its most confident correct text,
    then the most confident mistakes — preferring texts of 5 to ``max_tokens`` tokens, which
    read well coloured token by token."""
    size = np.asarray(lengths)
    short = (size >= 5) & (size <= max_tokens)
    pool = short if short.any() else np.ones_like(short)
    pred, confidence = probs.argmax(axis=1), probs.max(axis=1)
    chosen: list[int] = []
    for k in range(probs.shape[1]):
        members = np.flatnonzero(pool & (y_true == k) & (pred == k))
        if members.size:
            chosen.append(int(members[np.argmax(confidence[members])]))
    wrong = np.flatnonzero(pool & (pred != y_true))
    chosen += [int(i) for i in wrong[np.argsort(-confidence[wrong], kind="stable")][:mistakes]]
    return chosen


def _scores(prefix: str, y_true: np.ndarray, y_pred: np.ndarray, k: int, seed: int) -> dict:
    scores = {
        f"{prefix}accuracy": accuracy(y_true, y_pred),
        f"{prefix}macro_f1": macro_f1(y_true, y_pred, k),
    }
    scores.update(classification_cis(y_true, y_pred, k, prefix=prefix, seed=seed))
    return scores


def _mcnemar_keys(prefix: str, model_correct: np.ndarray, other_correct: np.ndarray) -> dict:
    test = mcnemar(model_correct, other_correct)
    return {
        f"{prefix}p": test.p_value,
        f"{prefix}statistic": test.statistic,
        f"{prefix}method": test.method,
        f"{prefix}model_only": test.model_only,
        f"{prefix}baseline_only": test.baseline_only,
    }


def analyse_classification(
    predictor: Any,
    table: LabeledTexts,
    probs: np.ndarray,
    *,
    train: LabeledTexts | None = None,
    valid: LabeledTexts | None = None,
    members: dict[str, np.ndarray] | None = None,
    seed: int = 0,
    directory: str | Path | None = None,
) -> RunAnalysis:
    """CIs, baselines, McNemar and error tables for ``probs`` (N, K) on ``table``.

    ``train`` (the run's training split) feeds the baselines; without it they are skipped.
    ``valid`` (its validation split) tunes the TF-IDF baseline. ``members`` are the default
    model's members' own probabilities (``recurrent``, ``lexical``), reported beside it.
    With ``directory`` the error tables are written to ``directory/analysis/``.
    """
    labels = [str(label) for label in predictor.labels]
    index = {label: k for k, label in enumerate(predictor.labels)}
    y_true = np.array([index[label] for label in table.labels], dtype=np.int64)
    y_pred = probs.argmax(axis=1)
    k = len(labels)
    metrics: dict[str, Any] = dict(_CI)
    metrics.update(_scores("", y_true, y_pred, k, seed))
    for key in ("accuracy", "macro_f1"):
        metrics.pop(key)  # the caller's own values stay the headline numbers
    member_correct = {}
    for name, member_probs in (members or {}).items():
        y_member = member_probs.argmax(axis=1)
        member_correct[name] = y_member == y_true
        metrics.update(_scores(f"{name}_", y_true, y_member, k, seed))
    if "recurrent" in member_correct:
        metrics.update(
            _mcnemar_keys(
                "combined_vs_recurrent_mcnemar_", y_pred == y_true, member_correct["recurrent"]
            )
        )
    skipped = []
    if train is None or train.labels is None:
        skipped.append("no training data at hand to fit baselines on")
    else:
        majority = majority_baseline(train.labels, len(y_true))
        y_major = np.array([index.get(label, -1) for label in majority])
        metrics.update(_scores("baseline_majority_", y_true, y_major, k, seed))
        metrics["baseline_majority_label"] = str(majority[0]) if majority else ""
        own_tokens = predictor.tokenizer.name in ("chinese", "char")
        try:
            tfidf = tfidf_baseline(
                train.texts,
                train.labels,
                table.texts,
                tokenizer=predictor.tokenizer if own_tokens else None,
                valid_texts=valid.texts if valid is not None else None,
                valid_labels=valid.labels if valid is not None else None,
            )
        except MissingDependencyError as exc:
            skipped.append(f"TF-IDF baseline: {exc}")
        else:
            y_tfidf = np.array([index.get(label, -1) for label in tfidf.labels])
            metrics.update(_scores("baseline_tfidf_", y_true, y_tfidf, k, seed))
            metrics["baseline_tfidf_ngrams"] = tfidf.params["ngram_range"][1]
            metrics["baseline_tfidf_c"] = tfidf.params["c"]
            metrics.update(_mcnemar_keys("mcnemar_", y_pred == y_true, y_tfidf == y_true))
            if "recurrent" in member_correct:
                metrics.update(
                    _mcnemar_keys(
                        "recurrent_mcnemar_", member_correct["recurrent"], y_tfidf == y_true
                    )
                )
    if skipped:
        metrics["baselines_skipped"] = "; ".join(skipped)
    lengths = [len(tokens) for tokens in predictor.tokenizer.tokenize_many(table.texts)]
    errors = analyse_errors(table.texts, y_true, probs, labels, lengths, seed=seed)
    if directory is not None:
        errors.write_csv(Path(directory) / ANALYSIS_DIR)
    examples = [(table.texts[i], labels[y_true[i]]) for i in pick_examples(y_true, probs, lengths)]
    return RunAnalysis(metrics, errors, examples)


def with_analysis(metrics: dict[str, Any], analysis: RunAnalysis) -> dict[str, Any]:
    """``metrics`` with the analysis keys replaced by ``analysis``'s (no stale value stays)."""
    kept = {k: v for k, v in metrics.items() if not _is_analysis_key(k)}
    return {**kept, **analysis.metrics}


def save_examples(directory: str | Path, analysis: RunAnalysis) -> None:
    """The (text, true label) pairs the report explains, as ``analysis/examples.json``."""
    path = Path(directory) / ANALYSIS_DIR / EXAMPLES_FILE
    atomic_write_json(path, [list(pair) for pair in analysis.examples])


def write_run_report(run_dir: str | Path, predictor: Any) -> Path | None:
    """``run_dir/report.html`` from the run's files; None when matplotlib is not installed."""
    return optional_report(write_report, run_dir, predictor)
