"""Crashes at any point: ``rnnlab train`` killed with SIGKILL at 10 random moments (in a step,
while a checkpoint or the model is written, during the evaluation or the report), each time
continued with ``--resume``, ends with the metrics of a run never interrupted; at every kill
each file in the run directory is whole. The same for ``rnnlab predict --resume`` on 50,000
rows: no row lost or repeated."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnlab.runs import load_model_file
from rnnlab.train import load_checkpoint
from tests.reliability.outcomes import record

ROOT = Path(__file__).resolve().parents[2]
KILLS = 10
SMALL = ["--hidden-size", "16", "--embedding-dim", "16", "--num-layers", "1", "--seed", "0"]
TASKS = {
    "classify": ["train", "classify", "--data", "trec", "--epochs", "2", "--max-len", "20",
                 *SMALL],
    "tag": ["train", "tag", "--data", "wnut16", "--epochs", "1", *SMALL],
    "lm": ["train", "lm", "--data", "rotten_tomatoes", "--epochs", "1", "--max-vocab", "2000",
           "--batch-size", "16", *SMALL],
}  # fmt: skip
CHECKPOINT_EVERY = "[train]\ncheckpoint_every = 10\n"
TIMING = ("seconds", "tokens_per_s", "rows_per_s")


def start(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "rnnlab.cli", *args]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def finish(args: list[str]) -> float:
    begun = time.perf_counter()
    proc = start(args)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return time.perf_counter() - begun


def killed_at_random(args: list[str], rng: random.Random, duration: float, low: float) -> bool:
    """Start ``rnnlab args``, SIGKILL it after a random time in [low, duration] unless it has
    finished by then; True when it was killed."""
    proc = start(args)
    time.sleep(rng.uniform(low, duration))
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return killed


def untimed(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if not any(t in k for t in TIMING)}


def assert_files_whole(run: Path) -> None:
    """Every file the run has written so far reads back completely."""
    for path in run.rglob("*"):
        if path.is_dir():
            continue
        assert ".tmp" not in path.name or path.name.startswith("."), path  # temporaries hidden
        if path.name.startswith("."):
            continue  # a temporary being written when the process died: never read
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                json.loads(line)
        elif path.suffix == ".pt":
            load_checkpoint(path)
        elif path.suffix == ".safetensors":
            load_model_file(path)


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(TASKS))
def test_killed_at_ten_random_moments_then_resumed_ends_like_an_uninterrupted_run(task, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CHECKPOINT_EVERY)
    args = [*TASKS[task], "--config", str(config)]
    reference = tmp_path / "reference"
    duration = finish([*args, "--out", str(reference)])
    run = tmp_path / "killed"
    rng = random.Random(f"{task}-kills")
    killed = 0
    for _ in range(KILLS):
        killed += killed_at_random([*args, "--out", str(run), "--resume"], rng, duration, 0.2)
        assert_files_whole(run)
    finish([*args, "--out", str(run), "--resume"])
    assert_files_whole(run)
    want = untimed(json.loads((reference / "metrics.json").read_text()))
    got = untimed(json.loads((run / "metrics.json").read_text()))
    assert got == want
    assert killed >= KILLS // 2  # most starts were really killed, not left to finish
    record(f"{task} training killed at random moments",
           "SIGKILL at a random moment of `rnnlab train`, then --resume, 10 times",
           "whole files; same final metrics", killed)  # fmt: skip


@pytest.mark.slow
def test_predict_killed_at_random_moments_loses_and_repeats_no_row(tmp_path, rotten_tomatoes):
    import pandas as pd

    from tests.tiny_run import train_tiny_run

    model = train_tiny_run(tmp_path / "run", rotten_tomatoes, n=300)
    texts = rotten_tomatoes.train.texts
    rows = 50_000
    table = pd.DataFrame({"text": [f"{texts[i % len(texts)]} ({i})" for i in range(rows)]})
    table.to_csv(tmp_path / "in.csv", index=False)
    args = ["predict", str(model), "--data", str(tmp_path / "in.csv"), "--chunk-rows", "2000"]
    duration = finish([*args, "--out", str(tmp_path / "reference.csv")])
    out = tmp_path / "out.csv"
    rng = random.Random("predict-kills")
    killed = 0
    for _ in range(KILLS):
        killed += killed_at_random([*args, "--out", str(out), "--resume"], rng, duration, 0.5)
        if out.exists():  # finished: nothing left to resume
            break
    if not out.exists():
        finish([*args, "--out", str(out), "--resume"])
    got, want = pd.read_csv(out), pd.read_csv(tmp_path / "reference.csv")
    assert len(got) == rows and got["text"].tolist() == table["text"].tolist()
    assert got["label"].tolist() == want["label"].tolist()
    assert killed >= 1
    record("predict killed at random moments", "SIGKILL during `rnnlab predict --out` on "
           "50,000 rows, then --resume", "no row lost or repeated", killed)  # fmt: skip
