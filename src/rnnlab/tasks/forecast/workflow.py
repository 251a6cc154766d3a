"""Forecasting runs end to end: series → rolling-origin backtest beside the baselines → the run
directory.

    runs/NAME/
      config.toml        resolved ForecastRunConfig
      model.safetensors  the one-file model, task "forecast" (rnnlab.load → ForecastPredictor):
                         the ensemble, what was fitted per series, each series' last steps,
                         the combination's weights and interval calibration
      metrics.json       mase, smape, mae, rmse, pinball, coverage_80/95 (the forecast),
                         rnn_mase, rnn_coverage_80/95 (the recurrent model alone),
                         baseline_<name>_mase, baseline_median3_mase, the combination, …
      history.jsonl      the training loss per epoch (of the first member of the last fit)
      checkpoints/       last.pt and best.pt of the network in training, member.json naming
                         it, members/ the finished members, for --resume
      report.html        forecast against actual per window with intervals and baselines
      analysis/forecasts.csv   every window's steps: actual, forecast, quantiles, baselines
      evaluations/NAME/  metrics.json of every later ``rnnlab evaluate RUN --data X``
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rnnlab.data.series import SeriesSet, is_series_name, load_series, read_series, with_season
from rnnlab.errors import ConfigError
from rnnlab.explain.forecast_report import write_forecast_report
from rnnlab.fileio import atomic_write_text, csv_text
from rnnlab.runs import save_model_file, training_run
from rnnlab.tasks.base import Evaluation, TrainSummary, plan_evaluation
from rnnlab.tasks.forecast.backtest import Backtest, WindowResult, forecast_windows, run_backtest
from rnnlab.tasks.forecast.combine import Combiner
from rnnlab.tasks.forecast.config import ForecastDataConfig, ForecastRunConfig
from rnnlab.tasks.forecast.fitting import FittedForecaster, MemberCheckpoints
from rnnlab.tasks.forecast.predictor import ForecastPredictor, forecast_rows, interval_columns
from rnnlab.tasks.run_writer import RunRecord, write_evaluation, write_run
from rnnlab.train.trainer import resolve_monitor

__all__ = [
    "backtest_metrics",
    "evaluate_forecast_run",
    "load_series_for",
    "rows_text",
    "save_forecaster",
    "train_forecast",
    "value_decimals",
    "window_rows",
]

FORECASTS_FILE = "forecasts.csv"
# Steps of each series kept in the model file of a combined forecast: the statistical models
# are fitted again on them at predict time, so they need more than the network's lookback.
COMBINED_TAIL = 2000
# Most decimals a forecast written by rnnlab predict keeps (value_decimals).
MAX_DECIMALS = 6


def load_series_for(data: ForecastDataConfig, source: str | None = None) -> SeriesSet:
    """The series ``source`` (default ``data.data``) names: a built-in one or a file read
    with the run's columns, frequency and fill."""
    source = source or data.data
    if not source:
        raise ConfigError(
            "No series given; pass --data with a CSV/TSV/parquet file or a built-in series "
            "(airline, lynx, shampoo, sunspots, nile, co2)."
        )
    if is_series_name(source):
        found = load_series(source, fill=data.fill)
    else:
        found = read_series(
            source, time_col=data.time_col, target_col=data.target_col, id_col=data.id_col,
            covariates=[*data.past_covariates, *data.future_covariates], freq=data.freq,
            fill=data.fill,
        )  # fmt: skip
    if data.season_length:
        found = with_season(found, data.season_length)
    return found


def value_decimals(*values: Any) -> int:
    """The decimals the values carry: the fewest (at most :data:`MAX_DECIMALS`) that write
    every finite value of the arrays ``values`` back exactly — 0 for counts such as the
    airline passengers, 2 for prices in cents. A value counts as written back when rounding
    moves it by no more than its float precision: a value that went through float32 (1.12
    held as 1.1200000047…) is judged at float32 precision, so it still carries 2."""
    import numpy as np

    found = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    flat = np.concatenate(found) if found else np.zeros(0)
    flat = flat[np.isfinite(flat)]
    if not flat.size:
        return MAX_DECIMALS
    single = flat.astype(np.float32).astype(np.float64) == flat  # held as float32 somewhere
    precision = np.where(single, np.spacing(flat.astype(np.float32)).astype(np.float64),
                         4 * np.spacing(flat))  # fmt: skip
    for decimals in range(MAX_DECIMALS):
        if np.all(np.abs(np.round(flat, decimals) - flat) <= precision):
            return decimals
    return MAX_DECIMALS


