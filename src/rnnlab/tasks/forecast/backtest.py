r"""The rolling-origin backtest: forecasts from several origins, each from the past only.

With W windows, step s and horizon H, the origins of a series of n points are
t_k = n − H − (W − 1 − k)·s for k = 0 … W − 1::

    ─────────────────────────────────────────────── n
    train ……………………………… t_0 │ H │
    train ……………………………………… t_1 │ H │
    train ………………………………………………… t_2 │ H │        (W = 3)

The model (and its transform and scalings) is fitted on the data before t_0 — or, with
``data.refit``, again before every t_k; each window's forecast reads only the values before
its origin. The statsforecast baselines are fitted on the same history for every window.
With ``model.combine`` (the default), the combination's weights and interval calibration
are fitted once on validation windows before t_0 (:mod:`rnnlab.tasks.forecast.combine`),
and each window's forecast combines the recurrent model's with the AutoETS, AutoARIMA and
Theta forecasts of that window; the recurrent model's own forecast is kept beside it
(``rnn_*`` metrics), as is the median of the three (``baseline_median3_*``, the M4-style
combination benchmark).
Metrics per window are averaged over windows and series (:mod:`rnnlab.evaluate.forecast_metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab.data.series import SeriesSet
from rnnlab.errors import DataError
from rnnlab.evaluate import forecast_metrics as fm
from rnnlab.evaluate.forecast_baselines import BASELINES, baseline_forecasts
from rnnlab.tasks.forecast.combine import STATISTICAL, combined_quantiles, fit_combiner
from rnnlab.tasks.forecast.config import ForecastRunConfig
from rnnlab.tasks.forecast.data import default_horizon, default_lookback
from rnnlab.tasks.forecast.fitting import FittedForecaster, MemberCheckpoints, fit_forecaster

__all__ = [
    "Backtest",
    "Plan",
    "WindowResult",
    "forecast_windows",
    "plan_backtest",
    "run_backtest",
    "score_windows",
]


@dataclass(frozen=True)
class Plan:
    """The resolved shape of a run: horizon, lookback, season, windows and step."""

    horizon: int
    lookback: int
    season: int
    windows: int
    step: int

    def origins(self, length: int) -> list[int]:
        return [length - self.horizon - (self.windows - 1 - k) * self.step
                for k in range(self.windows)]  # fmt: skip


def plan_backtest(config: ForecastRunConfig, found: SeriesSet) -> Plan:
    """Horizon, lookback and step from the config or their defaults, checked against the
    shortest series (one sentence when it is too short)."""
    data = config.data
    season = data.season_length or found.season_length
    shortest = min(len(s) for s in found.series)
    horizon = data.horizon or default_horizon(season, shortest)
    step = data.step or horizon
    train_part = shortest - horizon - (data.windows - 1) * step
    out = 1 if config.model.decoder == "recursive" else horizon
    lookback = data.lookback or default_lookback(season, out, train_part)
    if train_part < lookback + out:
        short = min(found.series, key=len)
        raise DataError(
            f"{found.origin}: series {short.uid!r} has {len(short)} points, too short for "
            f"lookback {lookback} + horizon {horizon}"
            + (f" + {data.windows - 1} further window(s) of step {step}" if data.windows > 1
               else "")
            + "; use a shorter --lookback, --horizon or fewer --windows."
        )  # fmt: skip
    return Plan(horizon, lookback, season, data.windows, step)


@dataclass
class WindowResult:
    """One series' forecast from one origin, with the baselines' on the same window."""

    uid: str
    window: int
    origin: int
    times: Any
    actual: np.ndarray
    quantiles: np.ndarray  # (H, Q)
    history: np.ndarray  # the values before the origin (for MASE's scale)
    baselines: dict[str, np.ndarray] = field(default_factory=dict)
    baseline_low80: dict[str, np.ndarray] = field(default_factory=dict)
    baseline_high80: dict[str, np.ndarray] = field(default_factory=dict)
    # The recurrent model's own quantiles (H, Q) when ``quantiles`` is the combination.
    rnn_quantiles: np.ndarray | None = None


@dataclass
class Backtest:
    """The windows' forecasts, their metrics, and the last fitted model."""

    plan: Plan
    results: list[WindowResult]
    metrics: dict[str, Any]
    forecaster: FittedForecaster
    failed_baselines: dict[str, str]
    baseline_notes: dict[str, str] = field(default_factory=dict)


