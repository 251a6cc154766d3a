"""A tiny trained run served by a real uvicorn server on 127.0.0.1 (a free port), and a
plain HTTP client for it."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("fastapi", reason="the server needs fastapi (pip install 'rnnlab[serve]')")
pytest.importorskip("uvicorn", reason="the server needs uvicorn (pip install 'rnnlab[serve]')")

import rnnlab
from rnnlab.serve import ServeConfig, create_app, running_server
from rnnlab.threads import torch_threads
from tests.tiny_run import train_tiny_run

LIMITS = ServeConfig(max_texts=8, max_text_chars=2000, max_wait_ms=5.0)


@pytest.fixture(scope="session")
def served_run(rotten_tomatoes, tmp_path_factory) -> Path:
    """A small GRU that has learnt something (≈0.79 test accuracy, ~3 s on one thread), so
    that its attributions on the page mean something."""
    folder = tmp_path_factory.mktemp("served")
    options = {"epochs": 3, "hidden_size": 32, "embedding_dim": 32, "lr": 3e-3}
    return train_tiny_run(folder, rotten_tomatoes, n=len(rotten_tomatoes.train.texts), **options)


@pytest.fixture(scope="session")
def predictor(served_run):
    return rnnlab.load(served_run)


@pytest.fixture(scope="module")
def server(served_run, predictor) -> Iterator[str]:
    """Base URL of the app serving ``predictor`` with small limits (one torch thread)."""
    with (
        torch_threads(1),
        running_server(create_app(predictor, run=served_run, config=LIMITS)) as url,
    ):
        yield url


class Client:
    """One keep-alive HTTP/1.1 connection, as a real client holds it."""

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Status and body (parsed when JSON); the response's headers are kept in
        ``self.headers``."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json"} if data is not None else {}
        self.connection.request(method, path, body=data, headers={**sent, **(headers or {})})
        response = self.connection.getresponse()
        payload = response.read()
        self.headers = response.headers
        content_type = response.getheader("content-type", "")
        return response.status, json.loads(payload) if "json" in content_type else payload

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def client(server) -> Iterator[Client]:
    c = Client(server)
    yield c
    c.close()
