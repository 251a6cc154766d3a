"""The tally behind docs/reliability.md: every kind of bad input or fault a reliability test
tries, how many times, and how each try ended.

A test wraps each try in ``tried(kind, what)``: a result or an :class:`~rnnlab.errors.RnnlabError`
is counted (as ``result`` or ``clear error``); any other exception propagates and fails the
test. With ``RNNLAB_RELIABILITY_OUT`` set, the tally is written there as JSON when the session
ends (``python tools/reliability_table.py`` runs the tests that way and renders the table), so
the table cannot drift from the tests.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from rnnlab.errors import RnnlabError

__all__ = ["TALLY", "tried", "write_tally"]

# kind → {"what": description, "outcomes": {outcome: count}}
TALLY: dict[str, dict] = defaultdict(lambda: {"what": "", "outcomes": defaultdict(int)})


@contextlib.contextmanager
def tried(kind: str, what: str) -> Iterator[None]:
    """Count one try of ``kind``: a clean return is a result, an RnnlabError a clear error
    (it must be one sentence: non-empty, no newline, ending in a full stop)."""
    entry = TALLY[kind]
    entry["what"] = what
    try:
        yield
    except RnnlabError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), f"{kind}: not one sentence: {message!r}"
        entry["outcomes"]["clear error"] += 1
        return
    entry["outcomes"]["result"] += 1


def record(kind: str, what: str, outcome: str, count: int = 1) -> None:
    """Count ``count`` tries of ``kind`` that ended in ``outcome`` (for faults that are not
    exceptions: a resumed run, a server that stayed up)."""
    entry = TALLY[kind]
    entry["what"] = what
    entry["outcomes"][outcome] += count


def write_tally() -> None:
    path = os.environ.get("RNNLAB_RELIABILITY_OUT")
    if not path or not TALLY:
        return
    data = {k: {"what": v["what"], "outcomes": dict(v["outcomes"])} for k, v in TALLY.items()}
    previous = json.loads(Path(path).read_text()) if Path(path).exists() else {}
    previous.update(data)
    Path(path).write_text(json.dumps(previous, indent=1, sort_keys=True), encoding="utf-8")
