"""Phrases shared by the data readers' error messages.

Every reader error is one sentence naming the file, the row (and, for text formats, the line a
user can jump to in an editor), what was expected, what arrived and the fix. These helpers
build the recurring parts — a short list of row numbers, a list of columns, a "did you mean" —
so that every message reads the same way.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Sequence

__all__ = [
    "close_match",
    "did_you_mean",
    "have",
    "quote_list",
    "shell_word",
    "where_indices",
    "where_rows",
]

_SHOWN = 5


def have(count: int) -> str:
    """``"has"`` or ``"have"``, agreeing with ``count`` rows."""
    return "has" if count == 1 else "have"


def quote_list(values: Sequence[object], limit: int = 20) -> str:
    """``'a', 'b', 'c'`` — the first ``limit`` values, repr-quoted, with a count of the rest."""
    shown = ", ".join(repr(v) for v in values[:limit])
    rest = len(values) - limit
    return f"{shown}, … ({rest} more)" if rest > 0 else shown


def close_match(name: str, options: Sequence[str]) -> str | None:
    """The option spelled most like ``name`` (case-insensitive first), or ``None``."""
    by_lower = {str(o).lower(): str(o) for o in options}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def did_you_mean(name: str, options: Sequence[str]) -> str:
    """``"; did you mean 'label'?"`` for the closest option (case-insensitive), else ``""``."""
    match = close_match(name, options)
    return f"; did you mean {match!r}?" if match is not None else ""


def shell_word(value: str) -> str:
    """``value`` as one word of a command line a user can paste (``opinion``, ``'my text'``)."""
    return shlex.quote(value)


def where_rows(rows: Sequence[int], lines: Sequence[int] | None = None) -> str:
    """``"rows 2, 5 and 9 (lines 3, 6, 10)"`` — the first few row numbers, then ``…``.

    ``rows`` count data records from 1 (the header is not a row); ``lines`` are the file's
    physical line numbers where each record starts, when the format has lines.
    """
    head = [str(r) for r in rows[:_SHOWN]]
    if len(rows) == 1:
        text = f"row {head[0]}"
    elif len(rows) <= _SHOWN:
        text = f"rows {', '.join(head[:-1])} and {head[-1]}"
    else:
        text = f"rows {', '.join(head)}, …"
    if lines:
        shown_lines = ", ".join(str(n) for n in lines[:_SHOWN])
        more = ", …" if len(lines) > _SHOWN else ""
        text += f" ({'line' if len(lines) == 1 else 'lines'} {shown_lines}{more})"
    return text


def where_indices(
    indices: Sequence[int], rows: Sequence[int], lines: Sequence[int] | None = None
) -> str:
    """:func:`where_rows` for the records at positions ``indices`` of ``rows``/``lines``."""
    shown = indices[: _SHOWN + 1]  # one more than shown, so that "…" appears when needed
    return where_rows(
        [rows[i] for i in shown], [lines[i] for i in shown] if lines is not None else None
    )
