"""``Forecaster``: the recurrent forecaster in scikit-learn's shape (fit / predict / score).

    >>> import numpy as np
    >>> import pandas as pd
    >>> import rnnlab
    >>> from rnnlab.tasks.forecast.estimator import Forecaster
    >>> months = pd.date_range("2000-01-01", periods=72, freq="MS")
    >>> noise = np.random.default_rng(0).normal(0, 2, 72)
    >>> series = pd.Series(100 + np.arange(72) + 10 * np.sin(np.arange(72) * np.pi / 6) + noise,
    ...                    index=months)
    >>> train, test = series[:-12], series[-12:]
    >>> model = Forecaster(horizon=12, ensemble=1, epochs=5).fit(train)  # the values up to now
    >>> forecast = model.predict()  # the 12 months after the end of train
    >>> forecast.shape, list(forecast.columns[:5])
    ((12, 12), ['unique_id', 'ds', 'forecast', 'lo-80', 'hi-80'])
    >>> model.score(test) < 0  # −MASE on the values after the end of ``train``
    True
    >>> model.save("monthly.safetensors")
    PosixPath('monthly.safetensors')
    >>> len(rnnlab.load("monthly.safetensors").predict(None))  # the same 12 rows
    12

A series is a pandas ``Series`` with a ``DatetimeIndex``, a ``DataFrame`` (long: ``unique_id``,
``ds``, ``y``, or the columns ``time_col`` / ``target_col`` / ``id_col`` name), a
:class:`~rnnlab.data.series.SeriesSet`, a file path or a built-in name (``"airline"``).
``fit`` trains on all of it what a forecasting run trains before its first backtest origin
(:mod:`rnnlab.tasks.forecast.backtest`) — the ensemble and, by default, its combination with
AutoETS, AutoARIMA and Theta — so a Forecaster fitted on a series without its last H steps
forecasts them exactly as the run's backtest window does. It learns ``fitted_`` (the
:class:`~rnnlab.tasks.forecast.fitting.FittedForecaster`), ``series_`` (what it was fitted
on), ``predictor_`` (a :class:`~rnnlab.tasks.forecast.predictor.ForecastPredictor`
forecasting from the end of that data), ``history_`` and ``best_epochs_`` (the members'),
and ``config_``; keyword parameters are the fields of
:class:`~rnnlab.tasks.forecast.config.ForecastRunConfig`, bare when unambiguous or dotted
(:mod:`rnnlab.tasks.params`).

:meth:`score` is the negated MASE (scikit-learn's model selection maximises a score, as with
its ``neg_mean_absolute_error``); :meth:`evaluate` gives MASE itself beside the other
metrics a run reports (sMAPE, MAE, RMSE, pinball loss, interval coverage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.series import Series, SeriesSet, read_frame, with_season
from rnnlab.errors import ConfigError, DataError
from rnnlab.tasks.forecast.backtest import WindowResult, score_windows
from rnnlab.tasks.forecast.combine import fit_combiner
from rnnlab.tasks.forecast.config import ForecastDataConfig, ForecastRunConfig
from rnnlab.tasks.forecast.data import default_horizon, default_lookback
from rnnlab.tasks.forecast.fitting import MemberCheckpoints, fit_forecaster
from rnnlab.tasks.forecast.predictor import ForecastPredictor, future_times
from rnnlab.tasks.forecast.workflow import load_series_for, save_forecaster
from rnnlab.tasks.params import ConfigEstimator
from rnnlab.train.trainer import resolve_monitor

__all__ = ["Forecaster", "as_series_set"]


def as_series_set(series: Any, data: ForecastDataConfig) -> SeriesSet:
    """``series`` (a pandas Series or DataFrame, a SeriesSet, a path or a built-in name) as
    checked regular series, read with ``data``'s columns, frequency, fill and season."""
    if isinstance(series, SeriesSet):
        found = series
    elif isinstance(series, (str, Path)):
        return load_series_for(data, str(series))
    else:
        found = _from_pandas(series, data)
    return with_season(found, data.season_length) if data.season_length else found


