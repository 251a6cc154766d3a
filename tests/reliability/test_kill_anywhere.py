"""Crashes at any point: ``rnnlab train`` killed with SIGKILL five times, each time continued
with ``--resume``, ends with the metrics of a run never interrupted; at every kill each file in
the run directory is whole. The kills cover every phase of a run: one at a random moment of its
first seconds (imports, data, embeddings, lexical model, first steps), then one at each
of these, drawn at random within its phase: before a training step, inside a checkpoint write
(its temporary complete, not yet renamed), in the middle of a validation pass, and inside the
write of one of the final files (model, vocabulary, metrics or report). The same for
``rnnlab predict --resume`` on 50,000 rows: no row lost or repeated."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rnnlab.data import datasets
from rnnlab.runs import load_model_file
from rnnlab.train import load_checkpoint
from tests.reliability.outcomes import record

ROOT = Path(__file__).resolve().parents[2]
KILLS = 10  # rnnlab predict: at most this many random kills before it is let finish
SMALL = ["--hidden-size", "16", "--embedding-dim", "16", "--num-layers", "1", "--seed", "0"]
TASKS = {
    "classify": ["train", "classify", "--data", "{data}/train.csv", "--test", "{data}/test.csv",
                 "--epochs", "2", "--max-len", "20", *SMALL],
    "tag": ["train", "tag", "--data", "{data}/train.conll", "--test", "{data}/test.conll",
            "--epochs", "2", *SMALL],
    "lm": ["train", "lm", "--data", "{data}/train.txt", "--test", "{data}/test.txt",
           "--epochs", "2", "--max-vocab", "2000", "--batch-size", "16", *SMALL],
}  # fmt: skip
CHECKPOINT_EVERY = "[train]\ncheckpoint_every = 10\n"
TIMING = ("seconds", "tokens_per_s", "rows_per_s")
# Run in the child process before ``rnnlab``: SIGKILL itself at the n-th time it reaches a
# point ("step": a training step is about to run; "validation": the second batch of a
# validation pass is asked for; a file name: a complete temporary is about to replace that
# file). SIGKILL cannot be caught, so the process dies there as from an outside kill.
KILL_AT = """
import os, signal, sys
point, nth, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
seen = 0
def due():
    global seen
    seen += 1
    if seen == nth:
        os.kill(os.getpid(), signal.SIGKILL)
if point == "step":
    import rnnlab.train.trainer as trainer
    real_step = trainer.train_step
    def train_step(*a, **k):
        due()
        return real_step(*a, **k)
    trainer.train_step = train_step
elif point == "validation":
    import rnnlab.train.trainer as trainer
    real_evaluate = trainer.evaluate
    def evaluate(model, batches):
        def counted():
            for k, batch in enumerate(batches):
                if k == 1:
                    due()
                yield batch
        return real_evaluate(model, counted())
    trainer.evaluate = evaluate
else:
    real_replace = os.replace
    def replace(src, dst, **kw):
        if os.path.basename(dst) == point:
            due()
        return real_replace(src, dst, **kw)
    os.replace = replace
from rnnlab.cli import main
main(args)
"""
FINAL_FILES = ("model.safetensors", "vocab.json", "metrics.json", "report.html")
# The first kill: a random moment in the first seconds (imports, data, embeddings, lexical
# model, first steps), or the moment the first checkpoint is there, whichever comes first.
EARLY_SECONDS = 10.0


def write_data(task: str, folder: Path) -> Path:
    """A small slice of the task's real corpus as files: training and test sets."""
    folder.mkdir()
    if task == "classify":
        import pandas as pd

        trec = datasets.load("trec", seed=0)
        for name, split, n in (("train", trec.train, 600), ("test", trec.test, 200)):
            table = pd.DataFrame({"text": split.texts[:n], "label": split.labels[:n]})
            table.to_csv(folder / f"{name}.csv", index=False)
    elif task == "tag":
        wnut = datasets.load("wnut16", seed=0)
        for name, split, n in (("train", wnut.train, 500), ("test", wnut.test, 100)):
            sentences = zip(split.tokens[:n], split.tags[:n], strict=True)
            conll = "".join(
                "".join(f"{w}\t{t}\n" for w, t in zip(ws, ts, strict=True)) + "\n"
                for ws, ts in sentences
            )
            (folder / f"{name}.conll").write_text(conll, encoding="utf-8")
    else:
        reviews = datasets.load("rotten_tomatoes", seed=0)
        for name, split, n in (("train", reviews.train, 800), ("test", reviews.test, 150)):
            lines = "".join(" ".join(text.split()) + "\n" for text in split.texts[:n])
            (folder / f"{name}.txt").write_text(lines, encoding="utf-8")
    return folder


