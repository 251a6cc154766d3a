"""Fixtures of the documentation tests: the example files, written once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.docs.harness import write_example_files


@pytest.fixture(scope="session")
def example_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The example files, written once from the installed packages: their directory and
    name → why for those whose source is not installed here."""
    directory = tmp_path_factory.mktemp("example-files")
    return directory, write_example_files(directory)


@pytest.fixture
def example_dir(tmp_path: Path, example_cache: tuple[Path, dict[str, str]]) -> Path:
    """A fresh working directory holding a copy of every example file (copies, so that a
    page that changes a file leaves the next page's untouched)."""
    cache, _ = example_cache
    for path in cache.iterdir():
        shutil.copy2(path, tmp_path / path.name)
    return tmp_path