def _from_pandas(series: Any, data: ForecastDataConfig) -> SeriesSet:
    """A pandas Series (its index the times) or DataFrame read as a table is."""
    try:
        import pandas as pd
    except ModuleNotFoundError:  # without pandas nothing here can be a frame
        pd = None
    covariates = [*data.past_covariates, *data.future_covariates]
    if pd is not None and isinstance(series, pd.Series):
        if not isinstance(series.index, pd.DatetimeIndex):
            raise DataError(
                f"a pandas Series to forecast needs a DatetimeIndex (its times), got a "
                f"{type(series.index).__name__}; set the index to the timestamps."
            )
        uid = str(series.name) if series.name is not None else "series"
        frame = pd.DataFrame({"ds": series.index, "y": series.to_numpy()})
        found = read_frame(frame, source=uid, time_col="ds", target_col="y", freq=data.freq,
                           fill=data.fill)  # fmt: skip
        found.series[0].uid = uid
        return found
    if pd is not None and isinstance(series, pd.DataFrame):
        columns = [str(c) for c in series.columns]
        id_col = data.id_col or ("unique_id" if "unique_id" in columns else "")
        return read_frame(
            series, source="the DataFrame", time_col=data.time_col or "ds",
            target_col=data.target_col or "y", id_col=id_col, covariates=covariates,
            freq=data.freq, fill=data.fill,
        )  # fmt: skip
    raise DataError(
        f"cannot forecast a {type(series).__name__}; give a pandas Series with a "
        "DatetimeIndex, a DataFrame (unique_id, ds, y), a SeriesSet, a file or a built-in name."
    )


def fit_shape(config: ForecastRunConfig, found: SeriesSet) -> tuple[int, int, int]:
    """(horizon, lookback, season) of a fit on all of ``found``: the config's, or the defaults
    a run uses for a training part as long as the shortest series."""
    data = config.data
    season = data.season_length or found.season_length
    shortest = min(len(s) for s in found.series)
    horizon = data.horizon or default_horizon(season, shortest)
    out = 1 if config.model.decoder == "recursive" else horizon
    lookback = data.lookback or default_lookback(season, out, shortest)
    if shortest < lookback + out:
        short = min(found.series, key=len)
        raise DataError(
            f"{found.origin}: series {short.uid!r} has {len(short)} points, too short to train "
            f"on windows of lookback {lookback} + horizon {out}; give a longer series or a "
            "shorter lookback / horizon."
        )
    return horizon, lookback, season