def rows_text(
    rows: list[dict[str, Any]],
    format: str = "csv",
    *,
    levels: list[float] | None = None,
    decimals: int | None = None,
) -> str:
    """Forecast rows as CSV (a header of every key) or JSON lines, for ``rnnlab predict``.

    With ``levels`` each quantity is named once: a quantile column ``q0.1`` that repeats
    ``forecast`` (the median) or an interval bound (``lo-80``) is left out, and only the
    quantiles that no other column names remain. With ``decimals`` the numbers are rounded
    to as many decimals (what the data carries: :func:`value_decimals`), written with
    exactly that many in CSV."""
    if levels is not None:
        named = {0.5, *(q for pair in interval_columns(levels).values() for q in pair)}
        repeated = {f"q{q:g}" for q in levels if any(abs(q - n) < 1e-9 for n in named)}
        rows = [{k: v for k, v in row.items() if k not in repeated} for row in rows]
    if format == "jsonl":
        if decimals is not None:
            rows = [_rounded(row, decimals, float) for row in rows]
        return "".join(json.dumps(row) + "\n" for row in rows)
    if decimals is not None:
        rows = [_rounded(row, decimals, lambda x: f"{x:.{decimals}f}") for row in rows]
    return csv_text(rows)


def _rounded(row: dict[str, Any], decimals: int, write: Any) -> dict[str, Any]:
    """``row`` with its float values rounded to ``decimals`` (never to -0) and written by
    ``write``."""
    return {
        k: write(round(v, decimals) + 0.0) if isinstance(v, float) else v for k, v in row.items()
    }


def window_rows(results: list[WindowResult], levels: list[float]) -> list[dict[str, Any]]:
    """The rows of ``analysis/forecasts.csv``: per window step, the actual value, the
    forecast with its quantiles and intervals, the recurrent model's own median (``rnn``)
    when the forecast is the combination, and each baseline's point forecast."""
    rows = []
    for result in results:
        found = forecast_rows(result.uid, result.times, result.quantiles, levels)
        for i, row in enumerate(found):
            row = {"window": result.window, **row, "actual": float(result.actual[i])}
            if result.rnn_quantiles is not None:
                row["rnn"] = float(result.rnn_quantiles[i, levels.index(0.5)])
            for name, values in result.baselines.items():
                row[name] = float(values[i])
            rows.append(row)
    return rows


def backtest_metrics(source: str, found: SeriesSet, backtest: Backtest) -> dict[str, Any]:
    """metrics.json of a backtest: what was scored and how, then the scores."""
    plan = backtest.plan
    metrics = {
        "data": source, "series": len(found.series), "horizon": plan.horizon,
        "lookback": plan.lookback, "season_length": plan.season, "windows": plan.windows,
        "step": plan.step, **backtest.metrics, "failed_baselines": backtest.failed_baselines,
        "baseline_notes": backtest.baseline_notes,
    }  # fmt: skip
    combiner = backtest.forecaster.combiner
    if combiner is not None:
        metrics["combination"] = combination_summary(combiner, [s.uid for s in found.series])
    return metrics


def combination_summary(combiner: Combiner, uids: list[str]) -> dict[str, Any]:
    """What metrics.json says of the combination: members, validation windows, and the
    weights, validation MASE and conformal quantiles of one series (or those pooled over a
    run's several series), with the notes of what was left out."""
    fitted = combiner.for_series(uids[0]) if len(uids) == 1 else combiner.pooled
    return {
        "rule": "inverse_mase", "members": list(combiner.members),
        "validation_windows": fitted.windows,
        "weights": {k: round(v, 4) for k, v in fitted.weights.items()},
        "validation_mase": {k: round(v, 4) for k, v in fitted.errors.items()},
        "conformal_quantiles": {k: round(v, 4) for k, v in fitted.quantiles.items()},
        "notes": combiner.notes,
    }  # fmt: skip


def _tails(found: SeriesSet, lookback: int) -> dict[str, Any]:
    return {
        s.uid: {
            "times": [str(t) for t in s.times[-lookback:]],
            "values": s.values[-lookback:].tolist(),
            "covariates": {k: v[-lookback:].tolist() for k, v in s.covariates.items()},
        }
        for s in found.series
    }


