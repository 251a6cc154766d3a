"""Run the code examples of a Markdown page, in order, the way a reader would.

A page's fenced blocks run in document order in one working directory: ```` ```bash ````
blocks with ``bash -euo pipefail -c`` (the interpreter's bin directory first on PATH, so
``rnnlab`` and ``python`` are this environment's), ```` ```python ```` blocks in this
interpreter, all blocks of a page in one namespace. Blocks in any other language are shown,
not run. A block directly preceded by ``<!-- docs-test: skip (reason) -->`` is not run. The
first block that fails stops the page with :class:`PageFailure`, whose message names the
page, the line of the block and the end of its output.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "REPO",
    "RUNNABLE",
    "Block",
    "PageFailure",
    "example_writers",
    "pages",
    "parse_blocks",
    "run_page",
    "write_example_files",
]

REPO = Path(__file__).resolve().parents[2]
RUNNABLE = ("bash", "python")
# Pages whose blocks are not examples: generated reference pages, the generated reliability
# table (no code blocks).
NOT_EXAMPLES = ("docs/reference/", "docs/reliability.md")
BLOCK_TIMEOUT_S = 600
OUTPUT_TAIL_LINES = 40

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
_SKIP = re.compile(r"^\s*<!--\s*docs-test:\s*skip\b(?P<rest>.*?)-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its language (first word of the info string), its code, the
    1-based line of its opening fence, and why it is skipped (None: it runs)."""

    language: str
    code: str
    line: int
    skip: str | None = None

    @property
    def runs(self) -> bool:
        return self.language in RUNNABLE and self.skip is None


class PageFailure(AssertionError):
    """A block of a page failed; the message names the page, the block's line and the tail
    of its output."""


def pages(repo: Path = REPO) -> list[Path]:
    """README.md and every page under docs/ whose blocks are examples, in a stable order."""
    found = [repo / "README.md"] if (repo / "README.md").is_file() else []
    for page in sorted((repo / "docs").rglob("*.md")):
        relative = page.relative_to(repo).as_posix()
        if not relative.startswith(NOT_EXAMPLES[0]) and relative != NOT_EXAMPLES[1]:
            found.append(page)
    return found


def parse_blocks(text: str, page: str = "<page>") -> list[Block]:
    """The fenced blocks of Markdown ``text`` in document order.

    A fence closes on a line holding the same character at least as many times; the block's
    lines lose the opening fence's indentation (blocks inside list items). A skip marker
    must give its reason in parentheses.
    """
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"]
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            closing = _FENCE.match(lines[i])
            if (
                closing is not None
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"]
            ):
                break
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        language = info.split()[0].strip("{}.").lower() if info.split() else ""
        skip = _skip_reason(lines, start, page)
        blocks.append(Block(language, "\n".join(body) + "\n", start + 1, skip))
    return blocks


def _skip_reason(lines: list[str], fence: int, page: str) -> str | None:
    """The reason of a skip marker on the last non-blank line above the fence, if any."""
    j = fence - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0:
        return None
    match = _SKIP.match(lines[j])
    if match is None:
        return None
    reason = re.fullmatch(r"\s*\((?P<reason>.+)\)\s*", match["rest"])
    if reason is None:
        raise ValueError(
            f"{page} line {j + 1}: a skip marker needs its reason: "
            "<!-- docs-test: skip (why this block cannot run in a test) -->"
        )
    return reason["reason"].strip()


