"""One error hierarchy for the whole package.

Every message names the argument (or file, line, column), what was expected, what arrived,
and, where there is one, the fix. Errors derive from the built-in class a caller would
naturally catch (``ValueError`` for bad values, ``FileNotFoundError`` for missing files), so
``except ValueError`` keeps working, and from :class:`RnnlabError`, so the command line can
turn any of them into one clear sentence and a non-zero exit.
"""

from __future__ import annotations

import operator

__all__ = [
    "ConfigError",
    "DataError",
    "MissingDependencyError",
    "RnnlabError",
    "RnnlabFileNotFoundError",
    "ShapeError",
    "ValueRangeError",
    "require_int",
]


class RnnlabError(Exception):
    """Base class of every error rnnlab raises on purpose (bad input, bad configuration)."""


class ShapeError(RnnlabError, ValueError):
    """A tensor or sequence has the wrong rank, size or count."""


class ValueRangeError(RnnlabError, ValueError):
    """A number lies outside its allowed range (a probability, a length, a count)."""


class ConfigError(RnnlabError, ValueError):
    """A configuration key is unknown, or its value has the wrong type or range."""


class DataError(RnnlabError, ValueError):
    """An input table or file is malformed: unknown column, empty text, bad bytes, bad label."""


class RnnlabFileNotFoundError(RnnlabError, FileNotFoundError):
    """A file or run directory the user named does not exist."""


class WriteError(RnnlabError, OSError):
    """A file could not be written: a full disk, a read-only place, no permission."""


class MissingDependencyError(RnnlabError, ImportError):
    """An optional package is needed; the message names the ``pip install`` that fixes it."""


def require_int(name: str, value: object, low: int, fix: str) -> int:
    """``value`` as an ``int`` when it is an integer ≥ ``low`` (NumPy integers included,
    booleans not); otherwise a :class:`ValueRangeError` naming ``name`` and the ``fix``."""
    try:
        number = None if isinstance(value, bool) else operator.index(value)  # type: ignore[arg-type]
    except TypeError:  # floats, strings, None
        number = None
    if number is None or number < low:
        raise ValueRangeError(f"{name}: expected an integer >= {low}, got {value!r}; {fix}.")
    return number
