"""RichProgress: the bar and the per-epoch summary lines, written to the given console."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console

from rnnlab.config import TrainConfig
from rnnlab.train import Callback, Trainer
from rnnlab.train.progress import RichProgress, format_record
from tests.train.digits import digits_splits, make_model


class Slow(Callback):
    """Slows each step so that the live display (10 refreshes/s) draws mid-epoch."""

    def on_step_end(self, info):
        time.sleep(0.01)


def run_with_progress(terminal: bool, tmp_path=None, resume=False, epochs=2, slow=False) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=160, color_system=None)
    train, valid, _ = digits_splits()
    config = TrainConfig(epochs=epochs, lr=1e-2, schedule="none", num_threads=1, checkpoint_every=0)
    callbacks = [RichProgress(console)] + ([Slow()] if slow else [])
    Trainer(config, run_dir=tmp_path, callbacks=callbacks).fit(
        make_model(), train, valid, resume=resume
    )
    return out.getvalue()


def test_summary_line_per_epoch_and_best():
    text = run_with_progress(terminal=False)
    lines = [line for line in text.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 2
    pattern = (
        r"epoch 1/2  train_loss \d\.\d{4}  valid_loss \d\.\d{4}  valid_accuracy \d\.\d{4}  "
        r"lr 1\.00e-02  \d+\.\ds  [\d,]+ tok/s  best"
    )
    assert re.fullmatch(pattern, lines[0]), lines[0]
    assert re.search(r"best epoch \d: accuracy 0\.\d{4}", text)


def test_live_bar_shows_loss_and_throughput_on_a_terminal():
    text = run_with_progress(terminal=True, slow=True)
    assert re.search(r"epoch \d/2 .* \d+/45 loss \d\.\d{4} [\d,]+ tok/s", text)


def test_resumed_run_says_where_it_continues(tmp_path):
    run_with_progress(False, tmp_path, epochs=1)
    text = run_with_progress(False, tmp_path, resume=True, epochs=2)
    assert "resuming at epoch 2, batch 0 (step 45) on cpu" in text
    epoch_two = next(line for line in text.splitlines() if line.startswith("epoch 2/2"))
    # "best" only when epoch 2 beats epoch 1, which the resumed display must remember.
    assert epoch_two.endswith("best") == ("best epoch 2" in text)


def test_format_record_skips_missing_values():
    record = {"epoch": 3, "train_loss": 0.5, "valid_mae": None, "lr": 1e-3, "seconds": 2.0,
              "tokens_per_s": 12345.6}  # fmt: skip
    assert (
        format_record(record, 5) == "epoch 3/5  train_loss 0.5000  lr 1.00e-03  2.0s  12,346 tok/s"
    )
