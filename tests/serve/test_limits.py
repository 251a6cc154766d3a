"""One set of request rules and limits for every task's server, over a real socket.

The limits given to a server are constraints of its request bodies, so /openapi.json shows
them (``maxItems``, ``maxLength``, ``maximum``) and /model reports the limits that hold for
that server, and only those; micro-batching settings are refused where requests run one at a
time; a series classifier's requests are micro-batched like a text classifier's; /explain
without ``steps`` gives what ``Predictor.explain`` gives without it."""

from __future__ import annotations

import inspect
import json
import threading
from typing import Any

import numpy as np
import pytest
import torch

from rnnlab.errors import ConfigError
from rnnlab.serve import ServeConfig, app_for, create_app, running_server
from rnnlab.tasks.classify_series.config import SeriesClassifyModelConfig
from rnnlab.tasks.classify_series.model import SeriesClassifier
from rnnlab.tasks.classify_series.predictor import SeriesPredictor
from rnnlab.threads import torch_threads
from tests.serve.conftest import Client

LIMITS = ServeConfig(max_texts=5, max_text_chars=300, max_explain_steps=120, max_batch=16)
TEXT = "the plot is thin but the performances are wonderful"


def get(base: str, path: str) -> Any:
    client = Client(base)
    try:
        status, body = client.request("GET", path)
    finally:
        client.close()
    assert status == 200, body
    return body


def post(base: str, path: str, body: Any) -> tuple[int, Any]:
    client = Client(base)
    try:
        return client.request("POST", path, raw=json.dumps(body).encode())
    finally:
        client.close()


def request_schema(schema: dict, path: str) -> dict:
    """The JSON schema of the body of ``POST path``, references resolved one level."""
    ref = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]


def array(prop: dict) -> dict:
    """The array branch of an optional (``anyOf`` with null) property."""
    return next(p for p in prop.get("anyOf", [prop]) if p.get("type") == "array")


@pytest.fixture(scope="module")
def limited(predictor, served_run):
    with (
        torch_threads(1),
        running_server(create_app(predictor, run=served_run, config=LIMITS)) as u,
    ):
        yield u


def test_the_schema_shows_the_limits_given_to_the_server(limited, predictor):
    schema = get(limited, "/openapi.json")
    texts = array(request_schema(schema, "/predict")["properties"]["texts"])
    assert texts["maxItems"] == 5 and texts["minItems"] == 1
    assert texts["items"]["maxLength"] == 300 and texts["items"]["pattern"] == r"\S"
    explain = request_schema(schema, "/explain")
    assert explain["properties"]["text"]["maxLength"] == 300
    steps = explain["properties"]["steps"]
    assert steps["maximum"] == 120 and steps["minimum"] == 2
    python_default = inspect.signature(predictor.explain).parameters["steps"].default
    assert steps["default"] == python_default
    assert explain["additionalProperties"] is False


def test_model_reports_the_limits_that_hold(limited):
    assert get(limited, "/model")["limits"] == {
        "max_texts": 5,
        "max_text_chars": 300,
        "max_explain_steps": 120,
        "max_body_bytes": 2_000_000,
        "max_batch": 16,
        "max_wait_ms": 5.0,
        "batching": True,
        "model_threads": 1,
    }


def test_without_batching_model_reports_no_batch_limits(predictor):
    with running_server(create_app(predictor, config=ServeConfig(batching=False))) as base:
        limits = get(base, "/model")["limits"]
    assert limits["batching"] is False and not {"max_batch", "max_wait_ms"} & set(limits)
    with pytest.raises(ConfigError, match="max_batch and max_wait_ms have no effect with batch"):
        ServeConfig(batching=False, max_batch=8)


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"texts": ["a"] * 6}, 413, "texts holds 6 texts, more than this server's limit of 5"),
        ({"text": "x" * 301}, 413, "text has 301 characters, more than this server's limit"),
        ({"texts": ["ok", "\t \n"]}, 422, "texts[1] is empty"),
        ({"text": ""}, 422, "text is empty"),
    ],
)
def test_over_the_limits_in_one_sentence(limited, body, status, fragment):
    got, answer = post(limited, "/predict", body)
    assert got == status and fragment in answer["error"], answer


def test_explain_without_steps_matches_the_python_default(limited, predictor):
    status, body = post(limited, "/explain", {"text": TEXT, "trace": False})
    assert status == 200, body
    direct = predictor.explain(TEXT)[0].to_dict()
    np.testing.assert_allclose(body["attributions"], direct["attributions"], atol=1e-6)
    status, body = post(limited, "/explain", {"text": TEXT, "steps": 121})
    assert status == 422 and "steps: Input should be less than or equal to 120" in body["error"]
    status, body = post(limited, "/explain", {"text": TEXT, "steps": 1})
    assert status == 422 and "steps" in body["error"]
    with pytest.raises(ConfigError, match="fewer than the 50 steps /explain takes by default"):
        create_app(predictor, config=ServeConfig(max_explain_steps=20))