class Forecaster(ConfigEstimator):
    """Series → windows → ensemble of GRU/LSTM forecasters (+ statistical combination) →
    quantile forecasts of the steps after the end; see the module docstring."""

    fit_arguments = "series"
    config_type = ForecastRunConfig

    def fit(
        self,
        series: Any,
        y: None = None,
        *,
        run_dir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] = (),
    ) -> Forecaster:
        """Train on all of ``series`` and return ``self``. ``y`` is scikit-learn's place for
        targets and must stay None: the series is its own target. With ``run_dir`` the
        members checkpoint there and ``resume`` continues an interrupted fit without
        training its finished members again
        (:class:`~rnnlab.tasks.forecast.fitting.MemberCheckpoints`)."""
        if y is not None:
            raise DataError(
                "Forecaster.fit takes the series alone (its values are the targets); pass y=None."
            )
        if resume and run_dir is None:
            raise ConfigError("Forecaster.fit(resume=True) needs the run_dir it checkpointed to.")
        config = self.resolved_config()
        config = replace(config, train=resolve_monitor(config.train, has_validation=False))
        found = as_series_set(series, config.data)
        horizon, lookback, season = fit_shape(config, found)
        ends = {s.uid: len(s) for s in found.series}
        checkpoints = None if run_dir is None else MemberCheckpoints.open(run_dir, resume)
        combiner = None
        if config.model.combine != "none":
            combiner = fit_combiner(
                found.series, ends, config, freq=found.freq, season=season, lookback=lookback,
                horizon=horizon, checkpoints=checkpoints,
            )  # fmt: skip
        fitted = fit_forecaster(
            found.series, ends, config, season=season, lookback=lookback, horizon=horizon,
            callbacks=callbacks, checkpoints=checkpoints,
        )  # fmt: skip
        fitted.combiner = combiner
        self.config_ = config
        self.series_ = found
        self.fitted_ = fitted
        self.history_ = fitted.histories[0]
        self.best_epochs_ = list(fitted.best_epochs)
        self.predictor_ = ForecastPredictor(fitted, {s.uid: s for s in found.series}, found.freq)
        return self

    def predict(self, series: Any = None, horizon: int | None = None) -> Any:
        """A pandas DataFrame of forecast rows (``unique_id``, ``ds``, ``forecast``, the
        interval bounds and every quantile) for ``horizon`` steps (the trained one by
        default) after the end of the fitted series, or of ``series`` when given."""
        import pandas as pd

        self._check_fitted()
        given = None if series is None else as_series_set(series, self.config_.data)
        return pd.DataFrame(self.predictor_.forecast(given, horizon))

    def evaluate(self, actual: Any) -> dict[str, Any]:
        """The metrics of a run's backtest (``mase``, ``smape``, ``mae``, ``rmse``,
        ``pinball``, ``coverage_80`` / ``_95``, ``rnn_*`` for the network alone) of the
        forecasts from the end of the fitted series against ``actual``: the values that
        follow it (the whole series may be given; the steps after the fitted end are
        scored), at most the trained horizon for the direct decoder."""
        self._check_fitted()
        found = as_series_set(actual, self.config_.data)
        fitted = self.fitted_
        levels = fitted.levels
        results = []
        for item in found.series:
            train = self._fitted_series(item.uid, len(found.series))
            times, values = self._after_end(item, train)
            given = SeriesSet([train], self.series_.freq, self.series_.season_length, "fit")
            rows = self.predictor_.forecast(given, len(values))
            quantiles = np.array([[row[f"q{q:g}"] for q in levels] for row in rows])
            result = WindowResult(train.uid, 0, len(train), times, values, quantiles,
                                  train.values)  # fmt: skip
            if fitted.combiner is not None:
                result.rnn_quantiles = fitted.forecast(train, len(train), len(values))
            results.append(result)
        metrics = score_windows(results, levels, fitted.season)
        metrics.pop("beaten_by", None)  # no baselines are scored here
        return metrics

    def score(self, actual: Any, y: None = None) -> float:
        """−MASE of the forecast against ``actual`` (see :meth:`evaluate`): greater is
        better, as scikit-learn's model selection expects."""
        return -float(self.evaluate(actual)["mase"])

    def save(self, path: str | Path) -> Path:
        """Write the one-file model that ``rnnlab.load`` reads (a ForecastPredictor)."""
        self._check_fitted()
        return save_forecaster(path, self.fitted_, self.series_, self.config_)

    def _fitted_series(self, uid: str, count: int) -> Series:
        """The fitted series ``uid``; the only one when one series was fitted and one given."""
        fitted = {s.uid: s for s in self.series_.series}
        if uid in fitted:
            return fitted[uid]
        if count == 1 and len(fitted) == 1:
            return next(iter(fitted.values()))
        raise DataError(
            f"series {uid!r} was not fitted; the fitted series are {', '.join(fitted)}."
        )

    def _after_end(self, item: Series, train: Series) -> tuple[Any, np.ndarray]:
        """The times and values of ``item`` after the end of ``train``, checked to start at
        the next step and to fit in the horizon."""
        after = np.asarray(item.times > train.times[-1])
        times, values = item.times[after], item.values[after]
        if not len(values):
            raise DataError(
                f"series {item.uid!r} holds no values after the end of the fitted data "
                f"({train.times[-1]}); give the values that follow it."
            )
        expected = future_times(train.times[-1], self.series_.freq, len(values))
        if not expected.equals(times):
            raise DataError(
                f"the values of series {item.uid!r} to score must start at {expected[0]}, the "
                f"step after the fitted data, and follow its {self.series_.freq} steps; found "
                f"{times[0]}."
            )
        fitted = self.fitted_
        if len(values) > fitted.horizon and fitted.config.model.decoder == "direct":
            raise DataError(
                f"series {item.uid!r} has {len(values)} values after the fitted data and the "
                f"model forecasts {fitted.horizon} steps; give at most {fitted.horizon} or fit "
                f"with horizon={len(values)}."
            )
        return times, values
