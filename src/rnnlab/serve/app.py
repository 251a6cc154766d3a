"""The HTTP API and the web page of a trained model (FastAPI).

    POST /predict   {"text": "…"} → {"label", "probabilities"};  {"texts": [...]} → {"predictions"}
    POST /explain   {"text": "…", "method": "ig"} → tokens, attributions, prediction, gate trace
    GET  /health    liveness and micro-batching counters
    GET  /model     task, labels, configuration, metrics, limits
    GET  /          the web page (static/index.html, no external resources)
    GET  /openapi.json

Every error is JSON ``{"error": "<one sentence>"}``: 400 for a body that is not JSON, 401
without the API key (when the server has one), 413 for a body or text over the limits, 422
for a body of the wrong shape or type, 501 when explanations are unavailable. The request
bodies carry the server's limits as constraints (:mod:`rnnlab.serve.request_models`), so the
OpenAPI schema shows them. Predictions go through :class:`MicroBatcher`, so concurrent
requests share model calls; everything that touches the model runs in its one worker thread.

This module has no ``from __future__ import annotations``: FastAPI reads each route's body
type from its annotation, and the bodies are classes built per server.
"""

import contextlib
import inspect
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from rnnlab import __version__
from rnnlab.errors import ConfigError, MissingDependencyError, RnnlabError
from rnnlab.serve.auth import require_api_key
from rnnlab.serve.batching import MicroBatcher
from rnnlab.serve.config import BATCHING, ServeConfig
from rnnlab.serve.request_models import request_models
from rnnlab.serve.schemas import (
    ErrorResponse,
    ExplainResponse,
    HealthResponse,
    Prediction,
    PredictionList,
)

__all__ = [
    "ERROR_RESPONSES",
    "ApiError",
    "ServeConfig",
    "base_app",
    "create_app",
    "model_info",
    "task_app",
    "validation_error",
]

STATIC = Path(__file__).parent / "static"
_EXAMPLE = 'send {"text": "..."} or {"texts": ["...", "..."]}'


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _where(loc: Sequence[Any]) -> str:
    """("body", "texts", 2) → "texts[2]"."""
    out = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _over_limit(first: dict[str, Any]) -> str | None:
    """The sentence for a request over one of the server's size limits (answered with 413),
    or None for any other failed check."""
    where, limit = _where(first["loc"]), (first.get("ctx") or {}).get("max_length")
    if first["type"] == "string_too_long":
        return (
            f"{where} has {len(first['input']):,} characters, more than this server's limit of "
            f"{limit:,}; send shorter texts (or start the server with --max-text-chars)."
        )
    if first["type"] == "too_long" and isinstance(first.get("input"), list):
        name = next((p for p in reversed(first["loc"]) if isinstance(p, str)), "items")
        return (
            f"{where} holds {len(first['input'])} {name}, more than this server's limit of "
            f"{limit} per request; split the list (or start the server with --max-texts)."
        )
    return None


def validation_error(exc: RequestValidationError, example: str = _EXAMPLE) -> JSONResponse:
    """One sentence for a request body that failed its model's checks (see
    :mod:`rnnlab.serve.request_models`): 400 when it is not JSON, 413 when it is over a size
    limit, 422 otherwise; ``example`` says what to send."""
    errors = exc.errors()
    first = errors[0] if errors else {"type": "", "loc": (), "msg": "invalid request"}
    kind, loc = first["type"], tuple(first["loc"])
    if kind == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "")
        message = f"The request body is not valid JSON ({reason}); {example}."
        return JSONResponse({"error": message}, status_code=400)
    over = _over_limit(first)
    if over is not None:
        return JSONResponse({"error": over}, status_code=413)
    where = _where(loc)
    if kind == "missing" and loc == ("body",):
        message = f"The request has no JSON body; {example} with Content-Type: application/json."
    elif kind == "model_attributes_type" and loc == ("body",):
        message = f"The request body must be a JSON object; {example}."
    elif kind == "extra_forbidden":
        message = f"Unknown field {where!r}; {example}."
    elif kind == "string_pattern_mismatch":
        message = f"{where} is empty; send text with at least one visible character."
    elif kind == "too_short" and isinstance(first.get("input"), list):
        message = f"{where} is an empty list; send at least one item."
    elif loc == ("body",):  # a check of the whole body (exactly one of two fields)
        message = f"{first['msg']}; {example}."
    else:
        got = first.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f", got {json.dumps(got)[:60]}"
        message = f"{where}: {first['msg']}{got_text}."
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    return JSONResponse({"error": message, "detail": detail}, status_code=422)


def _http_error_message(request: Request, exc: StarletteHTTPException, example: str) -> str:
    """One sentence for the errors FastAPI raises itself, in the ``{"error": …}`` shape of
    every other error: an unknown path or method, or a body its JSON parser gave up on (one
    nested deeper than Python's recursion limit)."""
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 404:
        return f"{where}: no such endpoint; the endpoints are listed at GET /openapi.json."
    if exc.status_code == 405:
        return f"{where}: method not allowed here; the endpoints are listed at GET /openapi.json."
    if exc.status_code == 400:
        return f"The request body could not be parsed (nested too deeply or malformed); {example}."
    return f"{where}: {exc.detail}."


