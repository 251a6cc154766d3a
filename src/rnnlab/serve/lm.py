"""The HTTP API of a language model run (FastAPI).

    POST /generate  {"prompt": "…", "max_new_tokens": 20, "seed": 1, …} → {"texts": [...]}
    POST /score     {"text": "…"} or {"texts": [...]} → per-token surprisal in bits
    GET  /health    liveness
    GET  /model     task, configuration, metrics, limits

Errors are ``{"error": "<one sentence>"}`` as for every rnnlab server. The model runs in the
one worker thread of :class:`~rnnlab.serve.batching.MicroBatcher`; each /generate request
samples from its own ``torch.Generator`` seeded by its ``seed``, so concurrent requests with
the same seed get the same text.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from rnnlab.errors import RnnlabError
from rnnlab.serve.app import ERROR_RESPONSES, ApiError, ServeConfig, worker_app
from rnnlab.serve.schemas import GenerateRequest, GenerateResponse, ScoreRequest, ScoreResponse

__all__ = ["create_lm_app"]

_EXAMPLE = 'send {"prompt": "..."} to /generate or {"text": "..."} to /score'


def _texts(body: ScoreRequest, config: ServeConfig) -> list[str]:
    if (body.text is None) == (body.texts is None):
        raise ApiError(422, 'Send exactly one of "text" and "texts".')
    texts = [body.text] if body.text is not None else list(body.texts or [])
    if len(texts) > config.max_texts:
        raise ApiError(413, f"texts holds {len(texts)} texts, more than this server's limit "
                            f"of {config.max_texts} per request; split the list.")  # fmt: skip
    for i, text in enumerate(texts):
        if len(text) > config.max_text_chars:
            raise ApiError(413, f"texts[{i}] has {len(text):,} characters, more than this "
                                f"server's limit of {config.max_text_chars:,}.")  # fmt: skip
    return texts


def create_lm_app(
    predictor: Any,
    *,
    run: str | Path | None = None,
    engine: str = "torch",
    config: ServeConfig | None = None,
) -> FastAPI:
    """The FastAPI application serving an :class:`~rnnlab.tasks.lm.LMPredictor`."""
    app, batcher, config = worker_app(
        predictor.surprisal, predictor, run, engine, config,
        "A language model: generate and score text.", _EXAMPLE,
    )  # fmt: skip

    @app.post("/generate", response_model=GenerateResponse, responses=ERROR_RESPONSES,
              summary="Continue a prompt")  # fmt: skip
    async def generate(body: GenerateRequest) -> dict[str, Any]:
        if len(body.prompt) > config.max_text_chars:
            raise ApiError(413, f"prompt has {len(body.prompt):,} characters, more than this "
                                f"server's limit of {config.max_text_chars:,}.")  # fmt: skip
        if body.max_new_tokens * body.num_samples > 64 * config.max_texts:
            raise ApiError(413, "max_new_tokens × num_samples is over this server's limit of "
                                f"{64 * config.max_texts} tokens per request.")  # fmt: skip
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
    async def score(body: ScoreRequest) -> dict[str, Any]:
        texts = _texts(body, config)
        scored = await batcher.run(predictor.surprisal, texts)
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