def example_writers() -> dict[str, Callable[[Path], None]]:
    """File name → writer, from ``FILES`` of every ``tests/docs/example_files*.py``."""
    writers: dict[str, Callable[[Path], None]] = {}
    owner: dict[str, str] = {}
    for path in sorted(Path(__file__).parent.glob("example_files*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        for name, write in module.FILES.items():
            if name in writers:
                raise ValueError(f"{name} is written by both {owner[name]} and {path.name}")
            writers[name], owner[name] = write, path.name
    return writers


def write_example_files(directory: Path) -> dict[str, str]:
    """Write every example file into ``directory``; returns name → why, for the files whose
    package or data is not installed here (those pages then fail naming the file)."""
    from tests.docs.example_files import MissingSource

    missing = {}
    directory.mkdir(parents=True, exist_ok=True)
    for name, write in example_writers().items():
        try:
            write(directory)
        except MissingSource as exc:
            missing[name] = str(exc)
        if name not in missing and not (directory / name).is_file():
            raise AssertionError(f"the writer of {name} did not write it")
    return missing


def environment() -> dict[str, str]:
    """The environment of bash blocks: this interpreter's bin first on PATH, the local
    Multi30K copy as RNNLAB_MULTI30K when there is one, no colours, a fixed width."""
    from tests.docs.example_files import multi30k_root

    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "100"
    env["PYTHONUNBUFFERED"] = "1"
    root = multi30k_root()
    if root is not None:
        env["RNNLAB_MULTI30K"] = str(root)
    return env


def _tail(output: str) -> str:
    lines = output.rstrip().splitlines()
    return "\n".join(lines[-OUTPUT_TAIL_LINES:]) or "(no output)"


def _failure(page: str, block: Block, why: str, output: str, missing: dict[str, str]) -> str:
    message = f"{page}: the {block.language} block at line {block.line} {why}\n"
    message += f"--- end of its output ---\n{_tail(output)}"
    if missing:
        listed = "; ".join(f"{name} ({why})" for name, why in sorted(missing.items()))
        message += f"\n--- example files not available here: {listed}"
    return message


def _run_bash(block: Block, directory: Path, env: dict[str, str]) -> tuple[str | None, str]:
    """Run a bash block in its own process group, so that a block that overruns its time
    (or a test run that is interrupted) leaves none of its commands running."""
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", block.code],
        cwd=directory,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=BLOCK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return f"did not finish in {BLOCK_TIMEOUT_S} s", output
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return (None if process.returncode == 0 else f"exited with status {process.returncode}"), output


def _run_python(
    block: Block, page: str, namespace: dict, directory: Path
) -> tuple[str | None, str]:
    buffer = io.StringIO()
    code = compile(block.code, f"{page}:{block.line}", "exec")
    previous = Path.cwd()
    try:
        os.chdir(directory)
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            exec(code, namespace)
    except BaseException as exc:  # any error, SystemExit included, fails the page
        if isinstance(exc, KeyboardInterrupt):
            raise
        return "raised an exception", buffer.getvalue() + "".join(traceback.format_exception(exc))
    finally:
        os.chdir(previous)
    return None, buffer.getvalue()


def run_page(
    page: Path, directory: Path, *, name: str | None = None, missing: dict[str, str] | None = None
) -> list[Block]:
    """Run the blocks of ``page`` in order in ``directory``; raise :class:`PageFailure` at
    the first that fails. Returns the blocks that ran."""
    name = name or page.name
    blocks = parse_blocks(page.read_text(encoding="utf-8"), name)
    env = environment()
    namespace: dict = {"__name__": "__main__", "__file__": str(directory / "example.py")}
    ran = []
    saved = os.environ.get("RNNLAB_MULTI30K")
    if "RNNLAB_MULTI30K" in env:
        os.environ["RNNLAB_MULTI30K"] = env["RNNLAB_MULTI30K"]
    try:
        for block in blocks:
            if not block.runs:
                continue
            if block.language == "bash":
                why, output = _run_bash(block, directory, env)
            else:
                why, output = _run_python(block, name, namespace, directory)
            if why is not None:
                raise PageFailure(_failure(name, block, why, output, missing or {}))
            ran.append(block)
    finally:
        if saved is None:
            os.environ.pop("RNNLAB_MULTI30K", None)
        else:
            os.environ["RNNLAB_MULTI30K"] = saved
    return ran
