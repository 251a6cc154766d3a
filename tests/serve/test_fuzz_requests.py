"""Fuzzing the HTTP schemas over a real socket: any JSON value, any bytes, odd Unicode.

Property: never a 5xx; every error response is ``{"error": "<one sentence>"}`` (a 422 may add
``detail``); a valid request is answered with a prediction; the server stays up.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("hypothesis", reason="fuzzing needs hypothesis (a dev extra)")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.outcomes import record
from tests.serve.conftest import Client

FUZZ = settings(
    max_examples=80, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
UNICODE = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | UNICODE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(UNICODE, inner, max_size=4),
    max_leaves=12,
)
BODIES = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"text": JSON}).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"texts": st.lists(JSON, max_size=5)}).map(
        lambda v: json.dumps(v).encode()
    ),
    st.fixed_dictionaries({"text": UNICODE}).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
)


def check(status: int, body, kind: str, what: str) -> None:
    assert status < 500, body
    if status >= 400:
        assert isinstance(body, dict) and isinstance(body.get("error"), str), body
        assert set(body) <= {"error", "detail"} and "\n" not in body["error"], body
        record(kind, what, "clear error")
    else:
        assert "label" in body or "predictions" in body, body
        record(kind, what, "result")


@pytest.mark.parametrize("endpoint", ["/predict", "/explain"])
@FUZZ
@given(raw=BODIES)
def test_any_body_gets_a_prediction_or_one_error_sentence(server, endpoint, raw):
    client = Client(server)
    try:
        status, body = client.request("POST", endpoint, raw=raw)
    finally:
        client.close()
    what = f"POST {endpoint} with any JSON value, any bytes, odd Unicode"
    check(status, body, f"HTTP POST {endpoint}: fuzzed body", what)


def test_server_is_healthy_after_the_fuzzing(server):
    client = Client(server)
    status, body = client.request("GET", "/health")
    client.close()
    assert status == 200 and body["status"] == "ok"
