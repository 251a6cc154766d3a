"""The error analysis of a tagging evaluation, shared by training and ``rnnlab evaluate``.

Beside ``metrics.json`` it writes three tables to ``analysis/`` (of the run, or of the
evaluation), which the report (:mod:`rnnlab.explain.tag_report`) shows:

* ``per_tag.csv`` — precision, recall, F1, support, predicted and correct counts per entity
  type for span tags (BIO / BIOES; whole entities, as conlleval counts them: the same
  numbers as ``metrics.json``'s ``f1_PER``, …), or per tag for plain tags such as parts of
  speech (tokens);
* ``confusions.csv`` — every (true tag, predicted tag) pair of the tokens with its count and
  its share of the true tag's tokens, the wrong pairs first, most frequent first;
* ``worst_sentences.csv`` — every sentence with a wrongly tagged token, the most wrong tags
  first (then the most entity errors), with its tokens, true and predicted tags.

Tags are compared in the scheme of the evaluated data's tags, as
:meth:`~rnnlab.tasks.tag.predictor.TagPredictor.evaluate` compares them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.data.conll import TaggedSentences
from rnnlab.evaluate.entities import entities, sentence_counts
from rnnlab.explain.page import optional_report
from rnnlab.explain.tag_report import (
    CONFUSIONS_FILE,
    PER_TAG_FILE,
    WORST_FILE,
    write_tag_report,
)
from rnnlab.fileio import atomic_write_text, csv_text
from rnnlab.text.tagschemes import detect_scheme

__all__ = ["TagAnalysis", "analyse_tagging", "comparison_scheme", "write_run_report"]

_PER_TAG = ("tag", "unit", "precision", "recall", "f1", "support", "predicted", "correct")
_CONFUSIONS = ("true", "predicted", "count", "share_of_true")
_WORST = ("sentence", "line", "errors", "tokens", "missed", "spurious", "text", "true",
          "predicted")  # fmt: skip


@dataclass
class TagAnalysis:
    """The three tables of one evaluation, as rows (dicts keyed by their CSV columns)."""

    per_tag: list[dict[str, Any]] = field(default_factory=list)
    confusions: list[dict[str, Any]] = field(default_factory=list)
    worst: list[dict[str, Any]] = field(default_factory=list)

    def write(self, folder: Path) -> None:
        """Write ``per_tag.csv``, ``confusions.csv`` and ``worst_sentences.csv`` into
        ``folder`` atomically (a header alone where a table has no rows)."""
        for name, columns, rows in (
            (PER_TAG_FILE, _PER_TAG, self.per_tag),
            (CONFUSIONS_FILE, _CONFUSIONS, self.confusions),
            (WORST_FILE, _WORST, self.worst),
        ):
            atomic_write_text(Path(folder) / name, csv_text(rows) or ",".join(columns) + "\n")


def comparison_scheme(predictor: Any, data: TaggedSentences, scheme: str | None = None) -> str:
    """The scheme predictions are compared in: ``scheme`` when given, else the one detected
    from ``data``'s tags; the training data's when either side is plain (the rule of
    :meth:`TagPredictor.evaluate`, so the tables and ``metrics.json`` agree)."""
    gold = scheme if scheme not in (None, "auto") else detect_scheme(data.tags)
    if predictor.scheme == "plain" or gold == "plain":
        gold = predictor.data_scheme if predictor.scheme != "plain" else "plain"
    return gold


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _prf_row(tag: str, unit: str, correct: int, predicted: int, support: int) -> dict[str, Any]:
    precision, recall = _ratio(correct, predicted), _ratio(correct, support)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tag": tag, "unit": unit, "precision": round(precision, 6), "recall": round(recall, 6),
            "f1": round(f1, 6), "support": support, "predicted": predicted,
            "correct": correct}  # fmt: skip


def per_entity_type(true: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> list:
    """Rows of ``per_tag.csv`` for span tags: per entity type, whole entities (conlleval)."""
    gold, found = set(entities(true)), set(entities(predicted))
    n_true, n_pred, n_right = (Counter(e[0] for e in s) for s in (gold, found, gold & found))
    return [
        _prf_row(kind, "entity", n_right[kind], n_pred[kind], n_true[kind])
        for kind in sorted(set(n_true) | set(n_pred))
    ]


def per_tag(pairs: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    """Rows of ``per_tag.csv`` for plain tags: per tag, over tokens."""
    n_true: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    for (gold, guess), count in pairs.items():
        n_true[gold] += count
        n_pred[guess] += count
    return [
        _prf_row(tag, "token", pairs[(tag, tag)], n_pred[tag], n_true[tag])
        for tag in sorted(set(n_true) | set(n_pred))
    ]


def confusion_rows(pairs: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    """Rows of ``confusions.csv``: the wrong (true, predicted) pairs most frequent first,
    then the right ones; ties in tag order."""
    totals: Counter[str] = Counter()
    for (gold, _), count in pairs.items():
        totals[gold] += count
    ordered = sorted(pairs.items(), key=lambda item: (item[0][0] == item[0][1], -item[1], item[0]))
    return [
        {"true": gold, "predicted": guess, "count": count,
         "share_of_true": round(count / totals[gold], 6)}
        for (gold, guess), count in ordered
    ]  # fmt: skip


def worst_rows(
    data: TaggedSentences, predicted: Sequence[Sequence[str]], spans: bool
) -> list[dict[str, Any]]:
    """Rows of ``worst_sentences.csv``: the sentences with a wrong tag, most wrong first."""
    counts = sentence_counts(data.tags, predicted) if spans else None
    rows = []
    for i, (tokens, true, guess) in enumerate(zip(data.tokens, data.tags, predicted, strict=True)):
        errors = sum(t != p for t, p in zip(true, guess, strict=True))
        if not errors:
            continue
        missed = spurious = ""
        if counts is not None:
            right, found, gold = (int(v) for v in counts[i, :3])
            missed, spurious = gold - right, found - right
        rows.append({
            "sentence": i + 1, "line": data.lines[i] if data.lines else "", "errors": errors,
            "tokens": len(tokens), "missed": missed, "spurious": spurious,
            "text": " ".join(tokens), "true": " ".join(true), "predicted": " ".join(guess),
        })  # fmt: skip
    rows.sort(key=lambda row: (-row["errors"], -_entity_errors(row), row["sentence"]))
    return rows


def _entity_errors(row: dict[str, Any]) -> int:
    """Entities missed plus spurious ones in a row of ``worst_sentences.csv`` (0 for plain
    tags, which have no entities)."""
    return (row["missed"] or 0) + (row["spurious"] or 0)


def analyse_tagging(
    predictor: Any, data: TaggedSentences, *, scheme: str | None = None, batch_size: int = 64
) -> TagAnalysis:
    """The tables of ``predictor``'s tags on ``data`` (``scheme``: of ``data``'s tags, as
    for :meth:`TagPredictor.evaluate`; default detected)."""
    compared = comparison_scheme(predictor, data, scheme)
    predicted = predictor.predict(data.tokens, batch_size, scheme=compared)
    pairs: Counter[tuple[str, str]] = Counter(
        (t, p)
        for true, guess in zip(data.tags, predicted, strict=True)
        for t, p in zip(true, guess, strict=True)
    )
    spans = compared != "plain"
    return TagAnalysis(
        per_entity_type(data.tags, predicted) if spans else per_tag(pairs),
        confusion_rows(pairs),
        worst_rows(data, predicted, spans),
    )


def write_run_report(run_dir: str | Path) -> Path | None:
    """``RUN/report.html`` from the run's files; None when matplotlib is not installed."""
    return optional_report(write_tag_report, run_dir)