def _prediction(row: np.ndarray, labels: list[Any], names: list[str]) -> dict[str, Any]:
    """One text's answer; ``names`` are the labels as JSON keys (``str(label)``)."""
    return {
        "label": labels[int(row.argmax())],
        "probabilities": dict(zip(names, row.tolist(), strict=True)),
    }


def _read_json(path: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        return json.loads(path.read_text(encoding="utf-8"))
    return {}


def _preprocessing(predictor: Any) -> dict[str, Any]:
    """Tokenizer settings and vocabulary size (text tasks), and whatever encoding settings
    the predictor has (maximum length, level; a forecaster's horizon, levels, frequency; a
    series classifier's series length)."""
    found: dict[str, Any] = {}
    tokenizer = getattr(predictor, "tokenizer", None)
    if tokenizer is not None:  # text tasks; a forecaster reads numbers
        found["tokenizer"] = tokenizer if isinstance(tokenizer, dict) else tokenizer.to_dict()
        found["vocab_size"] = len(predictor.vocab)
    for name in ("max_len", "truncate", "level", "horizon", "levels", "freq", "length"):
        if hasattr(predictor, name):
            found[name] = getattr(predictor, name)
    return found


def model_info(predictor: Any, run: Path | None, engine: str, limits: dict[str, Any]) -> dict:
    """What /model reports: task, labels, configuration, metrics, preprocessing, and the
    ``limits`` that hold for this server."""
    run_dir = run if run is not None and run.is_dir() else None
    configuration: dict[str, Any] = {}
    if run_dir is not None and (run_dir / "config.toml").is_file():
        from rnnlab.tasks.base import get_task

        config_type = get_task(predictor.task).config_type
        with contextlib.suppress(RnnlabError, OSError):
            configuration = config_type.from_toml(run_dir / "config.toml").to_dict()
    if not configuration and hasattr(predictor.model, "config"):
        configuration = {"model": asdict(predictor.model.config)}
    return {
        "task": predictor.task,
        "labels": list(predictor.labels),
        "engine": engine,
        "run": None if run is None else str(run),
        "config": configuration,
        "metrics": _read_json(run_dir / "metrics.json") if run_dir is not None else {},
        "preprocessing": _preprocessing(predictor),
        "limits": limits,
        "explain": hasattr(predictor, "explain"),
        "rnnlab_version": __version__,
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse},
    413: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def _refuse_batching(predictor: Any, config: ServeConfig) -> None:
    """One sentence when ``config`` sets micro-batching for a server whose requests each run
    on their own, where the settings would have no effect."""
    asked = config.batching_asked()
    if asked:
        from rnnlab.tasks.base import get_task

        raise ConfigError(
            f"serve: a {get_task(predictor.task).title}'s server runs each request on its own, "
            f"so {' and '.join(asked)} would have no effect; leave out "
            f"{' and '.join(BATCHING[name] for name in asked)}."
        )


def task_app(
    predictor: Any,
    fn: Callable[[list[Any]], Any],
    *,
    run: str | Path | None,
    engine: str,
    config: ServeConfig | None,
    description: str,
    example: str,
    limits: Sequence[str],
    batched: bool,
    extra_limits: dict[str, Any] | None = None,
) -> tuple[FastAPI, MicroBatcher, ServeConfig]:
    """:func:`base_app` and the batcher of one task's server, and its settings.

    Args:
        predictor: the model (its task, labels and preprocessing go to /model).
        fn: the batch function: a list of inputs → one result row per input.
        run, engine: reported by /model.
        config: the settings (default :class:`ServeConfig`).
        description, example: the OpenAPI description, and what a client should send.
        limits: the settings of ``config`` that this server's endpoints enforce; /model
            reports them, with the body-size limit, the model's threads and (``batched``) the
            micro-batching settings, and ``extra_limits``.
        batched: True when concurrent requests share model calls (``await
            batcher.submit(inputs)``: the classifier and the series classifier); False when
            each runs on its own (``await batcher.run(fn, ...)``), and micro-batching settings
            in ``config`` are refused, since they would have no effect.
    """
    config = config or ServeConfig()
    held = [*limits, "max_body_bytes"]
    if batched:
        settings = config.limits(*BATCHING)
        held += list(BATCHING) if settings["batching"] else ["batching"]
        batcher = MicroBatcher(
            fn,
            max_batch=settings["max_batch"],
            max_wait_ms=settings["max_wait_ms"],
            enabled=settings["batching"],
            threads=config.model_threads,
        )
    else:
        _refuse_batching(predictor, config)
        batcher = MicroBatcher(
            fn, max_batch=1, max_wait_ms=0, enabled=False, threads=config.model_threads
        )
    held.append("model_threads")
    reported = {**config.limits(*held), **(extra_limits or {})}
    info = model_info(predictor, None if run is None else Path(run), engine, reported)
    return base_app(batcher, config, info, description, example), batcher, config


def base_app(
    batcher: MicroBatcher, config: ServeConfig, info: dict[str, Any], description: str,
    example: str,
) -> FastAPI:  # fmt: skip
    """What every task's server shares: the batcher's lifespan, ``{"error": …}`` answers
    for bad bodies (``example`` says what to send), the body-size limit, the API key
    (``config.api_key``, see :mod:`rnnlab.serve.auth`), ``GET /health`` and ``GET /model``.
    Each task's app adds its own endpoints."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(
        title="rnnlab",
        version=__version__,
        description=description,
        docs_url=None,  # the hosted Swagger/ReDoc pages load scripts from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    app.state.config = config

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_error(exc, example)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": _http_error_message(request, exc, example)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > config.max_body_bytes:
            return JSONResponse(
                {
                    "error": f"The request body has {int(length):,} bytes, more than this "
                    f"server's limit of {config.max_body_bytes:,}; send fewer or shorter texts."
                },
                status_code=413,
            )
        return await call_next(request)

    if config.api_key is not None:  # added last, so it runs first
        require_api_key(app, config.api_key)

    @app.get("/health", response_model=HealthResponse, summary="Liveness and batching counters")
    async def health() -> dict[str, Any]:
        stats = batcher.stats
        return {
            "status": "ok",
            "queued": batcher.pending,
            "batches": stats.batches,
            "texts": stats.texts,
            "largest_batch": stats.largest,
        }

    @app.get("/model", summary="Task, labels, configuration, metrics and limits")
    async def model() -> dict[str, Any]:
        return info

    return app


def _default_steps(predictor: Any) -> int | None:
    """The integration steps ``predictor.explain`` takes when given none (None without
    ``explain``): what /explain uses for a request that names none, so that HTTP and Python
    give the same attributions for the same text."""
    if not hasattr(predictor, "explain"):
        return None
    return inspect.signature(predictor.explain).parameters["steps"].default


def create_app(
    predictor: Any,
    *,
    run: str | Path | None = None,
    engine: str = "torch",
    config: ServeConfig | None = None,
) -> FastAPI:
    """The FastAPI application serving ``predictor`` (a loaded :class:`Predictor`).

    Args:
        predictor: the model; ``predict_proba`` answers /predict, ``explain`` and ``trace``
            (when present) answer /explain.
        run: the run directory, for the configuration and metrics that /model shows.
        engine: the engine's name, reported by /model.
        config: limits, batching and API key (:class:`ServeConfig`).
    """
    config = config or ServeConfig()
    labels = list(predictor.labels)
    names = [str(label) for label in labels]
    steps = _default_steps(predictor)
    if steps is not None and steps > config.max_explain_steps:
        raise ConfigError(
            f"serve: max_explain_steps is {config.max_explain_steps}, fewer than the "
            f"{steps} steps /explain takes by default; allow at least {steps}."
        )
    bodies = request_models(config, explain_steps=steps)
    app, batcher, config = task_app(
        predictor,
        predictor.predict_proba,
        run=run,
        engine=engine,
        config=config,
        description=f"A {predictor.task} model with labels {labels}.",
        example=_EXAMPLE,
        limits=("max_texts", "max_text_chars")
        + (("max_explain_steps",) if steps is not None else ()),
        batched=True,
    )
    errors = ERROR_RESPONSES

    @app.post(
        "/predict",
        response_model=Prediction | PredictionList,
        responses=errors,
        summary="Label one text or a list of texts",
    )
    async def predict(body: bodies.predict) -> dict[str, Any]:  # type: ignore[valid-type]
        try:
            probs = await batcher.submit(body.all_texts())
        except RnnlabError as exc:
            raise ApiError(422, str(exc)) from None
        predictions = [_prediction(row, labels, names) for row in probs]
        return predictions[0] if body.text is not None else {"predictions": predictions}

    @app.post(
        "/explain",
        response_model=ExplainResponse,
        responses={**errors, 501: {"model": ErrorResponse}},
        summary="Token attributions and the gate trace of one text",
    )
    async def explain(body: bodies.explain) -> dict[str, Any]:  # type: ignore[valid-type]
        if not hasattr(predictor, "explain"):
            raise ApiError(501, "This rnnlab has no explanations (Predictor.explain is missing).")
        target = None
        if body.target is not None:
            matches = [label for label in labels if str(label) == str(body.target)]
            if not matches:
                raise ApiError(
                    422,
                    f"target {body.target!r} is not a label of this model; use one of {labels}.",
                )
            target = matches[0]

        def work() -> dict[str, Any]:
            result = predictor.explain(
                body.text, method=body.method, target=target, steps=body.steps
            )[0].to_dict()
            result["trace"] = predictor.trace(body.text).to_dict() if body.trace else None
            return result

        try:
            return await batcher.run(work)
        except MissingDependencyError as exc:
            raise ApiError(501, str(exc)) from None
        except RnnlabError as exc:
            raise ApiError(422, str(exc)) from None

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
