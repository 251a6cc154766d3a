"""The API key: with one set, every endpoint but ``/health`` needs ``Authorization: Bearer KEY``.

One HTTP middleware guards the whole application — the task's endpoints, ``/model``,
``/openapi.json``, the web page and its files, and paths that do not exist — so an endpoint
added later cannot slip past it, and a caller without the key learns nothing about the model.
``/health`` stays open for load balancers and orchestrators. A missing or wrong key gets 401,
``{"error": "<one sentence>"}`` and ``WWW-Authenticate: Bearer``.

The key is compared with :func:`hmac.compare_digest` on SHA-256 digests of the two values: in
time independent of how much of the key was right, and of its length. The OpenAPI schema
declares the scheme (HTTP bearer) on every operation but ``/health``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

__all__ = ["OPEN_PATHS", "require_api_key"]

OPEN_PATHS = frozenset({"/health"})
SCHEME = "bearer"  # the name of the security scheme in the OpenAPI schema
_MISSING = "This server needs an API key; send it in the header Authorization: Bearer <key>."
_WRONG = (
    "The API key is wrong; send the key the server was started with as Authorization: Bearer <key>."
)


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def _presented(header: str | None) -> bytes | None:
    """The token of an ``Authorization: Bearer <token>`` header; None when there is none.

    Starlette decodes header values as Latin-1, so encoding them back gives the bytes sent."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    return token.encode("latin-1") if scheme.lower() == "bearer" and token else None


def require_api_key(app: FastAPI, key: str) -> None:
    """Refuse every request to ``app`` but ``GET /health`` without ``Authorization: Bearer
    <key>``, and declare the scheme in its OpenAPI schema.

    Add it after the application's other middleware, so that it runs first."""
    expected = _digest(key.encode("ascii"))

    @app.middleware("http")
    async def check_key(request: Request, call_next: Callable[[Request], Any]) -> Any:
        if request.url.path in OPEN_PATHS:
            return await call_next(request)
        given = _presented(request.headers.get("authorization"))
        if given is None or not hmac.compare_digest(_digest(given), expected):
            return JSONResponse(
                {"error": _MISSING if given is None else _WRONG},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await call_next(request)

    _declare_scheme(app)


def _declare_scheme(app: FastAPI) -> None:
    """Add the bearer scheme, and a 401 answer, to every operation of the schema but the open
    ones (FastAPI's own way to change the schema: replace ``app.openapi``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()  # also stored as app.openapi_schema
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})[SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "The key the server was started with (rnnlab serve --api-key, "
            "or the environment variable RNNLAB_API_KEY).",
        }
        error = (
            {"$ref": "#/components/schemas/ErrorResponse"}
            if "ErrorResponse" in components.get("schemas", {})
            else {"type": "object", "properties": {"error": {"type": "string"}}}
        )
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if path in OPEN_PATHS:
                    continue
                operation["security"] = [{SCHEME: []}]
                operation.setdefault("responses", {})["401"] = {
                    "description": "Missing or wrong API key",
                    "content": {"application/json": {"schema": error}},
                }
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
