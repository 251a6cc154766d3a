"""What every command shares: the consoles, the error wrapper, flags → config keys, and the
start of every ``train`` command (:func:`run_config`: the run directory is checked, the data
files' encodings resolved) with :func:`replacing_run` around its training.

Every command exits non-zero with one clear sentence on bad input (no traceback); set
``RNNLAB_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from rnnlab.cli.flags import typed_flags
from rnnlab.errors import ConfigError, RnnlabError

__all__ = [
    "clean_errors",
    "encoding_notice",
    "err_console",
    "out_console",
    "overrides",
    "refuse_flags",
    "refuse_task",
    "replacing_run",
    "resolve_reading",
    "run_config",
]

out_console = Console(soft_wrap=True)  # paths and results never folded mid-line
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def clean_errors(command: F) -> F:
    """Turn rnnlab's errors into one line on stderr and exit status 2; Ctrl-C into 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RnnlabError as exc:
            if os.environ.get("RNNLAB_DEBUG"):
                raise
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            resumable = command.__name__.startswith("train")
            err_console.print(
                "interrupted; continue with the same command and --resume"
                if resumable
                else "interrupted"
            )
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def overrides(**flags: Any) -> dict[str, Any]:
    """CLI flags that were given, as dotted config keys (flags win over the config file)."""
    return {key.replace("__", "."): value for key, value in flags.items() if value is not None}


def refuse_flags(flags: dict[str, bool], why: str, instead: str = "") -> None:
    """Stop with one sentence when any of ``flags`` (flag → given) was given where it has
    no effect: which flags, ``why`` not, and to drop them (``instead``: or what else)."""
    given = [flag for flag, used in flags.items() if used]
    if given:
        them = "it" if len(given) == 1 else "them"
        raise ConfigError(f"{', '.join(given)}: not supported {why}; drop {them}{instead}.")


def run_config(
    config_type: Any,
    config: Path | None,
    out: Path,
    resume: bool,
    flags: dict[str, Any],
    overwrite: bool = False,
    spoken: dict[str, str] | None = None,
) -> Any:
    """The configuration of a training run: ``--config`` (or, resuming without one, the
    run's own ``config.toml``), then the flags on top (``spoken``: the flag each key came
    from, named in errors; default: the key's last part), with the data files' encodings
    resolved (:func:`resolve_reading`; a one-line notice when one is not UTF-8).

    First of all, ``out`` holding a run already is refused unless ``resume`` or
    ``overwrite`` says what to do with it (:func:`~rnnlab.runs.check_run_target`); with
    ``overwrite``, a data file inside ``out`` (which the replacement would remove) too."""
    from rnnlab.runs import check_run_target

    check_run_target(out, resume=resume, overwrite=overwrite)
    base = config_type.from_toml(config) if config else config_type()
    if resume and config is None and (out / "config.toml").exists():
        base = config_type.from_toml(out / "config.toml")
    resolved = base.merge(flags, typed_flags(flags) if spoken is None else spoken)
    if overwrite:
        _refuse_data_inside(resolved, out)
    resolved, notices = resolve_reading(resolved)
    for notice in notices:
        err_console.print(notice, highlight=False, soft_wrap=True)
    return resolved


