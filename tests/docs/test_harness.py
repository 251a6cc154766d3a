"""The example harness itself: parsing, order, namespaces, skips and failure messages."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.docs.harness import PageFailure, parse_blocks, run_page


def _page(tmp_path: Path, text: str, name: str = "page.md") -> Path:
    page = tmp_path / name
    page.write_text(text, encoding="utf-8")
    return page


def test_parse_blocks_keeps_order_language_line_and_skip_reason() -> None:
    text = (
        "# Title\n\n```bash\necho one\n```\n\n<!-- docs-test: skip (needs a server) -->\n"
        "```python\nraise SystemExit(1)\n```\n\n````text\n```bash\nnot a block\n```\n````\n"
        "- item\n\n  ```python\n  x = 1\n  ```\n"
    )
    blocks = parse_blocks(text)
    assert [(b.language, b.line, b.skip) for b in blocks] == [
        ("bash", 3, None),
        ("python", 8, "needs a server"),
        ("text", 12, None),
        ("python", 19, None),
    ]
    assert blocks[3].code == "x = 1\n"
    assert [b.runs for b in blocks] == [True, False, False, True]


def test_skip_marker_without_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="needs its reason"):
        parse_blocks("<!-- docs-test: skip -->\n```bash\ntrue\n```\n")


def test_page_without_blocks_passes(tmp_path: Path) -> None:
    page = _page(tmp_path, "# Only prose\n\nNothing to run here.\n")
    assert run_page(page, tmp_path) == []


def test_blocks_share_directory_and_python_namespace(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        "```bash\nprintf 'a\\nb\\n' > lines.txt\n```\n"
        "```python\nlines = open('lines.txt').read().split()\n```\n"
        "```text\nshown, not run\n```\n"
        "<!-- docs-test: skip (would fail) -->\n```bash\nexit 3\n```\n"
        "```python\nassert lines == ['a', 'b'], lines\n```\n",
    )
    ran = run_page(page, tmp_path)
    assert [b.line for b in ran] == [1, 4, 14]


def test_bash_runs_with_pipefail_and_the_environment_python(tmp_path: Path) -> None:
    page = _page(tmp_path, "```bash\nfalse | cat\necho unreachable\n```\n")
    with pytest.raises(PageFailure, match="exited with status 1"):
        run_page(page, tmp_path)
    page = _page(tmp_path, "```bash\npython -c 'import rnnlab' && command -v rnnlab\n```\n")
    run_page(page, tmp_path)


def test_renamed_flag_fails_the_page_naming_page_line_and_output(
    tmp_path: Path, example_dir: Path
) -> None:
    """The point of the harness: a page whose example uses a flag the command no longer
    has (--hidden-sise for --hidden-size) fails, and says where and why."""
    page = _page(
        tmp_path,
        "# Classify\n\nTrain:\n\n"
        "```bash\nrnnlab train classify --data reviews.csv --hidden-sise 8 --epochs 1 \\\n"
        "  --out runs/x\n```\n",
        "classify.md",
    )
    with pytest.raises(PageFailure) as failure:
        run_page(page, example_dir, name="docs/guides/classify.md")
    message = str(failure.value)
    assert "docs/guides/classify.md: the bash block at line 5 exited with status 2" in message
    assert "--hidden-sise" in message
    assert not (example_dir / "runs/x").exists()


def test_changed_python_name_fails_the_page(tmp_path: Path) -> None:
    page = _page(
        tmp_path, "```python\nimport rnnlab\n```\n\n```python\nrnnlab.TextClassifer\n```\n"
    )
    expected = r"(?s)page.md: the python block at line 5 raised.*TextClassifer"
    with pytest.raises(PageFailure, match=expected):
        run_page(page, tmp_path)


def test_example_files_hold_what_the_pages_are_promised(example_cache) -> None:
    directory, missing = example_cache
    with (directory / "reviews.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 200 and {r["label"] for r in rows} == {"pos", "neg"}
    assert sum(r["label"] == "pos" for r in rows) == 100
    with (directory / "test.csv").open(encoding="utf-8", newline="") as handle:
        test_texts = {r["text"] for r in csv.DictReader(handle)}
    assert len(test_texts) == 80 and not test_texts & {r["text"] for r in rows}
    assert len((directory / "new.txt").read_text(encoding="utf-8").splitlines()) == 10
    tweets = (directory / "tweets.conll").read_text(encoding="utf-8").strip().split("\n\n")
    assert len(tweets) == 200
    assert all(len(line.split("\t")) == 2 for t in tweets for line in t.splitlines())
    assert len((directory / "corpus.txt").read_text(encoding="utf-8").splitlines()) == 2000
    sales = (directory / "sales.csv").read_text(encoding="utf-8").splitlines()
    assert sales[:2] == ["date,value", "1949-01-01,112"] and len(sales) == 145
    if "train.de" not in missing:
        de = (directory / "train.de").read_text(encoding="utf-8").splitlines()
        en = (directory / "train.en").read_text(encoding="utf-8").splitlines()
        assert len(de) == len(en) == 300
        assert len((directory / "pairs.tsv").read_text(encoding="utf-8").splitlines()) == 20
