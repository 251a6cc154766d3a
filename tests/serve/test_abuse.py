"""The server under load and abuse: ``rnnlab serve`` in its own process, 50 concurrent clients
for 14 s sending valid requests, malformed JSON, wrong types, 5 MB bodies, slow partial bodies
and Unicode edge cases. No 5xx, every error in the ``{"error": …}`` shape, the server stays
up, its memory stays flat (RSS within 20 % of what it was after warming up), and the p99
latency of the valid requests is reported."""

from __future__ import annotations

import http.client
import json
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.reliability.outcomes import record

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 50
SECONDS = 14.0
WARM_UP = 5.0  # seconds of load before the RSS that the final reading is held to
UNICODE = [
    "\u202e\u202dabc",
    "\u0000",
    "🙂" * 50,
    "e\u0301" * 30,
    "中文评论很好",
    "\ufeff",
    "\u2028x",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def request_kinds(texts: list[str], rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(["valid", "valid", "valid", "malformed", "types", "oversize", "unicode"])
    if kind == "valid":
        return kind, json.dumps({"text": rng.choice(texts)}).encode()
    if kind == "malformed":
        return kind, rng.choice([b'{"text": "unclosed', b"", b"[" * 5000, b"\xff\xfe", b"{}"])
    if kind == "types":
        return kind, json.dumps(rng.choice([{"text": 5}, {"texts": [None]}, {"texts": "x"},
                                             [1, 2], {"text": {"a": 1}}])).encode()  # fmt: skip
    if kind == "oversize":
        return kind, b'{"text": "' + b"x" * 5_000_000 + b'"}'
    return kind, json.dumps({"text": rng.choice(UNICODE)}, ensure_ascii=False).encode()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="RSS is read from /proc")
def test_fifty_clients_of_valid_and_hostile_requests_for_fourteen_seconds(
    served_run, rotten_tomatoes
):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rnnlab.cli", "serve", str(served_run), "--port", str(port),
         "--model-threads", "1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
            time.sleep(0.2)
        texts = rotten_tomatoes.test.texts[:200]
        latencies: list[float] = []
        problems: list[str] = []
        counts: dict[str, int] = {}
        lock = threading.Lock()
        stop = time.monotonic() + SECONDS

        def client(k: int) -> None:
            rng = random.Random(k)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while time.monotonic() < stop:
                kind, body = request_kinds(texts, rng)
                begun = time.perf_counter()
                try:
                    conn.request("POST", "/predict", body=body,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
                    response = conn.getresponse()
                    payload = response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()  # the server may close a connection after a 413: reconnect
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    continue
                took = time.perf_counter() - begun
                with lock:
                    counts[kind] = counts.get(kind, 0) + 1
                    if response.status >= 500:
                        problems.append(f"{kind}: {response.status} {payload[:200]!r}")
                    elif response.status >= 400:
                        shape = json.loads(payload)
                        if not isinstance(shape.get("error"), str):
                            problems.append(f"{kind}: error shape {payload[:200]!r}")
                    elif kind == "valid":
                        latencies.append(took)
            conn.close()

        def slow_loris(k: int) -> None:
            """Headers promising 1,000 bytes, then a few bytes a second, then gone."""
            while time.monotonic() < stop:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: "
                              b"application/json\r\nContent-Length: 1000\r\n\r\n{\"te")  # fmt: skip
                    for _ in range(5):
                        time.sleep(1)
                        s.sendall(b"x")
                with lock:
                    counts["slow partial body"] = counts.get("slow partial body", 0) + 1

        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS - 5)]
        threads += [threading.Thread(target=slow_loris, args=(k,)) for k in range(5)]
        for t in threads:
            t.start()
        time.sleep(WARM_UP)
        warm = rss_kib(server.pid)
        for t in threads:
            t.join(timeout=SECONDS + 60)
        end = rss_kib(server.pid)
        assert server.poll() is None, "the server died"
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/health")
        assert c.getresponse().status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert problems == [], problems[:5]
    kinds = ("malformed", "types", "oversize", "unicode", "slow partial body")
    assert latencies and all(counts.get(k, 0) > 0 for k in kinds), counts
    assert end <= 1.2 * warm, f"RSS grew from {warm} KiB to {end} KiB"
    p50, p99 = (float(np.percentile(latencies, q)) * 1000 for q in (50, 99))
    print(f"\n{sum(counts.values())} requests {counts}; valid p50 {p50:.0f} ms, p99 {p99:.0f} ms;"
          f" RSS {warm} → {end} KiB")  # fmt: skip
    for kind, count in counts.items():
        record(f"server under load: {kind} requests",
               "50 concurrent clients for 14 s against `rnnlab serve`",
               "no 5xx, {\"error\": …} shape, server up, RSS flat", count)  # fmt: skip
