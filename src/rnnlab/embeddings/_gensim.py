"""Import gensim on demand, with a message naming the ``pip install`` that provides it."""

from __future__ import annotations

from types import ModuleType

from rnnlab.errors import MissingDependencyError

__all__ = ["require_gensim"]

_FIX = "pip install gensim"


def require_gensim(purpose: str) -> ModuleType:
    """The ``gensim`` module; :class:`MissingDependencyError` when it is not installed."""
    try:
        import gensim
    except ImportError:
        raise MissingDependencyError(
            f"{purpose} needs the package 'gensim', which is not installed; install it with: {_FIX}"
        ) from None
    return gensim