@contextmanager
def replacing_run(out: Path, overwrite: bool) -> Iterator[None]:
    """Train inside the block; with ``overwrite``, the run ``out`` holds is replaced only
    when the block finishes (:func:`rnnlab.runs.replacing_run`). Interrupted, it says that
    ``out`` holds its old run again (there is nothing to ``--resume``)."""
    from rnnlab.runs import replacing_run as replacing
    from rnnlab.runs import run_contents

    replaces = overwrite and bool(run_contents(out))
    try:
        with replacing(out, overwrite):
            yield
    except KeyboardInterrupt:
        if not replaces:
            raise
        err_console.print(
            f"interrupted; {out} holds the run it held before (--overwrite replaces it only "
            "when the new run finishes)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None


_DATA_KEYS = ("data", "valid", "test")


def _data_files(data: Any) -> list[Path]:
    """The files (not dataset names) a ``[data]`` section reads."""
    paths = (str(getattr(data, key, "") or "") for key in _DATA_KEYS)
    return [Path(p) for p in dict.fromkeys(paths) if p and Path(p).is_file()]


def _refuse_data_inside(config: Any, out: Path) -> None:
    target = out.resolve()
    for path in _data_files(getattr(config, "data", None)):
        if target in path.resolve().parents:
            raise ConfigError(
                f"--overwrite would remove {path}, a data file of this run that lies inside "
                f"{out}; move it out first, or choose another --out."
            )


def resolve_reading(config: Any) -> tuple[Any, list[str]]:
    """``config`` with its ``[data]`` reading options settled for its files, and the notices
    to print. Applies to tasks whose ``[data]`` section has an ``encoding`` (others pass
    through unchanged).

    - ``encoding = "auto"``: each text table's encoding is detected from its first bytes;
      when the files agree, the name found is recorded in the config (a resumed run reads the
      same), and a file that is not UTF-8 gets a notice. Files in different encodings keep
      ``"auto"``: each is detected again when read.
    - A given encoding is checked — a known name, and one that decodes the start of every
      text table (:func:`~rnnlab.data.encodings.check_sample`) — and written by its
      canonical name (``GBK`` → ``gbk``).
    - ``encoding``, ``delimiter`` or ``sheet`` given where none of the files has what it
      applies to (text tables, CSV/TSV tables, workbooks) is refused in one sentence.
    """
    from rnnlab.data.encodings import AUTO, check_encoding, check_sample, file_encoding
    from rnnlab.data.formats import TEXT_FORMATS, check_delimiter, detect_format

    data = getattr(config, "data", None)
    if data is None or not hasattr(data, "encoding"):
        return config, []
    files = _data_files(data)
    formats = {path: detect_format(path, getattr(data, "format", "") or None) for path in files}
    encoding = check_encoding(data.encoding)
    given = {
        "--encoding": (encoding != AUTO, TEXT_FORMATS, "text table (CSV, TSV, JSONL)"),
        "--delimiter": (
            check_delimiter(getattr(data, "delimiter", AUTO)) is not None,
            ("csv", "tsv"),
            "CSV or TSV table",
        ),
        "--sheet": (bool(getattr(data, "sheet", "")), ("xlsx",), "workbook (.xlsx)"),
    }
    for flag, (used, kinds, what) in given.items():
        if used and not any(fmt in kinds for fmt in formats.values()):
            raise ConfigError(
                f"{flag}: none of this run's data is a {what}, so it has nothing to apply to; "
                "drop it."
            )
    text_files = [path for path, fmt in formats.items() if fmt in TEXT_FORMATS]
    if encoding != AUTO:
        for path in text_files:
            check_sample(path, encoding)
        return config.merge({"data.encoding": encoding}), []
    if not text_files:
        return config, []
    found = {path: file_encoding(path) for path in text_files}
    notice = encoding_notice(found)
    if len(set(found.values())) == 1:
        config = config.merge({"data.encoding": next(iter(found.values()))})
    return config, [notice] if notice else []


def encoding_notice(found: dict[Path, str]) -> str:
    """One line naming the files whose detected encoding is not UTF-8, ``""`` when none."""
    from rnnlab.data.encodings import is_utf8

    others = [f"{path} as {name}" for path, name in found.items() if not is_utf8(name)]
    if not others:
        return ""
    return (
        f"reading {', '.join(others)} (detected from the first bytes; pass --encoding to "
        "choose another)"
    )


def refuse_task(run: Path, command: str, supports: Callable[[Any], bool]) -> Any:
    """The task of ``run``; one sentence when ``command`` does not work with it
    (``supports(task)`` false), naming the kinds of run it does work with."""
    from rnnlab.tasks.base import get_task, task_names, task_of_run

    task = task_of_run(run)
    if not supports(task):
        able = [get_task(name).title for name in task_names() if supports(get_task(name))]
        raise ConfigError(
            f"rnnlab {command} {run}: the run holds a {task.title}, and {command} works with "
            f"{' and '.join(t + 's' for t in able) or 'no run'} only; label its inputs with "
            "rnnlab predict instead."
        )
    return task
