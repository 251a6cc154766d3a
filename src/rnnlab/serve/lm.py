"""The HTTP API of a language model run (FastAPI).

    POST /generate  {"prompt": "…", "max_new_tokens": 20, "seed": 1, …} → {"texts": [...]}
    POST /score     {"text": "…"} or {"texts": [...]} → per-token surprisal in bits
    GET  /health    liveness
    GET  /model     task, configuration, metrics, limits

Errors are ``{"error": "<one sentence>"}`` as for every rnnlab server. The model runs in the
one worker thread of :class:`~rnnlab.serve.batching.MicroBatcher`; each /generate request
samples from its own ``torch.Generator`` seeded by its ``seed``, so concurrent requests with
the same seed get the same text. The bodies are checked by the same rules as the
classifier's (:mod:`rnnlab.serve.request_models`).
"""

import functools
import math
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from rnnlab.errors import RnnlabError
from rnnlab.serve.app import ERROR_RESPONSES, ApiError, ServeConfig, task_app
from rnnlab.serve.request_models import request_models
from rnnlab.serve.schemas import GenerateResponse, ScoreResponse

__all__ = ["TOKENS_PER_TEXT", "create_lm_app"]

_EXAMPLE = 'send {"prompt": "..."} to /generate or {"text": "..."} to /score'
# One /generate request may ask for at most this many tokens per text a /score request may
# hold (max_new_tokens × num_samples ≤ TOKENS_PER_TEXT × max_texts).
TOKENS_PER_TEXT = 64


def create_lm_app(
    predictor: Any,
    *,
    run: str | Path | None = None,
    engine: str = "torch",
    config: ServeConfig | None = None,
) -> FastAPI:
    """The FastAPI application serving an :class:`~rnnlab.tasks.lm.LMPredictor`.

    Each request runs on its own (generation seeds its own generator; scoring runs text by
    text), so micro-batching settings in ``config`` are refused."""
    config = config or ServeConfig()
    bodies = request_models(config)
    tokens = TOKENS_PER_TEXT * config.max_texts
    app, batcher, config = task_app(
        predictor, predictor.surprisal, run=run, engine=engine, config=config,
        description="A language model: generate and score text.", example=_EXAMPLE,
        limits=("max_texts", "max_text_chars"), batched=False,
        extra_limits={"max_generated_tokens": tokens},
    )  # fmt: skip

    @app.post("/generate", response_model=GenerateResponse, responses=ERROR_RESPONSES,
              summary="Continue a prompt")  # fmt: skip
    async def generate(body: bodies.generate) -> dict[str, Any]:  # type: ignore[valid-type]
        if body.max_new_tokens * body.num_samples > tokens:
            raise ApiError(413, "max_new_tokens × num_samples is over this server's limit of "
                                f"{tokens} tokens per request.")  # fmt: skip
        settings = body.model_dump(exclude={"prompt", "max_new_tokens"})
        try:
            texts = await batcher.run(
                functools.partial(predictor.generate, **settings), body.prompt, body.max_new_tokens
            )
        except (RnnlabError, ValueError) as exc:
            raise ApiError(422, str(exc)) from None
        return {"texts": texts}

    @app.post("/score", response_model=ScoreResponse, responses=ERROR_RESPONSES,
              summary="Per-token surprisal in bits")  # fmt: skip
    async def score(body: bodies.score) -> dict[str, Any]:  # type: ignore[valid-type]
        scored = await batcher.run(predictor.surprisal, body.all_texts())
        return {
            "scores": [
                {
                    "tokens": s.tokens,
                    "surprisal_bits": s.bits,
                    "total_bits": s.total_bits,
                    "perplexity": None if math.isnan(s.perplexity) else s.perplexity,
                }
                for s in scored
            ]
        }

    return app