def run_backtest(
    config: ForecastRunConfig,
    found: SeriesSet,
    *,
    baselines: Sequence[str] | None = None,
    callbacks: Sequence[Any] = (),
    checkpoints: MemberCheckpoints | None = None,
) -> Backtest:
    """Fit (before the first origin, or every origin with ``data.refit``), forecast every
    window, fit the baselines on the same histories, score. With ``checkpoints`` every
    network trained checkpoints into the run directory, and a resumed run reads back the
    members that finished (:class:`~rnnlab.tasks.forecast.fitting.MemberCheckpoints`)."""
    return forecast_windows(config, found, None, baselines=baselines, callbacks=callbacks,
                            checkpoints=checkpoints)  # fmt: skip


def forecast_windows(
    config: ForecastRunConfig,
    found: SeriesSet,
    fitted: FittedForecaster | None,
    *,
    baselines: Sequence[str] | None = None,
    callbacks: Sequence[Any] = (),
    checkpoints: MemberCheckpoints | None = None,
) -> Backtest:
    """The backtest of :func:`run_backtest` with an already ``fitted`` model (never refitted;
    its lookback and horizon), or fitting one when it is None."""
    if fitted is None:
        plan = plan_backtest(config, found)
    else:
        plan = Plan(fitted.horizon, fitted.lookback, fitted.season, config.data.windows,
                    config.data.step or fitted.horizon)  # fmt: skip
        _check_length(plan, found)
    names = list(BASELINES) if baselines is None else list(baselines)
    origins = {s.uid: plan.origins(len(s)) for s in found.series}
    results: list[WindowResult] = []
    failed: dict[str, str] = {}
    notes: dict[str, str] = {}
    refit = fitted is None and config.data.refit
    combiner = None if fitted is None else fitted.combiner
    if fitted is None and config.model.combine != "none":
        combiner = fit_combiner(
            found.series, {uid: found_origins[0] for uid, found_origins in origins.items()},
            config, freq=found.freq, season=plan.season, lookback=plan.lookback,
            horizon=plan.horizon, checkpoints=checkpoints,
        )  # fmt: skip
    if combiner is not None:
        names += [name for name in STATISTICAL if name not in names]
    for k in range(plan.windows):
        if fitted is None or (refit and k > 0):
            ends = {uid: found_origins[k] for uid, found_origins in origins.items()}
            fitted = fit_forecaster(
                found.series, ends, config, season=plan.season, lookback=plan.lookback,
                horizon=plan.horizon, callbacks=callbacks, checkpoints=checkpoints,
                fit_name=f"window-{k}",
            )  # fmt: skip
            fitted.combiner = combiner
        for series in found.series:
            origin = origins[series.uid][k]
            quantiles = fitted.forecast(series, origin)
            stop = origin + plan.horizon
            result = WindowResult(
                series.uid, k, origin, series.times[origin:stop], series.values[origin:stop],
                quantiles, series.values[:origin],
            )  # fmt: skip
            if names:
                base = baseline_forecasts(series.times[:origin], series.values[:origin],
                                          plan.horizon, found.freq, plan.season, names)  # fmt: skip
                result.baselines, result.baseline_low80 = base.point, base.low80
                result.baseline_high80 = base.high80
                failed.update(base.failed)
                notes.update(base.notes)
            if combiner is not None:
                result.rnn_quantiles = quantiles
                result.quantiles = combine_window(fitted, series.uid, quantiles,
                                                  result.baselines, result.history)  # fmt: skip
            results.append(result)
    assert fitted is not None
    metrics = score_windows(results, fitted.levels, plan.season)
    return Backtest(plan, results, metrics, fitted, failed, notes)


def combine_window(
    fitted: FittedForecaster,
    uid: str,
    rnn_quantiles: np.ndarray,
    statistical: dict[str, np.ndarray],
    history: np.ndarray,
) -> np.ndarray:
    """The combination's quantiles (H, Q) for one window: the recurrent model's median and
    the statistical point forecasts of the same history, weighted and widened as fitted."""
    combination = fitted.combiner.for_series(uid)
    points = {name: statistical[name] for name in STATISTICAL if name in statistical}
    points["rnn"] = rnn_quantiles[:, fitted.levels.index(0.5)]
    scale = fm.mase_scale(history, fitted.season)
    return combined_quantiles(combination, points, scale, fitted.levels)


def _check_length(plan: Plan, found: SeriesSet) -> None:
    short = min(found.series, key=len)
    if plan.origins(len(short))[0] < plan.lookback:
        raise DataError(
            f"{found.origin}: series {short.uid!r} has {len(short)} points, too short for the "
            f"model's lookback {plan.lookback} + horizon {plan.horizon} in {plan.windows} "
            "window(s); give a longer series or fewer --windows."
        )