# A series classifier: real, untrained (the server's answers are compared with its own).
LENGTH = 24


@pytest.fixture(scope="module")
def series_predictor() -> SeriesPredictor:
    torch.manual_seed(0)
    model = SeriesClassifier(3, SeriesClassifyModelConfig(hidden_size=8))
    return SeriesPredictor(model, ["a", "b", "c"], LENGTH, normalise=True)


def test_series_requests_share_model_calls_and_get_their_own_answers(series_predictor):
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(12, LENGTH)).round(4).tolist()
    config = ServeConfig(max_texts=4, max_wait_ms=200.0)
    barrier = threading.Barrier(len(rows))
    answers: list[Any] = [None] * len(rows)

    def send(base: str, i: int) -> None:
        barrier.wait()
        answers[i] = post(base, "/predict", {"series": [rows[i]]})

    with torch_threads(1), running_server(app_for(series_predictor, config=config)) as base:
        threads = [threading.Thread(target=send, args=(base, i)) for i in range(len(rows))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        health = get(base, "/health")
        info = get(base, "/model")
        schema = get(base, "/openapi.json")
        bad = [
            (post(base, "/predict", body), status, fragment)
            for body, status, fragment in (
                ({"series": [rows[0]] * 5}, 413, "series holds 5 series, more than this server"),
                ({"series": []}, 422, "series is an empty list"),
                ({"series": [rows[0][:10]]}, 422, f"expected series of {LENGTH} values"),
                ({"series": [[*rows[0][:-1], float("nan")]]}, 422, "finite number, got NaN"),
                ({"series": [rows[0]], "bogus": 1}, 422, "Unknown field 'bogus'"),
            )
        ]
    expected = series_predictor.predict_proba(rows)
    for (status, body), row in zip(answers, expected, strict=True):
        assert status == 200, body
        got = [body["predictions"][0]["probabilities"][k] for k in ("a", "b", "c")]
        np.testing.assert_allclose(got, row, atol=1e-6)
    assert health["texts"] == len(rows) and health["largest_batch"] >= 2
    assert info["limits"]["max_batch"] == 64 and info["limits"]["max_texts"] == 4
    assert array(request_schema(schema, "/predict")["properties"]["series"])["maxItems"] == 4
    for (status, body), want, fragment in bad:
        assert status == want and fragment in body["error"], body


class FakeForecaster:
    """The attributes a forecasting server reads before its first forecast (the request
    checks tested here come before the model is asked)."""

    task = "forecast"
    labels = ()
    model = None
    horizon = 12

    def forecast(self, *args: Any) -> list[dict]:
        raise AssertionError("the request should have been refused before the model")


def test_forecast_bodies_refuse_unknown_keys_naming_them():
    config = ServeConfig(max_texts=2)
    series = {"unique_id": "a", "ds": ["2020-01-01"], "y": [1.0]}
    with running_server(app_for(FakeForecaster(), config=config)) as base:
        for body, fragment in (
            ({"horizon": 3, "horizn": 4}, "Unknown field 'horizn'"),
            ({"series": [{**series, "values": [1]}]}, "Unknown field 'series[0].values'"),
            ({"future": [{"ds": [], "values": {}, "x": 0}]}, "Unknown field 'future[0].x'"),
        ):
            status, answer = post(base, "/forecast", body)
            assert status == 422 and fragment in answer["error"], answer
        status, answer = post(base, "/forecast", {"series": [series] * 3})
        assert status == 413 and "series holds 3 series" in answer["error"]
        limits = get(base, "/model")["limits"]
    assert limits == {"max_texts": 2, "max_body_bytes": 2_000_000, "model_threads": 1}


@pytest.mark.parametrize(
    ("config", "flags"),
    [
        (ServeConfig(max_batch=8), "leave out --max-batch."),
        (ServeConfig(batching=False), "leave out --batching/--no-batching."),
        (
            ServeConfig(max_wait_ms=1.0, batching=True),
            "--max-wait-ms and --batching/--no-batching.",
        ),
    ],
)
def test_batching_settings_are_refused_where_requests_run_alone(config, flags):
    with pytest.raises(ConfigError, match=r"^serve: a forecaster's server runs each") as caught:
        app_for(FakeForecaster(), config=config)
    assert str(caught.value).endswith(flags)
