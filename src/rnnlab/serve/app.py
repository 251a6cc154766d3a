"""The HTTP API and the web page of a trained model (FastAPI).

    POST /predict   {"text": "…"} → {"label", "probabilities"};  {"texts": [...]} → {"predictions"}
    POST /explain   {"text": "…", "method": "ig"} → tokens, attributions, prediction, gate trace
    GET  /health    liveness and micro-batching counters
    GET  /model     task, labels, configuration, metrics, limits
    GET  /          the web page (static/index.html, no external resources)
    GET  /openapi.json

Every error is JSON ``{"error": "<one sentence>"}``: 400 for a body that is not JSON, 413
for a body or text over the limits, 422 for a body of the wrong shape or type, 501 when
explanations are unavailable. Predictions go through :class:`MicroBatcher`, so concurrent
requests share model calls; everything that touches the model runs in its one worker thread.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
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
from rnnlab.serve.batching import MicroBatcher
from rnnlab.serve.schemas import (
    ErrorResponse,
    ExplainRequest,
    ExplainResponse,
    HealthResponse,
    Prediction,
    PredictionList,
    PredictRequest,
)

__all__ = ["ERROR_RESPONSES", "ApiError", "ServeConfig", "base_app", "create_app", "model_info"]

STATIC = Path(__file__).parent / "static"
_EXAMPLE = 'send {"text": "..."} or {"texts": ["...", "..."]}'


@dataclass(frozen=True)
class ServeConfig:
    """Limits and batching of the server.

    Attributes:
        max_texts: most texts in one /predict request.
        max_text_chars: most characters in one text (longer: 413).
        max_body_bytes: most bytes in one request body (larger: 413, before parsing).
        max_explain_steps: most integration steps one /explain request may ask for.
        max_batch: most texts the micro-batcher puts in one model call.
        max_wait_ms: how long the first request of a batch waits for others.
        batching: False runs every request as its own model call.
        model_threads: torch intra-op threads of the model's worker thread (see
            :class:`MicroBatcher` for why 1 is the default).
    """

    max_texts: int = 64
    max_text_chars: int = 10_000
    max_body_bytes: int = 2_000_000
    max_explain_steps: int = 200
    max_batch: int = 64
    max_wait_ms: float = 5.0
    batching: bool = True
    model_threads: int = 1

    def __post_init__(self) -> None:
        for name in (
            "max_texts",
            "max_text_chars",
            "max_body_bytes",
            "max_batch",
            "model_threads",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"serve: {name} must be a positive integer, got {value!r}.")
        if self.max_wait_ms < 0:
            raise ConfigError(f"serve: max_wait_ms must be >= 0, got {self.max_wait_ms!r}.")


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


def _validation_error(exc: RequestValidationError, example: str = _EXAMPLE) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {"type": "", "loc": (), "msg": "invalid request"}
    if first["type"] == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "")
        message = f"The request body is not valid JSON ({reason}); {example}."
        return JSONResponse({"error": message}, status_code=400)
    if first["type"] == "missing" and tuple(first["loc"]) == ("body",):
        message = f"The request has no JSON body; {example} with Content-Type: application/json."
    elif first["type"] == "model_attributes_type" and tuple(first["loc"]) == ("body",):
        message = f"The request body must be a JSON object; {example}."
    elif first["type"] == "extra_forbidden":
        message = f"Unknown field {_where(first['loc'])!r}; {example}."
    else:
        got = first.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f", got {json.dumps(got)[:60]}"
        message = f"{_where(first['loc'])}: {first['msg']}{got_text}."
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


def _check_text(text: str, where: str, limit: int) -> None:
    if not text.strip():
        raise ApiError(422, f"{where} is empty; send text with at least one visible character.")
    if len(text) > limit:
        raise ApiError(
            413,
            f"{where} has {len(text):,} characters, more than this server's limit of "
            f"{limit:,}; send shorter texts (or start the server with --max-text-chars).",
        )


def _texts_of(body: PredictRequest, config: ServeConfig) -> tuple[list[str], bool]:
    if (body.text is None) == (body.texts is None):
        raise ApiError(422, f"Give exactly one of 'text' and 'texts'; {_EXAMPLE}.")
    if body.text is not None:
        _check_text(body.text, "text", config.max_text_chars)
        return [body.text], True
    texts = body.texts or []
    if not texts:
        raise ApiError(422, "texts is an empty list; send at least one text.")
    if len(texts) > config.max_texts:
        raise ApiError(
            413,
            f"texts holds {len(texts)} texts, more than this server's limit of "
            f"{config.max_texts} per request; split the list.",
        )
    for i, text in enumerate(texts):
        _check_text(text, f"texts[{i}]", config.max_text_chars)
    return texts, False


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


def model_info(predictor: Any, run: Path | None, engine: str, config: ServeConfig) -> dict:
    """What /model reports: task, labels, configuration, metrics, preprocessing, limits."""
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
        "limits": asdict(config),
        "explain": hasattr(predictor, "explain"),
        "rnnlab_version": __version__,
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse},
    413: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def worker_app(
    call: Any, predictor: Any, run: str | Path | None, engine: str, config: ServeConfig | None,
    description: str, example: str,
) -> tuple[FastAPI, MicroBatcher, ServeConfig]:  # fmt: skip
    """:func:`base_app` for a model whose calls run one at a time in the batcher's worker
    thread, never batched together (the language-model, forecasting and series servers):
    the application, its batcher (``await batcher.run(fn, ...)``) and the limits."""
    config = config or ServeConfig()
    batcher = MicroBatcher(
        call, max_batch=1, max_wait_ms=0, enabled=False, threads=config.model_threads
    )
    info = model_info(predictor, None if run is None else Path(run), engine, config)
    return base_app(batcher, config, info, description, example), batcher, config


def base_app(
    batcher: MicroBatcher, config: ServeConfig, info: dict[str, Any], description: str,
    example: str,
) -> FastAPI:  # fmt: skip
    """What every task's server shares: the batcher's lifespan, ``{"error": …}`` answers
    for bad bodies (``example`` says what to send), the body-size limit, ``GET /health`` and
    ``GET /model``. Each task's app adds its own endpoints."""

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
        return _validation_error(exc, example)

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
        config: limits and batching (:class:`ServeConfig`).
    """
    config = config or ServeConfig()
    labels = list(predictor.labels)
    names = [str(label) for label in labels]
    batcher = MicroBatcher(
        predictor.predict_proba,
        max_batch=config.max_batch,
        max_wait_ms=config.max_wait_ms,
        enabled=config.batching,
        threads=config.model_threads,
    )
    info = model_info(predictor, None if run is None else Path(run), engine, config)

    app = base_app(
        batcher, config, info, f"A {predictor.task} model with labels {labels}.", _EXAMPLE
    )
    errors = ERROR_RESPONSES

    @app.post(
        "/predict",
        response_model=Prediction | PredictionList,
        responses=errors,
        summary="Label one text or a list of texts",
    )
    async def predict(body: PredictRequest) -> dict[str, Any]:
        texts, single = _texts_of(body, config)
        try:
            probs = await batcher.submit(texts)
        except RnnlabError as exc:
            raise ApiError(422, str(exc)) from None
        predictions = [_prediction(row, labels, names) for row in probs]
        return predictions[0] if single else {"predictions": predictions}

    @app.post(
        "/explain",
        response_model=ExplainResponse,
        responses={**errors, 501: {"model": ErrorResponse}},
        summary="Token attributions and the gate trace of one text",
    )
    async def explain(body: ExplainRequest) -> dict[str, Any]:
        if not hasattr(predictor, "explain"):
            raise ApiError(501, "This rnnlab has no explanations (Predictor.explain is missing).")
        _check_text(body.text, "text", config.max_text_chars)
        if body.steps > config.max_explain_steps:
            raise ApiError(
                422,
                f"steps is {body.steps}, more than this server's limit of "
                f"{config.max_explain_steps}; ask for fewer integration steps.",
            )
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
