"""``BatchProgressDisplay``: the progress of ``rnnlab predict`` on standard error.

On a terminal, one live line — rows done (of the total when the format knows it), rows/s,
elapsed and remaining time; elsewhere (a log file, a pipe) a plain line every
``log_every`` seconds, so logs show the job moving without a redraw per chunk::

    predict  ━━━━━━━━━━━━╸━━━━━━━  412,000/800,000 rows  3,912 rows/s  0:01:45  0:01:39

The display starts on the first report, so a job that fails before its first chunk prints
nothing but its error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rnnlab.deploy.batch_predict import BatchProgress, parts_dir

__all__ = ["BatchProgressDisplay"]


class BatchProgressDisplay:
    """Pass :meth:`update` as ``on_progress`` to
    :func:`rnnlab.deploy.batch_predict.predict_file`."""

    def __init__(self, console: Console, log_every: float = 10.0) -> None:
        self.console = console
        self.log_every = log_every
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._logged = 0.0
        self._started = False

    def update(self, info: BatchProgress) -> None:
        speed = f"{info.rows_per_s:,.0f}"
        if not self._started:
            self._started = True
            if info.resumed_rows:
                self.console.print(
                    f"resuming after {info.resumed_rows:,} committed rows", soft_wrap=True
                )
        if not self.console.is_terminal:
            now = time.monotonic()
            if now - self._logged >= self.log_every:
                self._logged = now
                of = f"/{info.total:,}" if info.total else ""
                self.console.print(
                    f"predict: {info.rows:,}{of} rows, {speed} rows/s", soft_wrap=True
                )
            return
        if self._progress is None:
            self._progress = Progress(
                TextColumn("[bold]predict"),
                BarColumn(),
                TextColumn("{task.completed:,.0f}{task.fields[of]} rows"),
                TextColumn("{task.fields[speed]} rows/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                "predict", total=info.total, of="", speed="-", completed=info.resumed_rows
            )
        assert self._task is not None
        self._progress.update(
            self._task,
            completed=info.rows,
            of=f"/{info.total:,}" if info.total else "",
            speed=speed,
        )

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


Result = TypeVar("Result")


def run_batch_job(
    console: Console, out: Path, job: Callable[[Callable[[BatchProgress], None]], Result]
) -> Result:
    """Run ``job(on_progress)`` with a progress bar on ``console``; on Ctrl-C, say where the
    finished chunks of ``out`` are kept and exit with status 130 (``--resume`` continues)."""
    import typer

    display = BatchProgressDisplay(console)
    try:
        return job(display.update)
    except KeyboardInterrupt:
        display.stop()
        console.print(
            f"interrupted; the finished chunks are kept in {parts_dir(out)}: run the same "
            "command with --resume to continue",
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    finally:
        display.stop()
