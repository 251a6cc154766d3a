"""The HTTP API over a real socket: predictions equal the Predictor's, clear 4xx errors,
explanations, model information, the OpenAPI schema, and micro-batching."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from rnnlab.serve import ServeConfig, create_app, running_server
from tests.serve.conftest import Client

TEXTS = [
    "A gripping, beautifully acted film.",
    "Dull, predictable and far too long.",
    "the plot is thin but the performances are wonderful",
]


def test_one_text_and_a_list_match_the_predictor(client, predictor):
    expected = predictor.predict_proba(TEXTS)
    status, body = client.request("POST", "/predict", {"text": TEXTS[0]})
    assert status == 200
    assert body["label"] == predictor.labels[int(expected[0].argmax())]
    np.testing.assert_allclose(
        [body["probabilities"][k] for k in ("neg", "pos")], expected[0], atol=1e-6
    )
    status, body = client.request("POST", "/predict", {"texts": TEXTS})
    assert status == 200
    got = [[p["probabilities"]["neg"], p["probabilities"]["pos"]] for p in body["predictions"]]
    np.testing.assert_allclose(got, expected, atol=1e-6)


BAD_REQUESTS = [
    ("not JSON", b'{"text": "unclosed', 400, "not valid JSON"),
    ("no body", b"", 422, "no JSON body"),
    ("a list, not an object", b'["a", "b"]', 422, "must be a JSON object"),
    ("neither field", b"{}", 422, "exactly one of 'text' and 'texts'"),
    ("both fields", b'{"text": "a", "texts": ["b"]}', 422, "exactly one of 'text' and 'texts'"),
    ("unknown field", b'{"txt": "a"}', 422, "Unknown field 'txt'"),
    ("number as text", b'{"text": 42}', 422, "text: Input should be a valid string, got 42."),
    ("null in the list", b'{"texts": ["ok", null]}', 422, "texts[1]: Input should be a valid"),
    ("texts not a list", b'{"texts": "abc"}', 422, "texts: Input should be a valid list"),
    ("empty list", b'{"texts": []}', 422, "texts is an empty list"),
    ("blank text", b'{"texts": ["fine", "   "]}', 422, "texts[1] is empty"),
    ("too many texts", b'{"texts": ["a","b","c","d","e","f","g","h","i"]}', 413, "limit of 8 per"),
    ("text too long", b'{"text": "' + b"x" * 2001 + b'"}', 413, "2,001 characters, more than"),
    ("arrays nested past the parser's limit", b"[" * 50_000 + b"]" * 50_000, 400, "nested too"),
]


@pytest.mark.parametrize(
    ("raw", "status", "fragment"), [b[1:] for b in BAD_REQUESTS], ids=[b[0] for b in BAD_REQUESTS]
)
def test_malformed_requests_get_one_clear_sentence(client, raw, status, fragment):
    got, body = client.request("POST", "/predict", raw=raw)
    assert got == status, body
    assert fragment in body["error"], body["error"]
    assert body["error"].endswith("."), body["error"]


def test_unknown_paths_and_methods_get_the_same_error_shape(client):
    got, body = client.request("GET", "/nowhere")
    assert got == 404 and body["error"].startswith("GET /nowhere: no such endpoint")
    got, body = client.request("GET", "/predict")
    assert got == 405 and "method not allowed" in body["error"]
    assert set(body) == {"error"}


def test_explain_returns_attributions_and_the_gate_trace(client, predictor):
    if not hasattr(predictor, "explain"):
        pytest.skip("Predictor.explain is not available in this build")
    text = TEXTS[2]
    status, body = client.request("POST", "/explain", {"text": text, "steps": 16})
    assert status == 200, body
    direct = predictor.explain(text, steps=16)[0].to_dict()
    assert body["tokens"] == direct["tokens"] == predictor.tokenizer(text)
    np.testing.assert_allclose(body["attributions"], direct["attributions"], atol=1e-6)
    assert body["label"] == direct["label"] and body["method"] == "ig"
    trace = body["trace"]
    assert trace["cell"] == "gru" and set(trace["gates"]) == {"update", "reset"}
    assert all(len(v) == len(body["tokens"]) for v in trace["gates"].values())
    status, body = client.request("POST", "/explain", {"text": text, "target": "meh"})
    assert status == 422 and "target 'meh' is not a label" in body["error"]
    status, body = client.request("POST", "/explain", {"text": text, "steps": 0})
    assert status == 422 and "steps" in body["error"]


def test_health_model_page_and_openapi(client, served_run):
    status, body = client.request("GET", "/health")
    assert status == 200 and body["status"] == "ok"
    status, info = client.request("GET", "/model")
    assert status == 200
    assert info["labels"] == ["neg", "pos"] and info["task"] == "classify"
    assert info["config"]["model"]["cell"] == "gru" and info["config"]["data"]["max_len"] == 40
    assert 0.7 < info["metrics"]["accuracy"] <= 1.0
    assert info["limits"]["max_texts"] == 8
    status, page = client.request("GET", "/")
    assert status == 200 and b'<script src="/static/app.js">' in page
    assert b"http://" not in page and b"https://" not in page  # nothing from the network
    status, schema = client.request("GET", "/openapi.json")
    assert status == 200
    assert {"/predict", "/explain", "/health", "/model"} <= set(schema["paths"])
    assert "PredictRequest" in schema["components"]["schemas"]
    status, _ = client.request("GET", "/docs")
    assert status == 404  # the hosted docs page would load scripts from a CDN


def concurrent_singles(url: str, texts: list[str]) -> list[dict]:
    """Send each text as its own request, all at once from their own connections."""
    barrier = threading.Barrier(len(texts))
    results: list[dict] = [{}] * len(texts)

    def send(i: int) -> None:
        client = Client(url)
        barrier.wait()
        results[i] = client.request("POST", "/predict", {"text": texts[i]})[1]
        client.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("batching", [True, False], ids=["batching", "no-batching"])
def test_concurrent_requests_share_model_calls_only_with_batching(
    predictor, rotten_tomatoes, batching
):
    texts = rotten_tomatoes.test.texts[:12]
    config = ServeConfig(max_wait_ms=100.0) if batching else ServeConfig(batching=False)
    app = create_app(predictor, config=config)
    with running_server(app) as url:
        results = concurrent_singles(url, texts)
        stats = Client(url).request("GET", "/health")[1]
    expected = predictor.predict_proba(texts)
    got = [[r["probabilities"]["neg"], r["probabilities"]["pos"]] for r in results]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert stats["texts"] == len(texts)
    if batching:
        assert stats["largest_batch"] >= 2 and stats["batches"] < len(texts)
    else:
        assert stats["largest_batch"] == 1 and stats["batches"] == len(texts)
