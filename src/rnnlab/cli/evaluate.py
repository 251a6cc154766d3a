"""``rnnlab evaluate``: score a run on labelled data, with its task's evaluation.

The run's own test data refreshes ``RUN/metrics.json``; other data (``--data``) is written to
``RUN/evaluations/<name>/`` and never replaces the run's own record. Every data-reading flag
of ``rnnlab train <task>`` is accepted for that task's runs; one of another task is refused.
The run's own data is read in the encoding its ``config.toml`` records; other data in the
encoding detected from its first bytes (a one-line notice when it is not UTF-8), or
``--encoding``.

``--compare OTHER`` then tests the run against another run of the same task on the same data
with the task's own test (``Task.compare``; translation: paired bootstrap resampling of BLEU,
Koehn 2004), prints both scores, the difference and its p-value, and adds them to the
evaluation's ``metrics.json`` as ``compare_*`` keys; a task without one refuses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rnnlab.cli.common import (
    clean_errors,
    encoding_notice,
    err_console,
    out_console,
)
from rnnlab.cli.display import print_metrics
from rnnlab.cli.lazy import command_of
from rnnlab.cli.reading import reading_flags
from rnnlab.errors import RnnlabError

__all__ = ["EPILOG", "SHORT_HELP", "build", "evaluate"]

SHORT_HELP = "Evaluate a trained model on labelled data (its own test data by default)."


def build() -> Any:
    """The ``evaluate`` command, with the reading flags of every registered task."""
    return command_of(clean_errors(reading_flags()(evaluate)), "evaluate", EPILOG)


EPILOG = (
    "Examples:\n\n  rnnlab evaluate runs/imdb\n\n"
    "  rnnlab evaluate runs/x --data test.csv --text-col review\n\n"
    "  rnnlab evaluate runs/ner --data test.conllu --format conllu --name ud-test\n\n"
    "  rnnlab evaluate runs/de-en --compare runs/de-en-small   # paired bootstrap, BLEU"
)


def evaluate(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    data: Annotated[
        str | None,
        typer.Option(
            help="Labelled table, tagged file or dataset name (default: the run's test data)."
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Name of this evaluation under RUN/evaluations/ (default: from --data)."),
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(
            help="Another run of the same task: test RUN against it on the same data "
            "(translation: paired bootstrap resampling of BLEU)."
        ),
    ] = None,
    *,
    reading: dict[str, Any],
) -> None:
    """Evaluate a trained model on labelled data; writes RUN/metrics.json for its own test
    data, RUN/evaluations/NAME/metrics.json for other data."""
    from rnnlab.tasks.base import refuse_options, task_of_run

    task = task_of_run(run)
    options = dict(reading)
    refuse_options(task, list(options), task.read_options, "evaluate")
    comparing = _comparison_door(task, run, compare) if compare is not None else None
    if data is not None and "encoding" in task.read_options:
        # Other data is detected afresh, not read in the encoding recorded for the run's own.
        options.setdefault("encoding", "auto")
        _print_encoding_notice(data, options)
    result = task.evaluate(run, data, name=name, options=options)
    metrics = result.metrics
    print_metrics(task.name, metrics, f"metrics on {metrics['data']}", out_console)
    if comparing is not None:
        assert compare is not None
        comparison = comparing(run, compare, data, options=options)
        _print_comparison(comparison, run, compare)
        if result.directory is not None:
            _record_comparison(result.directory / "metrics.json", comparison)
    if result.directory is None:
        return
    out_console.print(f"wrote {result.directory / 'metrics.json'}")
    written = [str(result.report)] if result.report is not None else []
    if any((result.directory / "analysis").glob("*.csv")):
        written.append(f"{result.directory / 'analysis'}/*.csv")
    if written:
        out_console.print(f"wrote {' and '.join(written)}")


def _comparison_door(task: Any, run: Path, other: Path) -> Any:
    """The task's ``compare`` door, refused in one sentence for a task without one or for an
    ``other`` run of another task (checked before anything is evaluated)."""
    from rnnlab.errors import ConfigError
    from rnnlab.tasks.base import get_task, task_names, task_of_run

    door = task.door("compare")
    if door is None:
        able = [get_task(n).title + "s" for n in task_names() if get_task(n).compare is not None]
        raise ConfigError(
            f"--compare: {run} holds a {task.title}, whose runs have no paired comparison "
            f"(it works for {' and '.join(able) or 'no run'}); drop --compare."
        )
    found = task_of_run(other)
    if found is not task:
        raise ConfigError(
            f"--compare {other}: that run holds a {found.title}, not a {task.title} like "
            f"{run}; compare two runs of the same task."
        )
    return door


def _print_comparison(comparison: dict[str, Any], run: Path, other: Path) -> None:
    """Every number of the comparison, then its one-sentence summary where it has one."""
    from rnnlab.cli.display import print_flat_metrics

    data = comparison.get("data", "the same data")
    print_flat_metrics(comparison, f"{run} against {other} on {data}", out_console)
    if comparison.get("summary"):
        out_console.print(str(comparison["summary"]), highlight=False, soft_wrap=True)


def _record_comparison(path: Path, comparison: dict[str, Any]) -> None:
    """Add the comparison to the evaluation's ``metrics.json`` as flat ``compare_*`` keys
    (its summary sentence stays on the screen)."""
    import json

    from rnnlab.fileio import atomic_write_json

    metrics = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for key, value in comparison.items():
        if key != "summary":
            metrics[f"compare_{key}"] = value
    atomic_write_json(path, metrics)


def _print_encoding_notice(data: str, options: dict) -> None:
    """The one-line notice of ``train`` for a ``--data`` text table whose encoding is
    detected and not UTF-8 (nothing for dataset names, other formats, a given encoding)."""
    from rnnlab.data.encodings import AUTO, check_encoding, file_encoding
    from rnnlab.data.formats import TEXT_FORMATS, detect_format

    path = Path(data)
    if check_encoding(options["encoding"]) != AUTO or not path.is_file():
        return
    try:
        text_table = detect_format(path, options.get("format")) in TEXT_FORMATS
    except RnnlabError:  # not a table (a tagged file, …): its own reader reads it
        return
    if not text_table:
        return
    notice = encoding_notice({path: file_encoding(path)})
    if notice:
        err_console.print(notice, highlight=False, soft_wrap=True)
