"""Deployment speed: the onnxruntime engine against PyTorch, the HTTP service with and without
micro-batching, and streaming batch prediction of a file over 1 GB in bounded memory.

    python benchmarks/bench_serve.py [--run runs/imdb] [--threads 2] [--big-gb 1.0]
                                     [--parts engines,server,batch]

1. **Engines** — ``Predictor.predict_proba`` on IMDB test reviews (up to the run's
   ``max_len`` tokens): latency of one text (p50/p99 over 200 calls) and throughput in batches
   of 64 (texts/s), ``engine="torch"`` (the baseline) against ``engine="onnx"``.
2. **Server** — ``rnnlab serve`` in its own process (uvicorn, one worker thread for the
   model), 20 concurrent keep-alive clients each sending single-review ``POST /predict``
   requests: p50/p99 latency and requests/s for each engine with micro-batching on and off
   (off is the baseline).
3. **Batch** — a CSV of IMDB reviews repeated to ``--big-gb`` GB is generated under /tmp,
   labelled by ``rnnlab predict RUN --data big.csv --out big.parquet`` in a child process,
   and deleted. Peak resident memory (``ru_maxrss`` of the child) and rows/s are compared
   with the same command on a 1/16-size file (the baseline: memory must not grow with the
   file).

Without ``runs/imdb`` (``rnnlab train classify --data imdb --out runs/imdb``) a small model
is trained on rotten_tomatoes first and used instead; the table says which model ran.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

import rnnlab
from rnnlab.data import datasets

RNNLAB = Path(sys.executable).parent / "rnnlab"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def fallback_run(folder: Path) -> Path:
    """A small GRU on rotten_tomatoes, when no IMDB run exists."""
    from rnnlab.runs import MODEL_FILE
    from rnnlab.tasks.classify.estimator import TextClassifier

    data = datasets.load("rotten_tomatoes", seed=0)
    clf = TextClassifier(epochs=2, hidden_size=64, embedding_dim=64, max_len=64, device="cpu")
    clf.fit(data.train.texts, data.train.labels)
    folder.mkdir(parents=True, exist_ok=True)
    clf.save(folder / MODEL_FILE)
    return folder


def bench_engines(run: Path, texts: list[str]) -> list[tuple[str, ...]]:
    rows = []
    baseline = None
    for engine in ("torch", "onnx"):
        predictor = rnnlab.load(run, engine=engine)
        predictor.predict_proba(texts[:64])  # warm up
        latencies = []
        for text in texts[:200]:
            start = time.perf_counter()
            predictor.predict_proba([text])
            latencies.append(time.perf_counter() - start)
        start = time.perf_counter()
        predictor.predict_proba(texts, batch_size=64)
        rate = len(texts) / (time.perf_counter() - start)
        baseline = baseline or rate
        rows.append(
            (
                engine,
                f"{1000 * percentile(latencies, 50):.2f}",
                f"{1000 * percentile(latencies, 99):.2f}",
                f"{rate:,.0f}",
                f"{rate / baseline:.2f}x",
            )
        )
        print(f"  engine {engine}: {rows[-1]}", flush=True)
    return rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rnnlab serve exited with status {process.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/health")
            healthy = connection.getresponse().status == 200
        except OSError:  # connection refused while uvicorn is still starting: ask again
            healthy = False
        finally:
            connection.close()
        if healthy:
            return
        time.sleep(0.2)  # after a refusal or a non-200 answer alike, so the loop never spins
    raise RuntimeError("rnnlab serve did not become healthy")


def load_clients(port: int, texts: list[str], clients: int, per_client: int) -> dict[str, float]:
    """``clients`` threads, each ``per_client`` single-text requests on one connection."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(c: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        barrier.wait()
        for k in range(per_client):
            body = json.dumps({"text": texts[(c * per_client + k) % len(texts)]})
            start = time.perf_counter()
            connection.request(
                "POST", "/predict", body=body, headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status != 200:
                errors.append(str(response.status))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed: {errors[:3]}")
    return {
        "p50": 1000 * percentile(latencies, 50),
        "p99": 1000 * percentile(latencies, 99),
        "rps": len(latencies) / seconds,
    }


def bench_server(run: Path, texts: list[str], threads: int, per_client: int):
    rows = []
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    for engine in ("torch", "onnx"):
        for batching in (False, True):
            port = free_port()
            command = [str(RNNLAB), "serve", str(run), "--port", str(port), "--engine", engine]
            command += ["--batching" if batching else "--no-batching", "--max-text-chars", "100000"]
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                wait_healthy(port, process)
                load_clients(port, texts, 20, 5)  # warm up
                result = load_clients(port, texts, 20, per_client)
            finally:
                process.terminate()
                process.wait(timeout=30)
            rows.append(
                (
                    engine,
                    "on" if batching else "off",
                    f"{result['p50']:.1f}",
                    f"{result['p99']:.1f}",
                    f"{result['rps']:,.0f}",
                )
            )
            print(f"  server {rows[-1]}", flush=True)
    return rows


def write_big_csv(path: Path, texts: list[str], target_bytes: int) -> int:
    """Reviews repeated (each copy numbered) until the file holds ``target_bytes``."""
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        while handle.tell() < target_bytes:
            for text in texts:
                writer.writerow([rows, text])
                rows += 1
    return rows


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stderr) of a child process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    stderr_lines: list[str] = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(process.stderr), daemon=True)
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    seconds = time.perf_counter() - start
    stderr = "".join(stderr_lines)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {stderr[-500:]}")
    return seconds, usage.ru_maxrss / 1024, stderr


