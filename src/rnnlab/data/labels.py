"""Class labels: normalise what a table holds, and check a label set before training or scoring.

Labels are strings or integers and stay what they are: a column of whole numbers (``0``/``1``
in a CSV, ints in JSONL or Parquet) becomes ``int`` labels, anything else ``str`` labels. A
column never mixes the two, so ``1`` and ``"1"`` cannot become two different classes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Sequence

from rnnlab.data.messages import have, quote_list, where_indices
from rnnlab.errors import DataError

__all__ = ["Label", "check_classes", "check_known_labels", "normalize_labels", "sorted_labels"]

Label = str | int
_INT = re.compile(r"-?(0|[1-9][0-9]*)")


def sorted_labels(labels: Iterable[Hashable]) -> list:
    """The distinct labels in a stable order: integers ascending, then strings ascending."""
    return sorted(set(labels), key=lambda v: (isinstance(v, str), v))


def normalize_labels(
    values: Sequence[object],
    rows: Sequence[int],
    lines: Sequence[int] | None,
    *,
    source: str,
    column: str,
) -> list[Label]:
    """Turn a label column's raw values into ``str`` or ``int`` labels, or say what is wrong.

    Missing values (``None``, NaN, blank strings) are an error naming how many rows and which;
    fractional numbers are an error (they are not classes). Booleans become ``"true"`` /
    ``"false"``. Text that is entirely canonical integers (``"0"``, ``"12"``, ``"-1"``) becomes
    ``int`` labels; a column mixing numbers and text becomes all ``str``.
    """
    missing = [
        i
        for i, v in enumerate(values)
        if v is None
        or (isinstance(v, str) and not v.strip())
        or (isinstance(v, float) and math.isnan(v))
    ]
    if missing:
        raise DataError(
            f"{source}: {len(missing)} of {len(values)} rows {have(len(missing))} no label in "
            f"column {column!r} ({where_indices(missing, rows, lines)}); fill them in, remove "
            f"those rows, or check --label-col"
        )
    out: list[Label] = []
    for i, v in enumerate(values):
        if isinstance(v, bool):
            out.append(str(v).lower())
        elif isinstance(v, int | str):
            out.append(v)
        elif isinstance(v, float) and v.is_integer():
            out.append(int(v))
        else:
            kind = "fractional number" if isinstance(v, float) else type(v).__name__
            raise DataError(
                f"{source} {where_indices([i], rows, lines)}: label {v!r} in column "
                f"{column!r} is a {kind}, expected a class name or a whole number; "
                f"check --label-col"
            )
    if all(isinstance(v, str) for v in out):
        if all(_INT.fullmatch(v) for v in out):  # type: ignore[arg-type]
            return [int(v) for v in out]
        return out
    if all(isinstance(v, int) for v in out):
        return out
    return [str(v) for v in out]


def check_classes(labels: Sequence[Label], source: str) -> list[Label]:
    """Return the sorted distinct labels; raise unless there are at least two classes.

    A classifier cannot learn from one class, and a single class nearly always means the
    wrong column was chosen or a filter went wrong upstream.
    """
    classes = sorted_labels(labels)
    if not classes:
        raise DataError(f"{source}: no labelled rows; a classifier needs at least 2 classes")
    if len(classes) == 1:
        raise DataError(
            f"{source}: all {len(labels)} rows have the label {classes[0]!r}, but a classifier "
            f"needs at least 2 classes; check --label-col, or add examples of the other classes"
        )
    return classes


def check_known_labels(
    labels: Sequence[Label],
    known: Iterable[Label],
    source: str,
    row_numbers: Sequence[int] | None = None,
) -> None:
    """Raise if any label is outside ``known`` (the classes a model was trained on).

    Used at evaluation time: a label the model has never seen cannot be scored. The message
    names the first unknown label, its row, the known set and how many rows are affected.
    """
    known_list = sorted_labels(known)
    known_set = set(known_list)
    bad = [i for i, label in enumerate(labels) if label not in known_set]
    if not bad:
        return
    rows = list(row_numbers) if row_numbers is not None else list(range(1, len(labels) + 1))
    first = labels[bad[0]]
    hint = ""
    if str(first) in {str(k) for k in known_list}:
        kinds = sorted({type(k).__name__ for k in known_list})
        hint = (
            f" (it is written as {type(first).__name__} here but the model's labels are "
            f"{'/'.join(kinds)})"
        )
    distinct = sorted_labels(labels[i] for i in bad)
    raise DataError(
        f"{source} row {rows[bad[0]]}: label {first!r} is not one the model was trained on "
        f"(known: {quote_list(known_list)}){hint}; {len(bad)} rows carry unknown labels "
        f"{quote_list(distinct, limit=5)} ({where_indices(bad, rows)}) — evaluate on "
        f"data with the model's label set, or check --label-col"
    )
