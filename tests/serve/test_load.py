"""Load with bad input mixed in: 1,000 requests from 20 concurrent keep-alive clients against
the real server. Every valid request gets the Predictor's own answer, every malformed one a
4xx with an error sentence, and the server is healthy afterwards."""

from __future__ import annotations

import threading

import numpy as np

from tests.reliability.outcomes import record
from tests.serve.conftest import Client
from tests.serve.test_api import BAD_REQUESTS

CLIENTS = 20
PER_CLIENT = 50


def test_a_thousand_mixed_requests_from_twenty_clients(server, predictor, rotten_tomatoes):
    pool = rotten_tomatoes.test.texts[:300]
    expected = predictor.predict_proba(pool)
    labels = predictor.labels
    failures: list[str] = []
    counts = {"valid": 0, "malformed": 0}
    lock = threading.Lock()
    start_together = threading.Barrier(CLIENTS)

    def check_prediction(prediction: dict, index: int, where: str) -> None:
        got = [prediction["probabilities"][str(label)] for label in labels]
        want = expected[index]
        if not np.allclose(got, want, atol=1e-5):
            failures.append(f"{where}: probabilities {got} != {want.tolist()}")
        elif abs(want[0] - want[1]) > 1e-4 and prediction["label"] != labels[int(want.argmax())]:
            failures.append(f"{where}: label {prediction['label']}")

    def run_client(c: int) -> None:
        client = Client(server)
        rng = np.random.default_rng(c)
        start_together.wait()
        for k in range(PER_CLIENT):
            i = c * PER_CLIENT + k
            where = f"client {c} request {k}"
            if i % 5 == 0:  # one request in five is malformed
                _, raw, status, fragment = BAD_REQUESTS[i // 5 % len(BAD_REQUESTS)]
                got, body = client.request("POST", "/predict", raw=raw)
                if got != status or fragment not in body.get("error", ""):
                    failures.append(f"{where}: expected {status} '{fragment}', got {got} {body}")
                with lock:
                    counts["malformed"] += 1
                continue
            picks = rng.integers(0, len(pool), size=int(rng.integers(1, 5)))
            if i % 3 == 0:
                got, body = client.request("POST", "/predict", {"text": pool[picks[0]]})
                answers, picks = [body] if got == 200 else [], picks[:1]
            else:
                got, body = client.request("POST", "/predict", {"texts": [pool[j] for j in picks]})
                answers = body.get("predictions", []) if got == 200 else []
            if got != 200 or len(answers) != len(picks):
                failures.append(f"{where}: status {got}, {body}")
            for answer, j in zip(answers, picks, strict=False):
                check_prediction(answer, int(j), where)
            with lock:
                counts["valid"] += 1
        client.close()

    threads = [threading.Thread(target=run_client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "clients still waiting after 120 s"
    assert failures == [], failures[:5]
    assert counts == {"valid": 800, "malformed": 200}

    client = Client(server)
    status, health = client.request("GET", "/health")
    assert status == 200 and health["status"] == "ok" and health["queued"] == 0
    assert health["batches"] < health["texts"]  # concurrent requests shared model calls
    status, body = client.request("POST", "/predict", {"text": pool[0]})
    assert status == 200
    check_prediction(body, 0, "after the load")
    assert failures == []
    record(
        "server: 1,000 mixed requests, 20 clients",
        "valid and malformed requests at once",
        "no 5xx, right answers, healthy after",
        1,
    )
