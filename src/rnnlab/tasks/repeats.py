"""Repeated training runs: several seeds, or k-fold cross-validation, summarised together.

One number from one run hides how much it moves with the random seed, and on a small data
set a single held-out split is itself noisy. Both commands write ordinary run directories
(each with its own metrics, CIs, baselines and report) side by side, plus a summary::

    rnnlab train classify --data reviews.csv --seeds 5 --out runs/r
        runs/r/seed-0 … runs/r/seed-4        seeds s, s+1, … (s = train.seed)
    rnnlab train classify --data small.csv --folds 5 --out runs/cv
        runs/cv/fold-1 … runs/cv/fold-5     fold k evaluated on the k-th held-out part
    runs/…/summary.json                     mean ± sd and the t-interval of the mean

Seeds: each run re-seeds everything, including the split of a built-in dataset and the 10 %
validation hold-out, so the spread covers initialisation, batch order and split.
Folds: the labelled training data (train + validation; a ``--test`` table stays aside) is
cut into K stratified parts; run k trains on the other K − 1 parts (10 % of them held out for
validation and early stopping) and is evaluated on part k. Each fold's tables are written
into its run directory (``fold-k/data/*.csv``), so ``rnnlab evaluate fold-k`` scores the
same held-out part again.
"""

from __future__ import annotations

import csv
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.data.splits import duplicate_groups, grouped_holdout
from rnnlab.errors import ConfigError
from rnnlab.evaluate.significance import summarize_runs
from rnnlab.fileio import atomic_open, atomic_write_json
from rnnlab.tasks.base import TrainSummary
from rnnlab.tasks.classify.config import ClassifyRunConfig
from rnnlab.tasks.classify.data import load_splits
from rnnlab.tasks.classify.workflow import train_classifier

__all__ = [
    "CLASSIFY_SCORES",
    "FORECAST_SCORES",
    "LM_SCORES",
    "SERIES_SCORES",
    "RepeatSummary",
    "cross_validate",
    "stratified_folds",
    "train_seeds",
]

SUMMARY_FILE = "summary.json"
_SCORES = ("accuracy", "macro_f1")
# The metrics a summary covers (those every run has): a classifier's and its baseline's, or
# a language model's on test and validation text.
# The default model, its network alone (where it combines) and the tuned TF-IDF baseline.
CLASSIFY_SCORES = tuple(
    f"{prefix}{k}" for prefix in ("", "recurrent_", "baseline_tfidf_") for k in _SCORES
)
LM_SCORES = tuple(
    f"{split}_{k}" for split in ("test", "valid") for k in ("perplexity", "bits_per_token", "bpc")
)
# A forecaster's scores beside seasonal naive's and AutoETS's on the same windows.
FORECAST_SCORES = ("mase", "smape", "relative_mase", "coverage_80", "coverage_95", "rnn_mase",
                   "baseline_seasonal_naive_mase", "baseline_ets_mase",
                   "baseline_median3_mase", "relative_mase_median3")  # fmt: skip
# A series classifier's and its 1-NN baseline's.
SERIES_SCORES = ("accuracy", "macro_f1", "baseline_1nn_accuracy")
_FOLD_TABLES = {"data.data": "train", "data.valid": "valid", "data.test": "test"}


@dataclass
class RepeatSummary:
    """The runs and, per headline metric, mean, sd and the interval of the mean."""

    kind: str  # "seeds" or "folds"
    runs: list[TrainSummary]
    scores: dict[str, dict[str, Any]]
    path: Path  # summary.json

    @property
    def baselines(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.scores.items() if k.startswith("baseline_")}


def _summarize(
    kind: str,
    out: Path,
    runs: list[TrainSummary],
    names: Sequence[str],
    keys: Sequence[str] = CLASSIFY_SCORES,
) -> RepeatSummary:
    scores = {}
    for key in keys:
        values = [run.metrics[key] for run in runs if key in run.metrics]
        if len(values) == len(runs):
            scores[key] = summarize_runs(values).to_dict()
    path = out / SUMMARY_FILE
    atomic_write_json(
        path,
        {
            "kind": kind,
            "runs": [str(name) for name in names],
            "confidence": 0.95,
            "interval": "Student t interval of the mean over runs",
            **scores,
        },
    )
    return RepeatSummary(kind, runs, scores, path)


