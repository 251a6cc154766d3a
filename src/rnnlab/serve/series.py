"""The HTTP API of a series-classification run (FastAPI).

    POST /predict   {"series": [[0.1, 0.4, …], …]} → {"predictions": [{"label": "1",
                    "probabilities": {"1": 0.93, "2": 0.07}}, …]}
    GET  /health    liveness
    GET  /model     task, labels, configuration, metrics, the series length it reads

Every series must have the training length (the model reads equal-length series, as UCR
sets are); it is z-normalised as in training. Errors are ``{"error": "<one sentence>"}`` as for
every rnnlab server; the model runs in the one worker thread of
:class:`~rnnlab.serve.batching.MicroBatcher`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from rnnlab.errors import RnnlabError
from rnnlab.serve.app import ERROR_RESPONSES, ApiError, ServeConfig, worker_app

__all__ = ["SeriesRequest", "create_series_app"]

_EXAMPLE = 'send {"series": [[v1, v2, ...]]} (series of the training length) to /predict'


class SeriesRequest(BaseModel):
    """Series to label, each a list of numbers of the training length."""

    series: list[list[float]]


def create_series_app(
    predictor: Any,
    *,
    run: str | Path | None = None,
    engine: str = "torch",
    config: ServeConfig | None = None,
) -> FastAPI:
    """The FastAPI application serving a :class:`~rnnlab.tasks.classify_series.SeriesPredictor`."""
    app, batcher, config = worker_app(
        predictor.probabilities, predictor, run, engine, config,
        "A series classifier: labels with probabilities.", _EXAMPLE,
    )  # fmt: skip

    @app.post("/predict", responses=ERROR_RESPONSES, summary="Label series")
    async def predict(body: SeriesRequest) -> dict[str, Any]:
        if len(body.series) > config.max_texts:
            raise ApiError(413, f"series holds {len(body.series)} series, more than this "
                                f"server's limit of {config.max_texts} per request.")  # fmt: skip
        for i, row in enumerate(body.series):
            if not all(math.isfinite(v) for v in row):
                raise ApiError(422, f"series {i + 1} holds a value that is not a finite number; "
                                    "send numbers only.")  # fmt: skip
        try:
            probabilities = await batcher.run(predictor.probabilities, body.series)
        except (RnnlabError, ValueError) as exc:
            raise ApiError(422, str(exc)) from None
        labels = predictor.labels
        return {
            "predictions": [
                {"label": labels[int(row.argmax())],
                 "probabilities": {str(k): float(p) for k, p in zip(labels, row, strict=True)}}
                for row in probabilities
            ]
        }  # fmt: skip

    return app
