"""A trained forecaster ready to use: what ``rnnlab.load`` returns for a forecasting run.

The model file holds the ensemble's weights, the run configuration, what was fitted per series
(transform, scaling), the last ``lookback`` steps of every series and, for the default
combined forecast, the combination's weights and conformal calibration
(:mod:`rnnlab.tasks.forecast.combine`), so ``rnnlab predict RUN --horizon H`` forecasts from
the end of the data without the data file; given series (``--data``) are forecast from their
own end instead. The statistical models of the combination are not stored (the model file
holds no pickles): AutoETS, AutoARIMA and Theta are fitted again, on the history the forecast
starts from, at every call — a second or so per series; the stored tails then hold up to
2,000 steps (not only the network's lookback), the history they are fitted on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.series import Series, SeriesSet
from rnnlab.errors import DataError
from rnnlab.runs import load_model_file, rebuilding
from rnnlab.tasks.base import Predictor
from rnnlab.tasks.forecast.combine import STATISTICAL, Combiner, combined_quantiles
from rnnlab.tasks.forecast.config import ForecastRunConfig
from rnnlab.tasks.forecast.data import Layout, Preparation
from rnnlab.tasks.forecast.fitting import FittedForecaster
from rnnlab.tasks.forecast.model import RecurrentForecaster

__all__ = ["ForecastPredictor", "forecast_rows", "interval_columns"]


def interval_columns(levels: list[float]) -> dict[str, tuple[float, float]]:
    """``{"80": (0.1, 0.9), "95": (0.025, 0.975)}`` for the symmetric pairs in ``levels``."""
    found = {}
    for q in sorted(levels, reverse=True):
        if q < 0.5 and round(1 - q, 6) in [round(x, 6) for x in levels]:
            found[f"{round((1 - 2 * q) * 100):g}"] = (q, round(1 - q, 6))
    return found


def forecast_rows(
    uid: str, times: Any, quantiles: np.ndarray, levels: list[float]
) -> list[dict[str, Any]]:
    """One row per step: ``unique_id``, ``ds``, ``forecast`` (the median), ``lo-80`` /
    ``hi-80`` (and 95) where the levels allow, and every quantile as ``q0.1``…"""
    rows = []
    pairs = interval_columns(levels)  # narrowest first: lo-80, hi-80, lo-95, hi-95
    for i, stamp in enumerate(times):
        row: dict[str, Any] = {
            "unique_id": uid,
            "ds": str(stamp.date()) if hasattr(stamp, "date") else str(stamp),
            "forecast": float(quantiles[i, levels.index(0.5)]),
        }
        for name, (low, high) in pairs.items():
            row[f"lo-{name}"] = float(quantiles[i, levels.index(low)])
            row[f"hi-{name}"] = float(quantiles[i, levels.index(high)])
        for j, q in enumerate(levels):
            row[f"q{q:g}"] = float(quantiles[i, j])
        rows.append(row)
    return rows


def future_times(last: Any, freq: str, steps: int) -> Any:
    import pandas as pd

    return pd.date_range(last, periods=steps + 1, freq=freq)[1:]


class ForecastPredictor(Predictor):
    """Forecasts of a trained run; ``predict(None)`` forecasts every training series from
    the end of its data, ``predict(series_set)`` the given series from theirs."""

    task = "forecast"
    engines = ("torch",)

    def __init__(self, fitted: FittedForecaster, tails: dict[str, Series], freq: str) -> None:
        self.fitted = fitted
        self.model = fitted.members
        self.engine = fitted.members
        self.tails = tails
        self.freq = freq

    @property
    def labels(self) -> list:
        return []

    @property
    def horizon(self) -> int:
        return self.fitted.horizon

    @property
    def levels(self) -> list[float]:
        return self.fitted.levels

    @classmethod
    def from_file(cls, path: str | Path, device: Any = "cpu") -> ForecastPredictor:
        import pandas as pd

        tensors, meta = load_model_file(path)
        with rebuilding(path, "forecast"):
            extra = meta["preprocessing"]
            config = ForecastRunConfig.from_dict(extra["run_config"], source=str(path))
            layout = Layout(tuple(extra["layout"]["past"]), tuple(extra["layout"]["future"]),
                            int(extra["layout"]["calendar_season"]))  # fmt: skip
            out_steps = 1 if config.model.decoder == "recursive" else int(extra["horizon"])
            members = []
            for k in range(int(extra["members"])):
                member = RecurrentForecaster(layout.input_size, len(layout.future), out_steps,
                                             config.model.levels, int(extra["season"]),
                                             config.model)  # fmt: skip
                prefix = f"member{k}."
                member.load_state_dict(
                    {n[len(prefix) :]: t for n, t in tensors.items() if n.startswith(prefix)}
                )
                members.append(member.to(device).eval())
            preparations = {
                uid: Preparation.from_dict(p) for uid, p in extra["preparations"].items()
            }
            fitted = FittedForecaster(
                members,
                preparations,
                layout,
                int(extra["lookback"]),
                int(extra["horizon"]),
                int(extra["season"]),
                config,
                [],
            )
            tails = {}
            for uid, tail in extra["tails"].items():
                times = pd.DatetimeIndex(pd.to_datetime(tail["times"]))
                tails[uid] = Series(
                    uid,
                    times,
                    np.asarray(tail["values"], float),
                    {k: np.asarray(v, float) for k, v in tail["covariates"].items()},
                )
            freq = extra["freq"]
            if extra.get("combination"):
                fitted.combiner = Combiner.from_dict(extra["combination"])
        return cls(fitted, tails, freq)

    def forecast(
        self,
        series: SeriesSet | None = None,
        horizon: int | None = None,
        future: dict[str, tuple[Any, dict[str, np.ndarray]]] | None = None,
    ) -> list[dict[str, Any]]:
        """Forecast rows (:func:`forecast_rows`) of ``horizon`` steps (the trained one by
        default) after the end of each series; ``future`` (:func:`~rnnlab.data.series.
        read_future`) holds the future covariates of the steps after the end, by series id
        ("" for a file without ids)."""
        horizon = horizon or self.horizon
        if horizon < 1:
            raise DataError(f"--horizon must be at least 1, got {horizon}.")
        chosen = list(self.tails.values()) if series is None else series.series
        rows: list[dict[str, Any]] = []
        for item in chosen:
            if len(item) < self.fitted.lookback:
                raise DataError(
                    f"series {item.uid!r} has {len(item)} points; the model reads the last "
                    f"{self.fitted.lookback} (its lookback) — give a longer series."
                )
            origin = len(item)
            if future:
                item = self._extended(item, future, horizon)
            quantiles = self.fitted.forecast(item, origin, horizon)
            if self.fitted.combiner is not None:
                quantiles = self._combined(item, origin, quantiles)
            times = future_times(item.times[origin - 1], self.freq, horizon)
            rows.extend(forecast_rows(item.uid, times, quantiles, self.levels))
        return rows

    def _combined(self, item: Series, origin: int, rnn_quantiles: np.ndarray) -> np.ndarray:
        """The combination's quantiles: AutoETS, AutoARIMA and Theta fitted on the values
        before ``origin``, weighted with the recurrent model's median as in training."""
        from rnnlab.evaluate.forecast_baselines import baseline_forecasts
        from rnnlab.evaluate.forecast_metrics import mase_scale

        fitted = self.fitted
        steps = len(rnn_quantiles)
        history = item.values[:origin]
        found = baseline_forecasts(item.times[:origin], history, steps, self.freq,
                                   fitted.season, list(STATISTICAL))  # fmt: skip
        points = {**found.point, "rnn": rnn_quantiles[:, fitted.levels.index(0.5)]}
        return combined_quantiles(fitted.combiner.for_series(item.uid), points,
                                  mase_scale(history, fitted.season), fitted.levels)  # fmt: skip

    def _extended(
        self, item: Series, future: dict[str, tuple[Any, dict[str, np.ndarray]]], horizon: int
    ) -> Series:
        """``item`` with the future covariate values of the steps after its end appended (its
        values there unknown, NaN); the future rows must start at the next step."""
        key = item.uid if item.uid in future else ""
        if key not in future:
            raise DataError(
                f"the future covariates hold no rows for series {item.uid!r}; add them (with "
                "its id in the id column)."
            )
        times, columns = future[key]
        expected = future_times(item.times[-1], self.freq, len(times))
        if len(times) == 0 or not expected.equals(times):
            first = times[0] if len(times) else "no rows"
            raise DataError(
                f"the future covariates of series {item.uid!r} must start at "
                f"{expected[0] if len(expected) else 'the next step'} and follow the "
                f"{self.freq} steps, found {first}."
            )
        missing = [name for name in self.fitted.layout.future if name not in columns]
        if missing:
            raise DataError(f"the future covariates lack column(s) {', '.join(missing)}.")
        steps = len(times)
        covariates = {
            name: np.concatenate([values, columns.get(name, np.full(steps, np.nan))])
            for name, values in item.covariates.items()
        }
        values = np.concatenate([item.values, np.full(steps, np.nan)])
        return Series(item.uid, item.times.append(times), values, covariates)

    def predict(self, inputs: Any, batch_size: int = 64) -> list:
        """The rows of :meth:`forecast` for ``inputs`` (a :class:`SeriesSet` or None)."""
        return self.forecast(inputs)
