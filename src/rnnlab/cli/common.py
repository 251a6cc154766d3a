"""What every command shares: the consoles, the error wrapper, flags → config keys.

Every command exits non-zero with one clear sentence on bad input (no traceback); set
``RNNLAB_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from rnnlab.errors import ConfigError, RnnlabError

__all__ = [
    "clean_errors",
    "err_console",
    "given_options",
    "out_console",
    "overrides",
    "refuse_flags",
    "refuse_task",
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


def given_options(**flags: Any) -> dict[str, Any]:
    """Data-reading flags that were given (``text_col="review"``), by config key."""
    return {key: value for key, value in flags.items() if value is not None}


def refuse_flags(flags: dict[str, bool], why: str, instead: str = "") -> None:
    """Stop with one sentence when any of ``flags`` (flag → given) was given where it has
    no effect: which flags, ``why`` not, and to drop them (``instead``: or what else)."""
    given = [flag for flag, used in flags.items() if used]
    if given:
        them = "it" if len(given) == 1 else "them"
        raise ConfigError(f"{', '.join(given)}: not supported {why}; drop {them}{instead}.")


def run_config(
    config_type: Any, config: Path | None, out: Path, resume: bool, flags: dict[str, Any]
) -> Any:
    """The configuration of a training run: ``--config`` (or, resuming without one, the
    run's own ``config.toml``), then the flags on top."""
    base = config_type.from_toml(config) if config else config_type()
    if resume and config is None and (out / "config.toml").exists():
        base = config_type.from_toml(out / "config.toml")
    return base.merge(flags)


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
