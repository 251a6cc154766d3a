"""Scale-out throughput on this machine: labelling with Ray Data against one process, and
data-parallel training with 1 against 2 processes.

    python benchmarks/bench_scale.py [--rows 5000] [--repeats 3] [--parts predict,train]

1. **predict** — IMDB reviews (real text, repeated to ``--rows`` rows, with an ``id`` column)
   as 4 CSV files, labelled by a classifier of the default architecture (bidirectional 2-layer
   GRU 128, trained one epoch on 2,000 rotten_tomatoes sentences — throughput does not depend
   on the weights, and reviews are cut at its default ``max_len``). The baseline is
   single-process ``rnnlab predict`` (:func:`rnnlab.deploy.batch_predict.predict_file`, torch
   using every core) on the same rows as one CSV; then ``--backend ray`` with 1 and 2 actors
   (one torch thread each) on a local cluster that is already running (its start-up, seconds,
   is printed separately: a long job pays it once). Rows/s are medians of ``--repeats`` runs.
2. **train** — ``rnnlab train classify --data rotten_tomatoes --epochs 1`` with ``--nproc 1``
   and ``--nproc 2`` (torchrun, gloo): training tokens/s of the epoch from history.jsonl
   (all ranks together), median of ``--repeats``.

Nothing else should run on the machine meanwhile; the table prints the processor and core
count beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def make_inputs(folder: Path, rows: int) -> None:
    import pandas as pd

    from rnnlab.data import datasets

    reviews = datasets.load("imdb", seed=0).test.texts
    texts = [reviews[i % len(reviews)] for i in range(rows)]
    table = pd.DataFrame({"id": [f"r{i:07d}" for i in range(rows)], "text": texts})
    table.to_csv(folder / "all.csv", index=False)
    (folder / "parts").mkdir()
    for k in range(4):
        table.iloc[k::4].to_csv(folder / "parts" / f"part{k}.csv", index=False)


def train_model(folder: Path) -> Path:
    from rnnlab.data import datasets
    from rnnlab.runs import MODEL_FILE
    from rnnlab.tasks.classify.estimator import TextClassifier

    data = datasets.load("rotten_tomatoes", seed=0)
    clf = TextClassifier(epochs=1, seed=0).fit(data.train.texts[:2000], data.train.labels[:2000])
    run = folder / "run"
    run.mkdir()
    clf.save(run / MODEL_FILE)
    (run / "config.toml").write_text(clf.config_.to_toml(), encoding="utf-8")
    return run


def bench_predict(folder: Path, rows: int, repeats: int) -> list[tuple[str, float]]:
    import ray

    from rnnlab.deploy.batch_predict import predict_file
    from rnnlab.deploy.engines import load
    from rnnlab.deploy.ray_predict import predict_with_ray

    make_inputs(folder, rows)
    run = train_model(folder)
    predictor = load(run)
    single = []
    for k in range(repeats):
        summary = predict_file(predictor, folder / "all.csv", folder / f"single{k}.parquet")
        single.append(summary.rows / summary.seconds)
    start = time.perf_counter()
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, configure_logging=False)
    startup = time.perf_counter() - start
    results = [("single process (baseline)", statistics.median(single))]
    for workers in (1, 2):
        speeds = []
        for k in range(repeats):
            out = folder / f"ray{workers}-{k}"
            summary = predict_with_ray(run, folder / "parts", out, workers=workers)
            assert summary.rows == rows
            speeds.append(summary.rows_per_s)
        results.append(
            (f"Ray, {workers} actor{'s' if workers > 1 else ''}", statistics.median(speeds))
        )
    ray.shutdown()
    print(f"local Ray cluster start-up: {startup:.1f} s")
    return results


def bench_train(folder: Path, repeats: int) -> list[tuple[str, float]]:
    results = []
    for nproc in (1, 2):
        speeds = []
        for k in range(repeats):
            out = folder / f"train{nproc}-{k}"
            command = [
                sys.executable,
                "-m",
                "rnnlab",
                "train",
                "classify",
                "--data",
                "rotten_tomatoes",
                "--epochs",
                "1",
                "--out",
                str(out),
                "--nproc",
                str(nproc),
            ]
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
            record = json.loads((out / "history.jsonl").read_text().splitlines()[0])
            speeds.append(record["tokens_per_s"])
        results.append((f"{nproc} process{'es' if nproc > 1 else ''}", statistics.median(speeds)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", default="predict,train")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, torch threads default")
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        if "predict" in parts:
            rows = bench_predict(folder, args.rows, args.repeats)
            base = rows[0][1]
            print(f"\nlabelling {args.rows} IMDB reviews (rows/s, median of {args.repeats})")
            print("| backend | rows/s | × single process |\n|---|---|---|")
            for name, speed in rows:
                print(f"| {name} | {speed:,.0f} | {speed / base:.2f} |")
        if "train" in parts:
            rows = bench_train(folder, args.repeats)
            base = rows[0][1]
            print(f"\ntraining rotten_tomatoes, 1 epoch (tokens/s, median of {args.repeats})")
            print("| processes | tokens/s | × one process |\n|---|---|---|")
            for name, speed in rows:
                print(f"| {name} | {speed:,.0f} | {speed / base:.2f} |")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
