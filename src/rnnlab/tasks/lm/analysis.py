"""What a language-model run's report shows beyond its files: the prompt it continues and
the validation text whose surprisal it plots, chosen once at training time and saved in
``RUN/analysis/examples.json`` so that the report renders again with the same ones."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rnnlab.explain.lm_report import write_lm_report
from rnnlab.explain.page import EXAMPLES_FILE, optional_report
from rnnlab.fileio import atomic_write_json

__all__ = [
    "choose_examples",
    "examples_writer",
    "has_examples",
    "save_examples",
    "write_run_report",
]

ANALYSIS_DIR = "analysis"
# A text short enough for its surprisal plot to be read token by token.
_TOKENS = (8, 40)
_PROMPT_WORDS = 3
_PROMPT_CHARS = 8  # text without spaces (Chinese at character level)


def choose_examples(lines: Sequence[str], tokenize: Callable[[str], list[str]]) -> dict[str, str]:
    """The first line of 8–40 tokens as the surprisal text (else the first non-blank line)
    and its beginning through the third word (or its first eight characters, for text
    without spaces) as the prompt; empty when there are no lines.

    Lines are kept exactly as the corpus has them (PTB's begin with a space): a character
    model has learnt what follows a line break, and a stripped line would surprise it."""
    texts = [line for line in lines if line.strip()]
    if not texts:
        return {}
    low, high = _TOKENS
    text = next((t for t in texts if low <= len(tokenize(t)) <= high), texts[0])
    words = re.match(rf"\s*(?:\S+\s+){{{_PROMPT_WORDS - 1}}}\S+", text)
    many = len(text.split()) > _PROMPT_WORDS
    prompt = words.group(0) if words and many else text[:_PROMPT_CHARS]
    return {"prompt": prompt, "text": text}


def save_examples(run_dir: str | Path, examples: dict[str, str]) -> None:
    """``RUN/analysis/examples.json``, written atomically."""
    atomic_write_json(Path(run_dir) / ANALYSIS_DIR / EXAMPLES_FILE, examples)


def examples_writer(examples: dict[str, str]) -> Callable[[Path], None]:
    """The run writer's analysis hook (:mod:`rnnlab.tasks.run_writer`): writes ``examples``
    as ``examples.json`` into the ``analysis/`` folder it is given."""

    def write(folder: Path) -> None:
        atomic_write_json(Path(folder) / EXAMPLES_FILE, examples)

    return write


def has_examples(run_dir: str | Path) -> bool:
    """Whether the run has saved what its report shows (runs trained before it did not)."""
    return (Path(run_dir) / ANALYSIS_DIR / EXAMPLES_FILE).is_file()


def write_run_report(run_dir: str | Path, predictor: Any) -> Path | None:
    """``RUN/report.html`` from the run's files; None when matplotlib is not installed."""
    return optional_report(write_lm_report, run_dir, predictor)