def save_forecaster(
    path: str | Path,
    fitted: FittedForecaster,
    found: SeriesSet,
    config: ForecastRunConfig | None = None,
) -> Path:
    """Write ``fitted`` as one model file (task ``"forecast"``, read by ``rnnlab.load``):
    the members, the run configuration (``config``, default ``fitted.config``), what was
    fitted per series, the combination and the tails of ``found`` to forecast from."""
    config = config or fitted.config
    tensors = {}
    for k, member in enumerate(fitted.members):
        tensors.update({f"member{k}.{n}": t for n, t in member.state_dict().items()})
    return save_model_file(
        path, tensors, task="forecast", model_config=config.model,
        tokenizer={}, vocab={}, labels=[],
        preprocessing={
            "run_config": config.to_dict(),
            "members": len(fitted.members),
            "layout": {"past": list(fitted.layout.past), "future": list(fitted.layout.future),
                       "calendar_season": fitted.layout.calendar_season},
            "horizon": fitted.horizon, "lookback": fitted.lookback, "season": fitted.season,
            "freq": found.freq,
            "preparations": {uid: p.to_dict() for uid, p in fitted.preparations.items()},
            "tails": _tails(found, fitted.lookback if fitted.combiner is None
                            else max(fitted.lookback, COMBINED_TAIL)),
            "combination": None if fitted.combiner is None else fitted.combiner.to_dict(),
        },
    )  # fmt: skip


def train_forecast(
    config: ForecastRunConfig, run_dir: str | Path, *, resume: bool = False, callbacks: tuple = ()
) -> TrainSummary:
    """Backtest the forecaster on the run's series beside the baselines and write the run.

    The model saved is the one fitted before the last origin. Every network checkpoints
    into ``run_dir`` (``checkpoints/last.pt`` and ``best.pt`` of the one in training, the
    finished members beside them); ``resume`` continues an interrupted run without training
    its finished members again (the configuration must match the run's;
    :mod:`rnnlab.tasks.forecast.fitting`). ``best_epoch`` is the best epoch of the first
    member of the last fit, the one ``history.jsonl`` shows; ``train_seconds`` counts this
    call (a resumed run's, not the interrupted one's)."""
    found = load_series_for(config.data)
    # the forecaster's networks train without validation data: config.toml says what they
    # monitor (train_loss), not an option that had no effect
    config = replace(config, train=resolve_monitor(config.train, has_validation=False))
    with training_run(run_dir, config, resume=resume) as run_dir:
        start = time.perf_counter()
        checkpoints = MemberCheckpoints.open(run_dir, resume)
        backtest = run_backtest(config, found, callbacks=callbacks, checkpoints=checkpoints)
        seconds = time.perf_counter() - start
        best_epochs = backtest.forecaster.best_epochs
        fitted, levels = backtest.forecaster, backtest.forecaster.levels
        return write_run(
            run_dir,
            RunRecord(
                backtest_metrics(found.origin, found, backtest), "test", seconds,
                best_epochs[0] if best_epochs else 0,
                save_model=lambda path: save_forecaster(path, fitted, found, config),
                history=fitted.histories[0] if fitted.histories else [],
                analysis=lambda folder: _write_windows(folder, backtest.results, levels),
                report=write_forecast_report,
            ),
        )  # fmt: skip


def _own_end_is_held_out(source: str) -> bool:
    """A forecasting run's test is the end of its own series (file or built-in), held out
    from training by the backtest, so evaluating the run scores that again."""
    return bool(source)


def evaluate_forecast_run(
    run_dir: str | Path,
    data: str | None = None,
    *,
    name: str | None = None,
    options: dict[str, Any] | None = None,
    write: bool = True,
) -> Evaluation:
    """Backtest the run's trained model (no refitting) on other series, or on its own
    data again: the same windows, the same baselines, the metrics of :func:`train_forecast`."""
    run_dir = Path(run_dir)
    predictor = ForecastPredictor.from_file(run_dir)
    config, source, target = plan_evaluation(
        run_dir, ForecastRunConfig, data, name=name, options=options, write=write,
        kind="a series file", builtin=_own_end_is_held_out,
    )  # fmt: skip
    found = load_series_for(config.data, source)
    backtest = forecast_windows(config, found, predictor.fitted)
    return write_evaluation(
        run_dir, target, backtest_metrics(source, found, backtest),
        analysis=lambda folder: _write_windows(folder, backtest.results, predictor.levels),
        report=write_forecast_report if target == run_dir else None,
    )  # fmt: skip


def _write_windows(folder: Path, results: list[WindowResult], levels: list[float]) -> None:
    """``analysis/forecasts.csv``: every window's steps (:func:`window_rows`)."""
    atomic_write_text(folder / FORECASTS_FILE, csv_text(window_rows(results, levels)))
