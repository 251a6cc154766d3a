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

The network reads ``batch_size`` series at a time (one batch of windows per ensemble member);
each series' forecast is the one :meth:`FittedForecaster.forecast
<rnnlab.tasks.forecast.fitting.FittedForecaster.forecast>` gives for it alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.data.series import Series, SeriesSet
from rnnlab.errors import DataError, ValueRangeError
from rnnlab.runs import load_model_file, rebuilding
from rnnlab.tasks.base import Predictor
from rnnlab.tasks.forecast.combine import STATISTICAL, Combiner, combined_quantiles
from rnnlab.tasks.forecast.config import ForecastRunConfig
from rnnlab.tasks.forecast.data import Layout, Preparation, window_arrays, window_batch
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
            config = ForecastRunConfig.from_dict(_loadable(extra["run_config"]), source=str(path))
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
        batch_size: int = 64,
    ) -> list[dict[str, Any]]:
        """Forecast rows (:func:`forecast_rows`) of ``horizon`` steps (the trained one by
        default) after the end of each series; ``future`` (:func:`~rnnlab.data.series.
        read_future`) holds the future covariates of the steps after the end, by series id
        ("" for a file without ids). The network reads ``batch_size`` series at a time; the
        rows do not depend on it."""
        horizon = horizon or self.horizon
        if horizon < 1:
            raise DataError(f"--horizon must be at least 1, got {horizon}.")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueRangeError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
        fitted = self.fitted
        if horizon > fitted.horizon and fitted.config.model.decoder == "direct":
            raise DataError(
                f"the model forecasts {fitted.horizon} steps ahead, not {horizon}; train it "
                f"with --horizon {horizon} (or --decoder recursive)."
            )
        chosen = list(self.tails.values()) if series is None else series.series
        starts: list[tuple[Series, int]] = []  # (series, forecast origin)
        for item in chosen:
            if len(item) < fitted.lookback:
                raise DataError(
                    f"series {item.uid!r} has {len(item)} points; the model reads the last "
                    f"{fitted.lookback} (its lookback) — give a longer series."
                )
            origin = len(item)
            starts.append((self._extended(item, future, horizon) if future else item, origin))
        rows: list[dict[str, Any]] = []
        for first in range(0, len(starts), batch_size):
            chunk = starts[first : first + batch_size]
            for (item, origin), quantiles in zip(
                chunk, self._network_forecasts(chunk, horizon), strict=True
            ):
                if fitted.combiner is not None:
                    quantiles = self._combined(item, origin, quantiles)
                times = future_times(item.times[origin - 1], self.freq, horizon)
                rows.extend(forecast_rows(item.uid, times, quantiles, self.levels))
        return rows

    def _network_forecasts(
        self, starts: list[tuple[Series, int]], horizon: int
    ) -> list[np.ndarray]:
        """The recurrent model's quantile forecasts (H, Q), in the series' units, of every
        (series, origin) in ``starts``, read in one batch: per series what
        ``FittedForecaster.forecast`` gives (the same windows, scaling and median over the
        members; a recursive decoder steps all the series together)."""
        fitted = self.fitted
        prepared = [fitted.preparation(item, origin) for item, origin in starts]
        if fitted.config.model.decoder == "direct":
            windows = [
                (item, prep, origin) for (item, origin), prep in zip(starts, prepared, strict=True)
            ]
            scaled, locs, scales = self._scaled(windows, fitted.horizon)
            return [prep.inverse(loc + scale * found[:horizon])
                    for prep, found, loc, scale in zip(prepared, scaled, locs, scales,
                                                       strict=True)]  # fmt: skip
        # Recursive: one step at a time, each series' median appended to its history.
        median = fitted.levels.index(0.5)
        histories = [item.head(origin) for item, origin in starts]
        steps: list[list[np.ndarray]] = [[] for _ in starts]
        for step in range(horizon):
            windows = []
            for (item, origin), history, prep in zip(starts, histories, prepared, strict=True):
                unknown = np.full(max(0, len(item) - origin - step), np.nan)
                extended = Series(
                    item.uid, item.times, np.concatenate([history.values, unknown]), item.covariates
                )
                windows.append((extended, prep, origin + step))
            scaled, locs, scales = self._scaled(windows, 1)
            for k, prep in enumerate(prepared):
                row = prep.inverse(locs[k] + scales[k] * scaled[k][0])
                steps[k].append(row)
                history = histories[k]
                histories[k] = Series(history.uid, history.times,
                                      np.append(history.values, row[median]))  # fmt: skip
        return [np.stack(rows) for rows in steps]

    def _scaled(
        self, windows: list[tuple[Series, Preparation, int]], steps: int
    ) -> tuple[np.ndarray, list[float], list[float]]:
        """Median over members of the scaled quantile forecasts (B, steps, Q) of the windows
        (series, preparation, origin), and each window's loc and scale."""
        fitted = self.fitted
        arrays = [
            window_arrays(item, prep, fitted.layout, fitted.config.data.scaling, origin,
                          fitted.lookback, steps)
            for item, prep, origin in windows
        ]  # fmt: skip
        batch = window_batch([(inputs, future, np.zeros(steps), loc, scale)
                              for inputs, future, _, loc, scale in arrays])  # fmt: skip
        with torch.no_grad():
            found = torch.stack([m(batch.inputs, batch.future) for m in fitted.members])
        scaled = found.median(dim=0).values.sort(dim=-1).values.numpy()  # (B, steps, Q)
        return scaled, [a[3] for a in arrays], [a[4] for a in arrays]

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
        """The rows of :meth:`forecast` for ``inputs`` (a :class:`SeriesSet` or None), the
        network reading ``batch_size`` series at a time."""
        return self.forecast(inputs, batch_size=batch_size)


def _loadable(stored: Any) -> Any:
    """The run configuration stored in a model file, with the settings that older versions
    accepted and ignored, and now refuse, reset to what they did — nothing — so that such a
    file still loads: ``train.bucketing`` false, ``model.dropout`` on one layer."""
    if not isinstance(stored, dict):
        return stored
    stored = {name: dict(table) if isinstance(table, dict) else table
              for name, table in stored.items()}  # fmt: skip
    train, model = stored.get("train"), stored.get("model")
    if isinstance(train, dict) and train.get("bucketing") is False:
        train["bucketing"] = True
    if isinstance(model, dict) and model.get("num_layers", 1) == 1:
        dropout = model.get("dropout")
        if isinstance(dropout, (int, float)) and not isinstance(dropout, bool) and dropout:
            model["dropout"] = 0.0
    return stored
