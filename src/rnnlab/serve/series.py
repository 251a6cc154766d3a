"""The HTTP API of a series-classification run (FastAPI).

    POST /predict   {"series": [[0.1, 0.4, …], …]} → {"predictions": [{"label": "1",
                    "probabilities": {"1": 0.93, "2": 0.07}}, …]}
    GET  /health    liveness and micro-batching counters
    GET  /model     task, labels, configuration, metrics, the series length it reads, limits

Every series must have the training length (the model reads equal-length series, as UCR
sets are); it is z-normalised, each on its own, as in training. Errors are ``{"error": "<one
sentence>"}`` as for every rnnlab server. Requests are micro-batched as the classifier's are
(:class:`~rnnlab.serve.batching.MicroBatcher`): series of the same length from concurrent
requests run as one model call, which is why each request's series are checked before they
join a batch (one bad series would otherwise fail the requests it shares the call with).
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from rnnlab.errors import RnnlabError
from rnnlab.serve.app import ERROR_RESPONSES, ApiError, ServeConfig, task_app
from rnnlab.serve.request_models import request_models

__all__ = ["create_series_app"]

_EXAMPLE = 'send {"series": [[v1, v2, ...]]} (series of the training length) to /predict'


def create_series_app(
    predictor: Any,
    *,
    run: str | Path | None = None,
    engine: str = "torch",
    config: ServeConfig | None = None,
) -> FastAPI:
    """The FastAPI application serving a :class:`~rnnlab.tasks.classify_series.SeriesPredictor`."""
    config = config or ServeConfig()
    bodies = request_models(config)
    app, batcher, config = task_app(
        predictor, predictor.predict_proba, run=run, engine=engine, config=config,
        description="A series classifier: labels with probabilities.", example=_EXAMPLE,
        limits=("max_texts",), batched=True,
    )  # fmt: skip
    labels = predictor.labels

    @app.post("/predict", responses=ERROR_RESPONSES, summary="Label series")
    async def predict(body: bodies.series) -> dict[str, Any]:  # type: ignore[valid-type]
        for i, row in enumerate(body.series):
            if len(row) != predictor.length:
                raise ApiError(
                    422,
                    f"series[{i}] has {len(row)} values; expected series of "
                    f"{predictor.length} values each (the training length).",
                )
        try:
            probabilities = await batcher.submit(body.series)
        except (RnnlabError, ValueError) as exc:
            raise ApiError(422, str(exc)) from None
        return {
            "predictions": [
                {"label": labels[int(row.argmax())],
                 "probabilities": {str(k): float(p) for k, p in zip(labels, row, strict=True)}}
                for row in probabilities
            ]
        }  # fmt: skip

    return app
