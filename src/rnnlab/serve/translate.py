"""The HTTP API of a translation run (FastAPI).

    POST /translate  {"text": "…"} or {"texts": [...]}, optional "beam" and "nbest"
                     → {"translations": [...], "beam": B} (and, for "nbest" N > 1,
                     "nbest": N translations of each sentence, best first)
    GET  /health     liveness
    GET  /model      task, configuration, metrics, limits (``max_beam`` among them)
    GET  /           the web page (static/index.html), which shows a translation form for
                     this model: source sentences in, translations out, the beam size
                     bounded by ``max_beam``

Errors are ``{"error": "<one sentence>"}`` as for every rnnlab server. A request's beam is
bounded by the server's limit (``ServeConfig.max_beam``, default :data:`MAX_BEAM`): beam
search costs about beam times the greedy search, so the limit bounds what one request can
ask of the worker. Each request runs
on its own in the model's worker thread (its sentences are batched together by the
predictor), so micro-batching settings are refused.
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import Field

from rnnlab.errors import RnnlabError
from rnnlab.serve.app import ERROR_RESPONSES, STATIC, ApiError, ServeConfig, task_app
from rnnlab.serve.request_models import request_models

__all__ = ["MAX_BEAM", "create_translate_app"]

MAX_BEAM = ServeConfig.max_beam  # the default limit; ServeConfig(max_beam=…) sets another
_EXAMPLE = 'send {"text": "..."} or {"texts": [...]} (and optionally "beam") to /translate'


def create_translate_app(
    predictor: Any,
    *,
    run: str | Path | None = None,
    engine: str = "torch",
    config: ServeConfig | None = None,
) -> FastAPI:
    """The FastAPI application serving a
    :class:`~rnnlab.tasks.translate.predictor.TranslatePredictor`."""
    config = config or ServeConfig()
    bodies = request_models(config)
    app, batcher, config = task_app(
        predictor, predictor.translate, run=run, engine=engine, config=config,
        description="A translation model: translate sentences.", example=_EXAMPLE,
        limits=("max_texts", "max_text_chars"), batched=False,
        extra_limits={"max_beam": config.max_beam},
    )  # fmt: skip
    max_beam = config.max_beam

    class TranslateRequest(bodies.predict):  # type: ignore[name-defined,misc]
        """One sentence (``text``) or a list (``texts``) to translate; exactly one of the
        two; ``beam`` (default: the run's) at most the server's limit; ``nbest``
        translations of each sentence (default 1), at most the beam."""

        beam: int | None = Field(default=None, ge=1, le=max_beam, description="Beam size.")
        nbest: int = Field(
            default=1, ge=1, le=max_beam, description="Translations per sentence (<= beam)."
        )

    @app.post("/translate", responses=ERROR_RESPONSES, summary="Translate sentences")
    async def translate(body: TranslateRequest) -> dict[str, Any]:
        beam = body.beam if body.beam is not None else min(predictor.decoding.beam, max_beam)
        nbest = body.nbest
        if nbest > beam:
            raise ApiError(
                422, f"nbest {nbest} is more than the beam {beam}: a beam of K finds at most K "
                "translations; raise beam or lower nbest.",
            )  # fmt: skip

        def work(texts: list[str]) -> Any:
            return predictor.translate(texts, beam=beam, nbest=nbest)

        try:
            found = await batcher.run(work, body.all_texts())
        except (RnnlabError, ValueError) as exc:
            raise ApiError(422, str(exc)) from None
        if nbest == 1:
            return {"translations": found, "beam": beam}
        return {"translations": [hyps[0] for hyps in found], "beam": beam, "nbest": found}

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
