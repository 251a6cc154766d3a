"""The HTTP API of a forecasting run (FastAPI).

    POST /forecast  {"horizon": 12} → forecasts after the end of the training series
                    {"horizon": 6, "series": [{"unique_id": "a", "ds": [...], "y": [...]}]}
                    → forecasts after the end of the given series
                    {"horizon": 6, "future": [{"ds": [...], "values": {"promo": [...]}}]}
                    → with the future covariates of the steps after the end (a run
                    trained with future covariates needs them; "unique_id" picks the series)
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
from rnnlab.serve.app import ERROR_RESPONSES, ApiError, ServeConfig, worker_app

__all__ = ["ForecastRequest", "create_forecast_app"]

_EXAMPLE = 'send {"horizon": 12} (and optionally "series") to /forecast'


class SeriesBody(BaseModel):
    """One series: its id, timestamps and values, oldest first; a run trained with
    covariates also needs their values at the same timestamps (``covariates``)."""

    unique_id: str = "series"
    ds: list[str]
    y: list[float | None]
    covariates: dict[str, list[float | None]] = Field(default_factory=dict)


class FutureBody(BaseModel):
    """Future covariate values of the steps after a series' end (``unique_id`` empty: every
    series), as the rows of ``rnnlab predict --future FILE``."""

    unique_id: str = ""
    ds: list[str]
    values: dict[str, list[float]]


class ForecastRequest(BaseModel):
    """``horizon`` steps (default: the trained horizon) after each series' end."""

    horizon: int | None = Field(default=None, ge=1)
    series: list[SeriesBody] | None = None
    future: list[FutureBody] | None = None


def _same_length(what: str, ds: list[str], columns: dict[str, list[Any]]) -> None:
    for name, values in columns.items():
        if len(values) != len(ds):
            raise ApiError(
                422,
                f"{what}: ds has {len(ds)} timestamps and {name} {len(values)} values; send "
                "one value per timestamp.",
            )


def _future(body: ForecastRequest, predictor: Any) -> Any:
    """The request's future covariates, checked as ``--future FILE`` would be."""
    if body.future is None:
        return None
    import pandas as pd

    from rnnlab.data.series import future_from_frame

    rows = []
    for item in body.future:
        _same_length(f"future of series {item.unique_id!r}", item.ds, item.values)
        for i, stamp in enumerate(item.ds):
            row = {name: values[i] for name, values in item.values.items()}
            rows.append({"unique_id": item.unique_id, "ds": stamp, **row})
    names = predictor.fitted.layout.future
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", *dict.fromkeys(
        name for item in body.future for name in item.values)])  # fmt: skip
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ApiError(422, f"future lacks the covariate(s) {', '.join(missing)} the model "
                            "reads; add them to each item's values.")  # fmt: skip
    return future_from_frame(frame, names, source="future", id_col="unique_id")


def _series_set(body: ForecastRequest, predictor: Any, config: ServeConfig) -> Any:
    """The request's series, checked as a file's would be (order, gaps, missing values)."""
    if body.series is None:
        return None
    import pandas as pd

    from rnnlab.data.series import read_frame

    if len(body.series) > config.max_texts:
        raise ApiError(413, f"series holds {len(body.series)} series, more than this server's "
                            f"limit of {config.max_texts} per request.")  # fmt: skip
    layout = predictor.fitted.layout
    covariates = [*layout.past, *layout.future]
    rows = []
    for item in body.series:
        _same_length(f"series {item.unique_id!r}", item.ds, {"y": item.y, **item.covariates})
        missing = [name for name in covariates if name not in item.covariates]
        if missing:
            raise ApiError(422, f"series {item.unique_id!r} lacks the covariate(s) "
                                f"{', '.join(missing)} the model reads; add them to its "
                                "covariates.")  # fmt: skip
        for i, stamp in enumerate(item.ds):
            row = {"unique_id": item.unique_id, "ds": stamp}
            for name, values in (("y", item.y), *((c, item.covariates[c]) for c in covariates)):
                row[name] = "" if values[i] is None else str(values[i])
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "y", *covariates], dtype=str)
    return read_frame(frame, source="request", time_col="ds", target_col="y",
                      id_col="unique_id", covariates=covariates,
                      freq=predictor.freq)  # fmt: skip


def create_forecast_app(
    predictor: Any,
    *,
    run: str | Path | None = None,
    engine: str = "torch",
    config: ServeConfig | None = None,
) -> FastAPI:
    """The FastAPI application serving a :class:`~rnnlab.tasks.forecast.ForecastPredictor`."""
    app, batcher, config = worker_app(
        predictor.forecast, predictor, run, engine, config,
        "A forecaster: forecasts with intervals.", _EXAMPLE,
    )  # fmt: skip

    @app.post("/forecast", responses=ERROR_RESPONSES, summary="Forecast with intervals")
    async def forecast(body: ForecastRequest) -> dict[str, Any]:
        try:
            found = _series_set(body, predictor, config)
            future = _future(body, predictor)
            rows = await batcher.run(predictor.forecast, found, body.horizon, future)
        except (RnnlabError, ValueError) as exc:
            raise ApiError(422, str(exc)) from None
        return {"forecasts": rows}

    return app
