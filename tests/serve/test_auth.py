"""The API key over a real socket: without it or with a wrong one every endpoint but /health
answers 401 with one sentence and ``WWW-Authenticate: Bearer``; with it everything works; the
OpenAPI schema declares the scheme. ``rnnlab serve`` takes the key from --api-key or
RNNLAB_API_KEY, and warns on one line when it listens beyond this machine without one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from rnnlab.cli import app as cli
from rnnlab.errors import ConfigError
from rnnlab.serve import ServeConfig, create_app, is_loopback, running_server
from rnnlab.threads import torch_threads
from tests.serve.conftest import Client

KEY = "s3cret-Key_1"
TEXT = {"text": "A gripping, beautifully acted film."}
GUARDED = [
    ("POST", "/predict", TEXT),
    ("POST", "/explain", TEXT),
    ("GET", "/model", None),
    ("GET", "/openapi.json", None),
    ("GET", "/", None),
    ("GET", "/static/app.js", None),
    ("GET", "/nowhere", None),
]


@pytest.fixture(scope="module")
def keyed(predictor) -> Iterator[str]:
    """Base URL of a server with an API key."""
    config = ServeConfig(max_texts=8, api_key=KEY)
    with torch_threads(1), running_server(create_app(predictor, config=config)) as url:
        yield url


def call(base: str, method: str, path: str, body: Any = None, key: str | None = None) -> tuple:
    """Status, body and headers of one request, with ``Authorization: Bearer key`` if given."""
    client = Client(base)
    try:
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        status, answer = client.request(method, path, body, headers=headers)
        return status, answer, client.headers
    finally:
        client.close()


@pytest.mark.parametrize(("method", "path", "body"), GUARDED, ids=[g[1] for g in GUARDED])
@pytest.mark.parametrize("key", [None, "wrong", KEY + "x", KEY[:-1]], ids=str)
def test_no_way_in_without_the_right_key(keyed, method, path, body, key):
    status, answer, headers = call(keyed, method, path, body, key)
    assert status == 401, answer
    assert set(answer) == {"error"} and answer["error"].endswith(".")
    assert "\n" not in answer["error"] and KEY not in answer["error"]
    assert ("needs an API key" if key is None else "key is wrong") in answer["error"]
    assert headers["WWW-Authenticate"] == "Bearer"


def test_the_key_opens_every_endpoint_and_health_needs_none(keyed, predictor):
    status, answer, _ = call(keyed, "GET", "/health")
    assert status == 200 and answer["status"] == "ok"
    status, answer, _ = call(keyed, "POST", "/predict", TEXT, KEY)
    assert status == 200 and answer["label"] == predictor.predict([TEXT["text"]])[0]
    assert call(keyed, "GET", "/model", key=KEY)[0] == 200
    assert call(keyed, "GET", "/", key=KEY)[0] == 200
    status, answer, _ = call(keyed, "GET", "/nowhere", key=KEY)
    assert status == 404 and "no such endpoint" in answer["error"]
    # The scheme is case-insensitive (RFC 7235); the key is not.
    client = Client(keyed)
    for header, expected in ((f"bearer {KEY}", 200), (KEY, 401), (f"Bearer {KEY.upper()}", 401)):
        status, _ = client.request("POST", "/predict", TEXT, headers={"Authorization": header})
        assert status == expected, header
    client.close()


def test_the_openapi_schema_declares_the_scheme(keyed, server):
    status, schema, _ = call(keyed, "GET", "/openapi.json", key=KEY)
    assert status == 200
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path in ("/predict", "/explain"):
        operation = schema["paths"][path]["post"]
        assert operation["security"] == [{"bearer": []}]
        assert "401" in operation["responses"]
    assert schema["paths"]["/model"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in schema["paths"]["/health"]["get"]
    # A server without a key declares none.
    status, plain, _ = call(server, "GET", "/openapi.json")
    assert status == 200 and "securitySchemes" not in plain.get("components", {})
    assert "security" not in plain["paths"]["/predict"]["post"]


@pytest.mark.parametrize("key", ["", "two words", "ключ", "tab\tkey"])
def test_a_key_a_header_cannot_carry_is_refused(key):
    with pytest.raises(ConfigError, match=r"^serve: the API key must be one or more visible"):
        ServeConfig(api_key=key)
    assert "fine" not in repr(ServeConfig(api_key="fine"))  # a key never reaches a log


def test_loopback_hosts():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.1.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.4", "example.org"))


def serve_command(monkeypatch, *args: str, env: dict[str, str | None]) -> tuple[Any, Any]:
    """``rnnlab serve ARGS`` through the real command line, with the server replaced by a
    function that keeps the application: the result and the app."""
    kept: dict[str, Any] = {}
    monkeypatch.setattr("rnnlab.serve.serve", lambda app, **kw: kept.update(app=app, **kw))
    result = CliRunner().invoke(cli, ["serve", *args], env=env)
    return result, kept.get("app")


@pytest.mark.parametrize("where", ["env", "flag"])
def test_the_command_takes_the_key_from_the_environment_or_the_flag(monkeypatch, served_run, where):
    if where == "env":
        result, app = serve_command(monkeypatch, str(served_run), env={"RNNLAB_API_KEY": KEY})
    else:
        result, app = serve_command(
            monkeypatch, str(served_run), "--api-key", KEY, env={"RNNLAB_API_KEY": None}
        )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr and KEY not in result.output
    with torch_threads(1), running_server(app) as base:
        assert call(base, "POST", "/predict", TEXT)[0] == 401
        assert call(base, "POST", "/predict", TEXT, "not-it")[0] == 401
        assert call(base, "POST", "/predict", TEXT, KEY)[0] == 200
        assert call(base, "GET", "/health")[0] == 200


def test_the_command_warns_once_when_others_can_reach_a_server_without_a_key(
    monkeypatch, served_run
):
    result, _ = serve_command(
        monkeypatch, str(served_run), "--host", "0.0.0.0", env={"RNNLAB_API_KEY": None}
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stderr
    assert "0.0.0.0" in warnings[0] and "RNNLAB_API_KEY" in warnings[0]
    for args, env in (
        (["--host", "0.0.0.0"], {"RNNLAB_API_KEY": KEY}),
        (["--host", "::1"], {"RNNLAB_API_KEY": None}),
        (["--host", "localhost"], {"RNNLAB_API_KEY": None}),
        ([], {"RNNLAB_API_KEY": None}),
    ):
        result, _ = serve_command(monkeypatch, str(served_run), *args, env=env)
        assert result.exit_code == 0 and "warning" not in result.stderr, (args, result.stderr)


def test_the_command_refuses_a_bad_key_in_one_sentence(monkeypatch, served_run):
    result, app = serve_command(
        monkeypatch, str(served_run), "--api-key", "two words", env={"RNNLAB_API_KEY": None}
    )
    assert result.exit_code == 2 and app is None
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "the API key must be one or more visible" in lines[0]
