"""Every code example of README.md and docs/ runs (see tests/docs/harness.py).

One test per page, in a fresh directory holding the example files: a renamed flag, a
changed Python name or a wrong file name in a page's example fails that page's test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.harness import REPO, pages, run_page

PAGES = pages()


def _needed_but_missing(page: Path, missing: dict[str, str]) -> list[str]:
    """The example files that ``page`` names and that could not be written here."""
    text = page.read_text(encoding="utf-8")
    return sorted(name for name in missing if re.search(rf"(?<![\w/.-]){re.escape(name)}\b", text))


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(REPO).as_posix() for p in PAGES])
def test_page_examples_run(page: Path, example_dir: Path, example_cache) -> None:
    _, missing = example_cache
    needed = _needed_but_missing(page, missing)
    if needed:
        pytest.skip(
            f"its examples read {', '.join(needed)}, not written here: {missing[needed[0]]}"
        )
    run_page(page, example_dir, name=page.relative_to(REPO).as_posix(), missing=missing)


def test_pages_include_readme_and_guides_but_not_generated_ones() -> None:
    names = {p.relative_to(REPO).as_posix() for p in PAGES}
    assert "README.md" in names
    assert "docs/index.md" in names
    assert "docs/reliability.md" not in names
    assert not any(name.startswith("docs/reference/") for name in names)


def test_every_example_file_is_written(example_cache) -> None:
    directory, missing = example_cache
    expected = {
        "reviews.csv", "test.csv", "unlabelled.csv", "new.txt", "reviews_zh.csv",
        "tweets.conll", "tweets_test.conll", "corpus.txt", "corpus_valid.txt",
        "sales.csv", "sales_many.csv", "gunpoint_train.ts", "gunpoint_test.ts",
        "train.de", "train.en", "train.fr", "val.de", "val.en", "test.de", "test.en",
        "pairs.csv", "pairs.tsv",
    }  # fmt: skip
    written = {path.name for path in directory.iterdir()}
    assert expected - written <= set(missing), sorted(expected - written - set(missing))
    if missing:
        pytest.skip(f"not installed here, so not written: {sorted(missing)}")
