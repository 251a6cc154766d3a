"""The ``>>>`` examples in rnnlab's docstrings run and print what they show.

Every module of ``src/rnnlab`` holding a ``>>>`` line is found and run with doctest
(ELLIPSIS and NORMALIZE_WHITESPACE on), in a fresh working directory so that examples may
write files. Examples that need a trained model train a tiny one on a few lines first, so
every example is self-contained.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def modules_with_examples() -> list[str]:
    """The dotted names of the modules whose source holds a ``>>>`` line."""
    found = []
    for path in sorted((SRC / "rnnlab").rglob("*.py")):
        if ">>>" not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(SRC).with_suffix("").parts
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


MODULES = modules_with_examples()


def test_the_examples_are_found() -> None:
    for name in ("rnnlab", "rnnlab.nn.layers", "rnnlab.nn.crf", "rnnlab.text", "rnnlab.text.vocab"):
        assert name in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    assert any(test.examples for test in tests), f"{name}: no examples found"
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    summary = f"{name}: {result.failed} of {result.attempted} failed\n"
    assert result.failed == 0, summary + "".join(report)