def bench_batch(run: Path, texts: list[str], big_gb: float, threads: int):
    folder = Path(tempfile.mkdtemp(prefix="rnnlab-bench-", dir="/tmp"))
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    rows = []
    try:
        for name, size in (("1/16 size", big_gb / 16), ("full size", big_gb)):
            data = folder / "big.csv"
            n = write_big_csv(data, texts, int(size * 1024**3))
            gib = data.stat().st_size / 1024**3
            out = folder / "out.parquet"
            command = [str(RNNLAB), "predict", str(run), "--data", str(data), "--out", str(out)]
            seconds, rss, _ = run_measured(command, env)
            written = rnnlab_rows(out)
            if written != n:
                raise RuntimeError(f"{out} holds {written} rows, expected {n}")
            rows.append(
                (
                    name,
                    f"{gib:.2f}",
                    f"{n:,}",
                    f"{seconds:.0f}",
                    f"{n / seconds:,.0f}",
                    f"{rss:,.0f}",
                )
            )
            print(f"  batch {rows[-1]}", flush=True)
            data.unlink()
            out.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def rnnlab_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=Path("runs/imdb"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--big-gb", type=float, default=1.0)
    parser.add_argument("--per-client", type=int, default=25, help="requests per server client")
    parser.add_argument("--parts", default="engines,server,batch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    parts = set(args.parts.split(","))
    run = args.run
    if not (run / "model.safetensors").is_file():
        run = fallback_run(Path(tempfile.mkdtemp(prefix="rnnlab-bench-run-")))
    imdb = datasets.load("imdb", seed=0)
    texts = list(imdb.test.texts)
    predictor = rnnlab.load(run)
    model = predictor.model.config
    what = (
        f"{run}: {model.num_layers}-layer {model.cell.upper()}({model.hidden_size}), "
        f"max_len {predictor.max_len}; {args.threads} threads; IMDB test reviews"
    )
    print(what, flush=True)
    if "engines" in parts:
        rows = bench_engines(run, texts[:2000])
        header = ("engine", "p50 ms (1 text)", "p99 ms", "texts/s (batch 64)", "vs torch")
        table(f"Predictor engines — {what}", header, rows)
    if "server" in parts:
        rows = bench_server(run, texts[:2000], args.threads, args.per_client)
        header = ("engine", "micro-batching", "p50 ms", "p99 ms", "requests/s")
        table(f"rnnlab serve, 20 concurrent clients, 1 review per request — {what}", header, rows)
    if "batch" in parts:
        all_texts = list(imdb.train.texts) + list(imdb.valid.texts) + texts
        rows = bench_batch(run, all_texts, args.big_gb, args.threads)
        header = ("input", "GiB", "rows", "seconds", "rows/s", "peak RSS MiB")
        table(f"rnnlab predict CSV → Parquet, chunks of 5,000 rows — {what}", header, rows)


if __name__ == "__main__":
    main()
