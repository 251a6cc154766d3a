"""The HTTP API of a forecasting run (FastAPI).

    POST /forecast  {"horizon": 12} → forecasts after the end of the training series
                    {"horizon": 6, "series": [{"unique_id": "a", "ds": [...], "y": [...]}]}
                    → forecasts after the end of the given series
    GET  /health    liveness
    GET  /model     task, configuration, metrics, horizon, quantile levels, frequency

Each answer row is ``{"unique_id", "ds", "forecast", "lo-80", "hi-80", "q0.1", …}`` as in
``rnnlab predict``. Errors are ``{"error": "<one sentence>"}`` as for every rnnlab server; the
model runs in the one worker thread of :class:`~rnnlab.serve.batching.MicroBatcher`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from rnnlab.errors import RnnlabError
from rnnlab.serve.app import ERROR_RESPONSES, ApiError, ServeConfig, base_app, model_info
from rnnlab.serve.batching import MicroBatcher

__all__ = ["ForecastRequest", "create_forecast_app"]

_EXAMPLE = 'send {"horizon": 12} (and optionally "series") to /forecast'


class SeriesBody(BaseModel):
    """One series: its id, timestamps and values, oldest first."""

    unique_id: str = "series"
    ds: list[str]
    y: list[float | None]


class ForecastRequest(BaseModel):
    """``horizon`` steps (default: the trained horizon) after each series' end."""

    horizon: int | None = Field(default=None, ge=1)
    series: list[SeriesBody] | None = None


def _series_set(body: ForecastRequest, predictor: Any, config: ServeConfig) -> Any:
    """The request's series, checked as a file's would be (order, gaps, missing values)."""
    if body.series is None:
        return None
    import pandas as pd

    from rnnlab.data.series import read_frame

    if len(body.series) > config.max_texts:
        raise ApiError(413, f"series holds {len(body.series)} series, more than this server's "
                            f"limit of {config.max_texts} per request.")  # fmt: skip
    rows = []
    for item in body.series:
        if len(item.ds) != len(item.y):
            raise ApiError(
                422,
                f"series {item.unique_id!r}: ds has {len(item.ds)} timestamps and y "
                f"{len(item.y)} values; send one value per timestamp.",
            )
        rows += [{"unique_id": item.unique_id, "ds": d, "y": "" if v is None else str(v)}
                 for d, v in zip(item.ds, item.y, strict=True)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "y"], dtype=str)
    return read_frame(frame, source="request", time_col="ds", target_col="y",
                      id_col="unique_id", freq=predictor.freq)  # fmt: skip


def create_forecast_app(
    predictor: Any,
    *,
    run: str | Path | None = None,
    engine: str = "torch",
    config: ServeConfig | None = None,
) -> FastAPI:
    """The FastAPI application serving a :class:`~rnnlab.tasks.forecast.ForecastPredictor`."""
    config = config or ServeConfig()
    batcher = MicroBatcher(
        predictor.forecast, max_batch=1, max_wait_ms=0, enabled=False,
        threads=config.model_threads,
    )  # fmt: skip
    info = model_info(predictor, None if run is None else Path(run), engine, config)
    app = base_app(batcher, config, info, "A forecaster: forecasts with intervals.", _EXAMPLE)

    @app.post("/forecast", responses=ERROR_RESPONSES, summary="Forecast with intervals")
    async def forecast(body: ForecastRequest) -> dict[str, Any]:
        try:
            found = _series_set(body, predictor, config)
            rows = await batcher.run(predictor.forecast, found, body.horizon)
        except (RnnlabError, ValueError) as exc:
            raise ApiError(422, str(exc)) from None
        return {"forecasts": rows}

    return app
