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
model runs in the one worker thread of :class:`~rnnlab.serve.batching.MicroBatcher`. The body
(:mod:`rnnlab.serve.request_models`) refuses unknown keys, here and in each series.
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from rnnlab.errors import RnnlabError
from rnnlab.serve.app import ERROR_RESPONSES, ApiError, ServeConfig, task_app
from rnnlab.serve.request_models import request_models

__all__ = ["create_forecast_app"]

_EXAMPLE = 'send {"horizon": 12} (and optionally "series") to /forecast'


def _same_length(what: str, ds: list[str], columns: dict[str, list[Any]]) -> None:
    for name, values in columns.items():
        if len(values) != len(ds):
            raise ApiError(
                422,
                f"{what}: ds has {len(ds)} timestamps and {name} {len(values)} values; send "
                "one value per timestamp.",
            )


def _future(body: Any, predictor: Any) -> Any:
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


def _series_set(body: Any, predictor: Any) -> Any:
    """The request's series, checked as a file's would be (order, gaps, missing values)."""
    if body.series is None:
        return None
    import pandas as pd

    from rnnlab.data.series import read_frame

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
    """The FastAPI application serving a :class:`~rnnlab.tasks.forecast.ForecastPredictor`.

    Each request is one forecast call on its own, so micro-batching settings in ``config``
    are refused."""
    config = config or ServeConfig()
    bodies = request_models(config)
    app, batcher, config = task_app(
        predictor, predictor.forecast, run=run, engine=engine, config=config,
        description="A forecaster: forecasts with intervals.", example=_EXAMPLE,
        limits=("max_texts",), batched=False,
    )  # fmt: skip

    @app.post("/forecast", responses=ERROR_RESPONSES, summary="Forecast with intervals")
    async def forecast(body: bodies.forecast) -> dict[str, Any]:  # type: ignore[valid-type]
        try:
            found = _series_set(body, predictor)
            future = _future(body, predictor)
            rows = await batcher.run(predictor.forecast, found, body.horizon, future)
        except (RnnlabError, ValueError) as exc:
            raise ApiError(422, str(exc)) from None
        return {"forecasts": rows}

    return app
