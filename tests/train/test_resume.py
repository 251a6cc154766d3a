"""Resume: a run killed with SIGKILL mid-epoch continues and ends as if never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from rnnlab.config import TrainConfig
from rnnlab.errors import ConfigError, DataError
from rnnlab.train import Trainer, load_checkpoint
from tests.reliability.outcomes import record
from tests.train.digits import (
    DigitsBatches,
    digits_config,
    digits_splits,
    make_model,
    without_timing,
)

ROOT = Path(__file__).resolve().parents[2]

# Trains the digits model in a child process, slowed down so the parent can catch it mid-epoch.
CHILD = """
import json, sys, time
import torch
torch.set_num_threads(1)
from rnnlab.config import TrainConfig
from rnnlab.train import Callback, Trainer
from tests.train.digits import digits_splits, make_model

class Slow(Callback):
    def on_step_end(self, info):
        time.sleep(0.01)

train, valid, _ = digits_splits()
config = TrainConfig(**json.loads(sys.argv[2]))
Trainer(config, run_dir=sys.argv[1], callbacks=[Slow()]).fit(make_model(), train, valid)
"""


def config(**kwargs) -> TrainConfig:
    return digits_config(**{"checkpoint_every": 7, **kwargs})


def mid_epoch_state(path: Path) -> dict | None:
    """The loop counters in ``path`` when it is a checkpoint inside epoch 2, else None."""
    if not path.exists():
        return None
    state = load_checkpoint(path)["state"]
    return state if state["epoch"] == 1 and 0 < state["batch"] <= 30 else None


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path):
    train, valid, _ = digits_splits()
    cfg = config(schedule="cosine", warmup_steps=20)
    reference_model = make_model()
    reference = Trainer(cfg, run_dir=tmp_path / "ref").fit(reference_model, train, valid)

    run_dir = tmp_path / "killed"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    child = subprocess.Popen(
        [sys.executable, str(script), str(run_dir), json.dumps(asdict(cfg))],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    last = run_dir / "checkpoints" / "last.pt"
    try:
        deadline = time.monotonic() + 60
        while mid_epoch_state(last) is None:
            assert child.poll() is None, child.stdout.read().decode()
            assert time.monotonic() < deadline, "no mid-epoch checkpoint within 60 s"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()

    state = mid_epoch_state(last)
    assert state is not None, "the kill must leave a mid-epoch checkpoint"
    assert len(state["history"]) == 1 and state["step"] % cfg.checkpoint_every == 0

    resumed_model = make_model(seed=123)  # other initial weights: they must come from last.pt
    resumed = Trainer(cfg, run_dir=run_dir).fit(resumed_model, train, valid, resume=True)

    assert without_timing(resumed.history) == without_timing(reference.history)
    assert resumed.best_metrics == reference.best_metrics
    assert resumed.best_epoch == reference.best_epoch
    for key, value in reference_model.state_dict().items():
        assert torch.equal(resumed_model.state_dict()[key], value), key
    lines = (run_dir / "history.jsonl").read_text().splitlines()
    assert without_timing([json.loads(line) for line in lines]) == without_timing(reference.history)
    record(
        "training killed with SIGKILL mid-epoch",
        "SIGKILL inside an epoch, then --resume",
        "same weights and history as uninterrupted",
    )


def test_training_longer_continues_the_same_run(tmp_path):
    train, valid, _ = digits_splits()
    straight = Trainer(config(epochs=3)).fit(make_model(), train, valid)
    Trainer(config(epochs=2), run_dir=tmp_path).fit(make_model(), train, valid)
    longer = Trainer(config(epochs=3), run_dir=tmp_path).fit(
        make_model(), train, valid, resume=True
    )
    assert without_timing(longer.history) == without_timing(straight.history)
    # A finished run resumes to the same result without training again.
    again = Trainer(config(epochs=3), run_dir=tmp_path).fit(make_model(), train, valid, resume=True)
    assert again.history == longer.history and again.best_metrics == longer.best_metrics


def test_resume_refuses_a_different_run(tmp_path):
    train, valid, _ = digits_splits()
    Trainer(config(epochs=1), run_dir=tmp_path).fit(make_model(), train, valid)
    last = tmp_path / "checkpoints" / "last.pt"
    with pytest.raises(
        ConfigError,
        match=r"Cannot resume from .*last.pt: train.lr was 0.01 "
        r"there and is 0.02 now; resume with the original setting",
    ):
        Trainer(config(epochs=1, lr=0.02), tmp_path).fit(make_model(), train, valid, resume=True)
    with pytest.raises(ConfigError, match=r"train.epochs was 1 there and is 2 now"):
        Trainer(config(epochs=2, schedule="linear"), tmp_path).fit(
            make_model(), train, valid, resume=True
        )
    with pytest.raises(ConfigError, match=r"the model does not match the checkpoint"):
        Trainer(config(epochs=1), tmp_path).fit(make_model(hidden=16), train, valid, resume=True)
    # Device, threads and checkpoint interval may change.
    Trainer(config(epochs=1, device="cpu", checkpoint_every=3), tmp_path).fit(
        make_model(), train, valid, resume=True
    )
    # Different training data inside an interrupted epoch is refused.
    ckpt = load_checkpoint(last)
    ckpt["state"].update(epoch=0, batch=5, num_batches=45)
    torch.save(ckpt, last)
    smaller = DigitsBatches(train.x[:320], train.y[:320], 32, shuffle=True)
    with pytest.raises(DataError, match=r"epoch 1 had 45 training batches and now has 10"):
        Trainer(config(epochs=1), tmp_path).fit(make_model(), smaller, valid, resume=True)


def test_fresh_run_replaces_old_files_and_resume_without_checkpoint_starts(tmp_path):
    train, valid, _ = digits_splits()
    Trainer(config(epochs=2), run_dir=tmp_path).fit(make_model(), train, valid)
    result = Trainer(config(epochs=1), run_dir=tmp_path).fit(make_model(), train, valid)
    assert len((tmp_path / "history.jsonl").read_text().splitlines()) == 1
    assert load_checkpoint(tmp_path / "checkpoints" / "best.pt")["epoch"] == result.best_epoch
    fresh = tmp_path / "new"
    started = Trainer(config(epochs=1), run_dir=fresh).fit(make_model(), train, valid, resume=True)
    assert len(started.history) == 1 and (fresh / "checkpoints" / "last.pt").exists()
