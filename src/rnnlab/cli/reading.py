"""The data-reading flags of ``evaluate`` and ``predict``, written from the tasks' configs.

A run is read with its own task's reading options (``Task.read_options``: columns, formats,
encodings, schemes); ``evaluate`` and ``predict`` do not know the task until they open the
run, so both offer the union of every registered task's, and refuse in one sentence those the
run's task does not use (:func:`rnnlab.tasks.base.refuse_options`). Each flag, its type and
its help are those ``rnnlab train`` writes for the same ``[data]`` key (``data.text_col`` →
``--text-col``), so a new task's reading options need no edit here.

:func:`reading_flags` adds them to a command and hands it the ones given as one dict::

    @reading_flags(help={"scheme": "Tagging runs: write tags as …"})
    def predict(run: Path, ..., reading: dict[str, Any]) -> None: ...
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

__all__ = ["ReadingFlag", "reading_flags", "task_reading_flags"]


@dataclass(frozen=True)
class ReadingFlag:
    """One ``[data]`` reading key as a flag: its key, its spelling (as ``rnnlab train``
    writes it), its type and help."""

    key: str
    decls: str
    kind: type
    help: str

    @property
    def flag(self) -> str:
        return self.decls.split("/")[0]


def task_reading_flags() -> list[ReadingFlag]:
    """The reading options of every registered task (``Task.read_options`` and
    ``predict_options``), each spelt as its train command spells it. Where tasks explain one
    key differently (``--format``: tables for a classifier, CoNLL for a tagger), the help
    names each task's meaning.

    Raises:
        TypeError: two tasks spell one key differently (fix one task's config).
    """
    from rnnlab.cli.config_flags import config_flags
    from rnnlab.tasks.base import get_task, task_names

    found: dict[str, ReadingFlag] = {}
    meanings: dict[str, dict[str, list[str]]] = {}
    for name in task_names():
        task = get_task(name)
        options = {o.key: o for o in config_flags(task.config_type) if not o.hidden}
        for key in dict.fromkeys((*task.read_options, *task.predict_options)):
            option = options[f"data.{key}"]
            # The training default is not the default here: a run reads as it was trained.
            text = re.sub(r" \[default: [^\]]*\]$", "", option.help)
            flag = ReadingFlag(key, option.decls, option.kind, text)
            known = found.setdefault(key, flag)
            if known.decls != flag.decls:
                raise TypeError(f"--{key}: spelt {known.decls} and {flag.decls} by two tasks")
            meanings.setdefault(key, {}).setdefault(text, []).append(task.title)
    for key, helps in meanings.items():
        if len(helps) > 1:
            text = (
                "; ".join(
                    f"{', '.join(t + 's' for t in titles)}: {h.rstrip('.')}"
                    for h, titles in helps.items()
                )
                + "."
            )
            found[key] = ReadingFlag(key, found[key].decls, found[key].kind, text)
    return list(found.values())


def _parameter(flag: ReadingFlag, help: str) -> inspect.Parameter:
    return inspect.Parameter(
        flag.key,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[flag.kind | None, typer.Option(flag.decls, help=help)],
    )


def reading_flags(
    help: dict[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the command gains every reading flag (``help`` replaces the help lines
    that say something else for it) and receives those given as ``reading`` (config key →
    value; a ``--skip-empty`` not given is absent, not False)."""
    replaced = help or {}

    def wrap(command: Callable[..., Any]) -> Callable[..., Any]:
        flags = task_reading_flags()
        own = inspect.signature(command, eval_str=True)  # typer reads the objects, not text
        kept = [p for name, p in own.parameters.items() if name != "reading"]
        added = [_parameter(f, replaced.get(f.key, f.help)) for f in flags]

        @functools.wraps(command)
        def with_reading(**given: Any) -> Any:
            reading = {}
            for flag in flags:
                value = given.pop(flag.key, None)
                if value is not None and value is not False:
                    reading[flag.key] = value
            return command(**given, reading=reading)

        with_reading.__signature__ = own.replace(parameters=kept + added)  # type: ignore[attr-defined]
        return with_reading

    return wrap
