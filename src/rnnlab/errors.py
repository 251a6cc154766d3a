"""One error hierarchy for the whole package.

Every message names the argument (or file, line, column), what was expected, what arrived,
and, where there is one, the fix. Errors derive from the built-in class a caller would
naturally catch (``ValueError`` for bad values, ``FileNotFoundError`` for missing files), so
``except ValueError`` keeps working, and from :class:`RnnlabError`, so the command line can
turn any of them into one clear sentence and a non-zero exit.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "MissingDependencyError",
    "RnnlabError",
    "RnnlabFileNotFoundError",
    "ShapeError",
    "ValueRangeError",
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


class MissingDependencyError(RnnlabError, ImportError):
    """An optional package is needed; the message names the ``pip install`` that fixes it."""
