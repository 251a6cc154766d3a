"""Entity-level precision, recall and F1 (conlleval), and token accuracy, for sequence labelling.

An entity counts as found only when its type, first and last token all match a true entity:

    precision = |true ∩ predicted| / |predicted|,   recall = |true ∩ predicted| / |true|,
    F1 = 2·P·R / (P + R)                             (0 where a denominator is 0)

overall (micro, over all entities) and per type. Entities are read from the tags with
conlleval's chunk rules, which also define a reading of malformed sequences (an ``I-X`` after
``O`` opens an entity; a change of type closes one), so the numbers equal conlleval's and
``seqeval``'s default mode on the same predictions; the tests check every number against
``seqeval``. Written here so that evaluation needs neither at run time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from rnnlab.errors import ShapeError
from rnnlab.evaluate.bootstrap import ConfidenceInterval, bootstrap_ci

__all__ = ["entities", "entity_metrics", "sentence_counts", "tagging_intervals", "token_accuracy"]


def _split(tag: str) -> tuple[str, str]:
    """(chunk tag, type) as conlleval splits them: ``B-PER`` → (B, PER); ``O`` → (O, _)."""
    return tag[0], tag[1:].split("-", maxsplit=1)[-1] or "_"


def _ends(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    """Does the chunk open before this token end just before it? (conlleval's endOfChunk)."""
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag not in ("O", ".") and prev_type != kind


def _starts(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    """Does a chunk start at this token? (conlleval's startOfChunk)."""
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag not in ("O", ".") and prev_type != kind


def entities(sentences: Sequence[Sequence[str]]) -> list[tuple[str, int, int]]:
    """All entities ``(type, start, end)`` of tagged sentences, end inclusive.

    Offsets count tokens over the sentences joined with one ``O`` between them (as seqeval
    does), so no entity crosses a sentence boundary and every entity is unique.
    """
    flat: list[str] = []
    for tags in sentences:
        flat.extend(tags)
        flat.append("O")
    found = []
    prev_tag, prev_type, begin = "O", "", 0
    for i, chunk in enumerate(flat):
        tag, kind = _split(chunk)
        if _ends(prev_tag, tag, prev_type, kind):
            found.append((prev_type, begin, i - 1))
        if _starts(prev_tag, tag, prev_type, kind):
            begin = i
        prev_tag, prev_type = tag, kind
    return found


def _check_aligned(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]) -> None:
    if len(y_true) != len(y_pred):
        raise ShapeError(
            f"y_true and y_pred must hold the same number of sentences, got {len(y_true)} "
            f"and {len(y_pred)}."
        )
    for i, (gold, pred) in enumerate(zip(y_true, y_pred, strict=True)):
        if len(gold) != len(pred):
            raise ShapeError(
                f"sentence {i + 1}: {len(gold)} true tags but {len(pred)} predicted; predict one "
                "tag per token."
            )


def _prf(correct: int, predicted: int, true: int) -> tuple[float, float, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def entity_metrics(
    y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]
) -> dict[str, float | int]:
    """Flat metrics: ``precision``, ``recall``, ``f1``, ``num_true``, ``num_predicted``,
    ``num_correct`` and per type ``precision_T``, ``recall_T``, ``f1_T``, ``support_T``.

    Types are those of the true or predicted entities, sorted.
    """
    _check_aligned(y_true, y_pred)
    true = set(entities(y_true))
    pred = set(entities(y_pred))
    correct = true & pred
    precision, recall, f1 = _prf(len(correct), len(pred), len(true))
    metrics: dict[str, float | int] = {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "num_true": len(true),
        "num_predicted": len(pred),
        "num_correct": len(correct),
    }
    n_true, n_pred, n_correct = (Counter(e[0] for e in s) for s in (true, pred, correct))
    for kind in sorted(set(n_true) | set(n_pred)):
        p, r, f = _prf(n_correct[kind], n_pred[kind], n_true[kind])
        metrics[f"precision_{kind}"] = p
        metrics[f"recall_{kind}"] = r
        metrics[f"f1_{kind}"] = f
        metrics[f"support_{kind}"] = n_true[kind]
    return metrics


def token_accuracy(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]) -> float:
    """Share of tokens whose predicted tag equals the true one (0.0 with no tokens)."""
    _check_aligned(y_true, y_pred)
    total = sum(len(s) for s in y_true)
    right = sum(
        g == p
        for gold, pred in zip(y_true, y_pred, strict=True)
        for g, p in zip(gold, pred, strict=True)
    )
    return right / total if total else 0.0


def sentence_counts(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]) -> np.ndarray:
    """Per sentence: (entities found correctly, predicted, true, tokens right, tokens), (n, 5).

    Entities never cross a sentence boundary, so the column sums give exactly
    :func:`entity_metrics`' overall counts and :func:`token_accuracy`'s; resampling these rows
    resamples sentences, the unit a tagger's test set is drawn in."""
    _check_aligned(y_true, y_pred)
    rows = []
    for true, pred in zip(y_true, y_pred, strict=True):
        gold, found = set(entities([true])), set(entities([pred]))
        right = sum(t == p for t, p in zip(true, pred, strict=True))
        rows.append((len(gold & found), len(found), len(gold), right, len(true)))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 5)


def _micro_f1(counts: np.ndarray) -> float:
    correct, predicted, true = counts[:, :3].sum(axis=0)
    return _prf(int(correct), int(predicted), int(true))[2]


def _token_share(counts: np.ndarray) -> float:
    right, total = counts[:, 3:].sum(axis=0)
    return float(right / total) if total else 0.0


def tagging_intervals(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    *,
    spans: bool = True,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, ConfidenceInterval]:
    """Percentile bootstrap intervals over sentences for token ``accuracy`` and, with span
    tags, entity ``f1`` (see :mod:`rnnlab.evaluate.bootstrap`)."""
    counts = sentence_counts(y_true, y_pred)
    metrics = {"accuracy": _token_share, **({"f1": _micro_f1} if spans else {})}
    return {
        name: bootstrap_ci(counts, metric, n_resamples=n_resamples, seed=seed)
        for name, metric in metrics.items()
    }
