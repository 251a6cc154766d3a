"""``RichProgress``: the training progress display (a Trainer callback, drawn with rich).

One bar per epoch — epoch, step/total, running mean loss, tokens/s, elapsed and remaining
time — and one summary line per finished epoch::

    epoch 2/3  train_loss 0.3121  valid_accuracy 0.8875  lr 1.00e-03  41.2s  18,204 tok/s  best

It writes to the rich Console it is given (standard error by default), so standard output
stays free for results.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rnnlab.train.callbacks import Callback, FitStart, StepInfo

__all__ = ["RichProgress", "format_record"]

_SKIPPED = ("epoch", "lr", "seconds", "tokens_per_s")


def format_record(record: dict[str, float], epochs: int, best: bool = False) -> str:
    """The one-line summary of a ``history.jsonl`` record."""
    parts = [f"epoch {int(record['epoch'])}/{epochs}"]
    for key, value in record.items():
        if key not in _SKIPPED and value is not None:
            parts.append(f"{key} {value:.4f}")
    parts.append(f"lr {record['lr']:.2e}")
    parts.append(f"{record['seconds']:.1f}s")
    parts.append(f"{record['tokens_per_s']:,.0f} tok/s")
    if best:
        parts.append("best")
    return "  ".join(parts)


class RichProgress(Callback):
    """Progress bar with loss and tokens/s during each epoch, and a summary line after it.

    Args:
        console: where to draw; default a Console on standard error.
        max_metrics: show at most this many ``valid_*`` metrics per summary line (the first
            ones the model reports), so per-class scores do not flood the terminal.
    """

    def __init__(self, console: Console | None = None, max_metrics: int = 4) -> None:
        self.console = console if console is not None else Console(stderr=True)
        self.max_metrics = max_metrics
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._start: FitStart | None = None
        self._best: float | None = None

    def on_fit_start(self, info: FitStart) -> None:
        self._start = info
        self._best = info.best_score
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[speed]} tok/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._progress.start()
        if info.start_batch or info.start_epoch > 1:
            self.console.print(
                f"resuming at epoch {info.start_epoch}, batch {info.start_batch} "
                f"(step {info.global_step}) on {info.device}"
            )

    def on_epoch_start(self, epoch: int, num_batches: int) -> None:
        assert self._progress is not None and self._start is not None
        done = self._start.start_batch if epoch == self._start.start_epoch else 0
        self._task = self._progress.add_task(
            f"epoch {epoch}/{self._start.epochs}",
            total=num_batches,
            completed=done,
            loss="-",
            speed="-",
        )

    def on_step_end(self, info: StepInfo) -> None:
        assert self._progress is not None and self._task is not None
        self._progress.update(
            self._task,
            completed=info.batch,
            loss=f"{info.mean_loss:.4f}",
            speed=f"{info.tokens_per_s:,.0f}",
        )

    def on_epoch_end(self, record: dict[str, float]) -> None:
        assert self._progress is not None and self._start is not None
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None
        monitor = self._start.monitor
        score = record.get(monitor if monitor == "train_loss" else f"valid_{monitor}")
        best = score is not None and (
            self._best is None
            or (score > self._best if self._start.monitor_mode == "max" else score < self._best)
        )
        if best:
            self._best = score
        shown = {k: v for k, v in record.items() if not k.startswith("valid_")}
        valid = [k for k in record if k.startswith("valid_")][: self.max_metrics]
        shown.update({k: record[k] for k in valid})
        self.console.print(format_record(shown, self._start.epochs, best))

    def on_fit_end(self, result: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if result.best_epoch:
            metric = result.monitor
            self.console.print(
                f"best epoch {result.best_epoch}: {metric} {result.best_score:.4f}"
                + ("  (stopped early)" if result.stopped_early else "")
            )