def start(
    args: list[str], kill_at: tuple[str, int] | None = None, stderr: Any = subprocess.PIPE
) -> subprocess.Popen:
    """Start ``rnnlab args`` (killing itself at ``kill_at``); its stderr goes to a pipe, or to
    an open file for a process nobody reads while it runs."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if kill_at is None:
        command = [sys.executable, "-m", "rnnlab.cli", *args]
    else:
        command = [sys.executable, "-c", KILL_AT, kill_at[0], str(kill_at[1]), *args]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True
    )


def finish(args: list[str]) -> float:
    """Run ``rnnlab args`` to the end; its duration in seconds."""
    begun = time.perf_counter()
    proc = start(args)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return time.perf_counter() - begun


def killed_at_random(
    args: list[str], rng: random.Random, low: float, high: float, until: Path | None = None
) -> bool:
    """Start ``rnnlab args``, SIGKILL it after a random time in [low, high] (or as soon as
    ``until`` exists, when that comes first) unless it has finished by then; True when it was
    killed."""
    proc = start(args)
    deadline = time.perf_counter() + rng.uniform(low, high)
    while time.perf_counter() < deadline and not (until is not None and until.exists()):
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return killed


def killed_at(args: list[str], point: str, nth: int) -> None:
    """Run ``rnnlab args`` until it reaches ``point`` for the ``nth`` time and dies there."""
    proc = start(args, kill_at=(point, nth))
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {point} #{nth}: {err[-2000:]}"


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
def test_killed_in_every_phase_then_resumed_ends_like_an_uninterrupted_run(task, tmp_path):
    data = write_data(task, tmp_path / "data")
    config = tmp_path / "config.toml"
    config.write_text(CHECKPOINT_EVERY)
    args = [a.format(data=data) for a in TASKS[task]] + ["--config", str(config)]
    reference = tmp_path / "reference"
    run = tmp_path / "killed"
    resume = [*args, "--out", str(run), "--resume"]
    rng = random.Random(f"{task}-kills")
    log = tmp_path / "reference.log"
    with log.open("w", encoding="utf-8") as stderr:
        uninterrupted = start([*args, "--out", str(reference)], stderr=stderr)  # other core
        first = run / "checkpoints" / "last.pt"
        killed = killed_at_random(resume, rng, 0.2, EARLY_SECONDS, until=first)
        assert_files_whole(run)
        code = uninterrupted.wait(timeout=600)
    assert code == 0, log.read_text(encoding="utf-8")
    finals = [name for name in FINAL_FILES if (reference / name).is_file()]
    assert "model.safetensors" in finals and "metrics.json" in finals
    for point, nth in (
        ("step", rng.randint(2, 9)),  # between two checkpoints
        ("last.pt", rng.randint(1, 2)),
        ("validation", 1),
        (rng.choice(finals), 1),
    ):
        killed_at(resume, point, nth)
        killed += 1
        assert_files_whole(run)
        if point == "last.pt":  # died inside the write: the temporary is there, still hidden
            assert list((run / "checkpoints").glob(".last.pt.*")), "no temporary left"
    finish(resume)
    assert_files_whole(run)
    want = untimed(json.loads((reference / "metrics.json").read_text()))
    got = untimed(json.loads((run / "metrics.json").read_text()))
    assert got == want
    record(f"{task} training killed at random moments",
           "SIGKILL at a random moment of the first seconds, then at a random step, "
           "checkpoint write, validation pass and final file of `rnnlab train`, each time "
           "then --resume", "whole files; same final metrics", killed)  # fmt: skip


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
        killed += killed_at_random([*args, "--out", str(out), "--resume"], rng, 0.5, duration)
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