def _check_count(name: str, value: int, low: int) -> None:
    if not isinstance(value, int) or value < low:
        raise ConfigError(f"--{name} must be an integer ≥ {low}, got {value!r}.")


def train_seeds(
    config: ClassifyRunConfig,
    out: str | Path,
    seeds: int,
    *,
    on_run: Callable[[str], Any] | None = None,
    train: Callable[..., TrainSummary] = train_classifier,
    scores: Sequence[str] = CLASSIFY_SCORES,
    **train_options: Any,
) -> RepeatSummary:
    """Train ``seeds`` runs with train.seed = s, s + 1, …; write ``out/summary.json``.

    ``train`` is the task's training function (a classifier's by default; ``train_lm`` for
    language models, with ``scores=LM_SCORES``)."""
    _check_count("seeds", seeds, 1)
    out = Path(out)
    base = config.train.seed
    runs, names = [], []
    for seed in range(base, base + seeds):
        name = f"seed-{seed}"
        if on_run is not None:
            on_run(name)
        runs.append(train(config.merge({"train.seed": seed}), out / name, **train_options))
        names.append(name)
    return _summarize("seeds", out, runs, names, scores)


def stratified_folds(
    labels: Sequence[Any], k: int, seed: int = 0, texts: Sequence[str] | None = None
) -> list[list[int]]:
    """Positions split into ``k`` parts with each class spread evenly: every class's items
    are shuffled (seeded) and dealt round-robin, continuing where the previous class ended.

    With ``texts``, copies of a text (:func:`~rnnlab.data.splits.normalized_text`) are dealt
    as one item, under the label of the first copy, so they never straddle folds; without
    copies the folds are the same as without ``texts``."""
    groups = [[i] for i in range(len(labels))] if texts is None else duplicate_groups(texts)
    by_class: dict[Any, list[list[int]]] = defaultdict(list)
    for group in groups:
        by_class[labels[group[0]]].append(group)
    rng = random.Random(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    position = 0
    for label in sorted(by_class, key=str):
        members = by_class[label]
        rng.shuffle(members)
        for group in members:
            folds[position % k].extend(group)
            position += 1
    return [sorted(fold) for fold in folds]


def _write_table(path: Path, texts: Sequence[str], labels: Sequence[Any]) -> str:
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return str(path)


def cross_validate(
    config: ClassifyRunConfig,
    out: str | Path,
    folds: int,
    *,
    on_run: Callable[[str], Any] | None = None,
    **train_options: Any,
) -> RepeatSummary:
    """K-fold cross-validation of the configured classifier; writes ``out/summary.json``."""
    _check_count("folds", folds, 2)
    out = Path(out)
    seed = config.train.seed
    splits = load_splits(config.data, seed)
    texts = splits.train.texts + splits.valid.texts
    labels = list(splits.train.labels or []) + list(splits.valid.labels or [])
    smallest = min(Counter(labels).values())  # the rarest class
    if smallest < folds:
        raise ConfigError(
            f"--folds {folds}: the rarest class has only {smallest} labelled texts, fewer than "
            f"the folds; use --folds {max(2, smallest)} or fewer."
        )
    parts = stratified_folds(labels, folds, seed, texts)
    runs, names = [], []
    for k, held_out in enumerate(parts, start=1):
        name = f"fold-{k}"
        if on_run is not None:
            on_run(name)
        held = set(held_out)
        rest = [i for i in range(len(texts)) if i not in held]
        inner = grouped_holdout([labels[i] for i in rest], [texts[i] for i in rest], 0.1, seed)
        fit_idx, valid_idx = inner.kept, inner.held
        data_dir = out / name / "data"
        tables = {
            "data.data": [rest[i] for i in fit_idx],
            "data.valid": [rest[i] for i in valid_idx],
            "data.test": held_out,
        }
        overrides: dict[str, Any] = {
            "data.text_col": "text",
            "data.label_col": "label",
            "data.format": "csv",
            "data.encoding": "utf-8",  # the fold tables are written here, as UTF-8 CSV
            "data.delimiter": ",",
            "data.sheet": "",
        }
        for key, positions in tables.items():
            path = data_dir / f"{_FOLD_TABLES[key]}.csv"
            overrides[key] = _write_table(
                path, [texts[i] for i in positions], [labels[i] for i in positions]
            )
        fold_config = config.merge(overrides)
        runs.append(train_classifier(fold_config, out / name, **train_options))
        names.append(name)
    return _summarize("folds", out, runs, names)
