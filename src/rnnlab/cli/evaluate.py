"""``rnnlab evaluate``: score a run on labelled data, with its task's evaluation.

The run's own test data refreshes ``RUN/metrics.json``; other data (``--data``) is written to
``RUN/evaluations/<name>/`` and never replaces the run's own record. Every data-reading flag
of ``rnnlab train <task>`` is accepted for that task's runs; one of another task is refused.
The run's own data is read in the encoding its ``config.toml`` records; other data in the
encoding detected from its first bytes (a one-line notice when it is not UTF-8), or
``--encoding``.
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
    "  rnnlab evaluate runs/ner --data test.conllu --format conllu --name ud-test"
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
    *,
    reading: dict[str, Any],
) -> None:
    """Evaluate a trained model on labelled data; writes RUN/metrics.json for its own test
    data, RUN/evaluations/NAME/metrics.json for other data."""
    from rnnlab.tasks.base import refuse_options, task_of_run

    task = task_of_run(run)
    options = dict(reading)
    refuse_options(task, list(options), task.read_options, "evaluate")
    if data is not None and "encoding" in task.read_options:
        # Other data is detected afresh, not read in the encoding recorded for the run's own.
        options.setdefault("encoding", "auto")
        _print_encoding_notice(data, options)
    result = task.evaluate(run, data, name=name, options=options)
    metrics = result.metrics
    print_metrics(task.name, metrics, f"metrics on {metrics['data']}", out_console)
    if result.directory is None:
        return
    out_console.print(f"wrote {result.directory / 'metrics.json'}")
    written = [str(result.report)] if result.report is not None else []
    if any((result.directory / "analysis").glob("*.csv")):
        written.append(f"{result.directory / 'analysis'}/*.csv")
    if written:
        out_console.print(f"wrote {' and '.join(written)}")


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