def score_windows(
    results: Sequence[WindowResult], levels: Sequence[float], season: int
) -> dict[str, Any]:
    """Flat metrics: ``mase``, ``smape`` (means over windows), ``mae``, ``rmse`` (over all
    points), ``pinball`` and ``coverage_80`` / ``coverage_95`` where the levels allow — of the
    forecast (the combination, or the recurrent model alone with ``model.combine = "none"``,
    named by ``forecast``); ``rnn_mase``, ``rnn_smape``, ``rnn_coverage_80`` / ``_95`` of the
    recurrent model alone; ``baseline_<name>_mase`` / ``_smape``; ``baseline_median3_mase`` /
    ``_smape`` of the median of AutoETS, AutoARIMA and Theta (M4's combination benchmark);
    ``relative_mase`` (to seasonal naive) and ``relative_mase_median3`` (to that median)."""
    levels = list(levels)
    combined = any(r.rnn_quantiles is not None for r in results)
    metrics: dict[str, Any] = {"forecast": "combination" if combined else "rnn"}
    metrics.update(_forecast_metrics([r.quantiles for r in results], results, levels, season))
    rnn = [r.quantiles if r.rnn_quantiles is None else r.rnn_quantiles for r in results]
    own = _forecast_metrics(rnn, results, levels, season)
    for key in ("mase", "smape", "coverage_80", "coverage_95"):
        if key in own:
            metrics[f"rnn_{key}"] = own[key]
    names = sorted({name for r in results for name in r.baselines},
                   key=list(BASELINES).index)  # fmt: skip
    for name in names:
        scored = [r for r in results if name in r.baselines]
        metrics[f"baseline_{name}_mase"] = _mean(
            [fm.mase(r.actual, r.baselines[name], r.history, season) for r in scored]
        )
        metrics[f"baseline_{name}_smape"] = _mean(
            [fm.smape(r.actual, r.baselines[name]) for r in scored])  # fmt: skip
    three = [(r, np.median([r.baselines[n] for n in STATISTICAL], axis=0)) for r in results
             if all(n in r.baselines for n in STATISTICAL)]  # fmt: skip
    if three:
        metrics["baseline_median3_mase"] = _mean(
            [fm.mase(r.actual, point, r.history, season) for r, point in three]
        )
        metrics["baseline_median3_smape"] = _mean([fm.smape(r.actual, p) for r, p in three])
    if metrics.get("baseline_seasonal_naive_mase"):
        metrics["relative_mase"] = metrics["mase"] / metrics["baseline_seasonal_naive_mase"]
    if metrics.get("baseline_median3_mase"):
        metrics["relative_mase_median3"] = metrics["mase"] / metrics["baseline_median3_mase"]
    metrics["beaten_by"] = [name for name in names
                            if metrics[f"baseline_{name}_mase"] < metrics["mase"]]  # fmt: skip
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in metrics.items()}


def _forecast_metrics(
    quantiles: Sequence[np.ndarray],
    results: Sequence[WindowResult],
    levels: list[float],
    season: int,
) -> dict[str, float]:
    """mase, smape, mae, rmse, pinball and coverage_80 / _95 of one forecast's windows."""
    median = levels.index(0.5)
    actual = np.concatenate([r.actual for r in results])
    point = np.concatenate([q[:, median] for q in quantiles])
    metrics = {
        "mase": _mean([fm.mase(r.actual, q[:, median], r.history, season)
                       for r, q in zip(results, quantiles, strict=True)]),
        "smape": _mean([fm.smape(r.actual, q[:, median])
                        for r, q in zip(results, quantiles, strict=True)]),
        "mae": fm.mae(actual, point),
        "rmse": fm.rmse(actual, point),
    }  # fmt: skip
    if len(levels) > 1:
        metrics["pinball"] = _mean(
            [fm.pinball(actual, np.concatenate([q[:, i] for q in quantiles]), tau)
             for i, tau in enumerate(levels)]
        )  # fmt: skip
    for low, high, name in ((0.1, 0.9, "coverage_80"), (0.025, 0.975, "coverage_95")):
        if low in levels and high in levels:
            lo = np.concatenate([q[:, levels.index(low)] for q in quantiles])
            hi = np.concatenate([q[:, levels.index(high)] for q in quantiles])
            metrics[name] = fm.coverage(actual, lo, hi)
    return metrics


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")
