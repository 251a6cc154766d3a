"""Fitting an ensemble of recurrent forecasters on the training parts, and forecasting from
any origin with it.

One global model is trained on the windows of every series (their values scaled, so series
of different sizes share it); ``model.ensemble`` members differ only in their seed and the
forecast is their median, quantile by quantile — a single fit on a series of a hundred points
is noisy, and the median of a few is the standard remedy (N-BEATS, Oreshkin et al. 2020,
ensembles 180). Only data before each series' training end is read when fitting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from rnnlab.data.series import Series
from rnnlab.errors import DataError
from rnnlab.tasks.forecast.config import ForecastRunConfig
from rnnlab.tasks.forecast.data import (
    Layout,
    Preparation,
    WindowSampler,
    fit_preparation,
    window_arrays,
    window_batch,
)
from rnnlab.tasks.forecast.model import RecurrentForecaster
from rnnlab.train import Trainer, seed_everything

__all__ = ["FittedForecaster", "fit_forecaster", "layout_of"]


def layout_of(config: ForecastRunConfig, season: int) -> Layout:
    """The features of the run's windows."""
    data = config.data
    return Layout(
        tuple(data.past_covariates),
        tuple(data.future_covariates),
        season if data.calendar and season > 1 else 0,
    )


@dataclass
class FittedForecaster:
    """The trained members and everything that turns a series into their inputs and back;
    ``combiner`` is the fitted combination with the statistical models
    (:class:`~rnnlab.tasks.forecast.combine.Combiner`), None for the recurrent model alone."""

    members: list[RecurrentForecaster]
    preparations: dict[str, Preparation]
    layout: Layout
    lookback: int
    horizon: int
    season: int
    config: ForecastRunConfig
    histories: list[list[dict[str, float]]]
    combiner: Any = None

    @property
    def levels(self) -> list[float]:
        return self.config.model.levels

    def preparation(self, series: Series, origin: int) -> Preparation:
        """What was fitted on ``series`` in training; for a series the model has not seen,
        the same fitted on its values before ``origin``."""
        if series.uid in self.preparations:
            return self.preparations[series.uid]
        data = self.config.data
        return fit_preparation(series.head(origin), data.transform,
                               [*data.past_covariates, *data.future_covariates])  # fmt: skip

    def _scaled(
        self, series: Series, prepared: Preparation, origin: int, steps: int
    ) -> tuple[np.ndarray, float, float]:
        """Median over members of the scaled quantile forecasts (steps, Q), loc, scale."""
        inputs, future, _, loc, scale = window_arrays(
            series, prepared, self.layout, self.config.data.scaling, origin, self.lookback,
            steps,
        )  # fmt: skip
        batch = window_batch([(inputs, future, np.zeros(steps), loc, scale)])
        with torch.no_grad():
            found = torch.stack([m(batch.inputs, batch.future)[0] for m in self.members])
        return found.median(dim=0).values.sort(dim=-1).values.numpy(), loc, scale

    def forecast(self, series: Series, origin: int, horizon: int | None = None) -> np.ndarray:
        """Quantile forecasts (H, Q) in the series' units for the ``horizon`` steps from
        ``origin`` (reading only the values before it)."""
        horizon = horizon or self.horizon
        if horizon > self.horizon and self.config.model.decoder == "direct":
            raise DataError(
                f"the model forecasts {self.horizon} steps ahead, not {horizon}; train it "
                f"with --horizon {horizon} (or --decoder recursive)."
            )
        prepared = self.preparation(series, origin)
        if self.config.model.decoder == "direct":
            scaled, loc, scale = self._scaled(series, prepared, origin, self.horizon)
            return prepared.inverse(loc + scale * scaled[:horizon])
        # Recursive: one step at a time, the median appended to the history.
        history = series.head(origin)
        future = series
        rows = []
        for step in range(horizon):
            at = origin + step
            extended = Series(series.uid, future.times, np.concatenate(
                [history.values, np.full(max(0, len(future) - at), np.nan)]),
                future.covariates)  # fmt: skip
            scaled, loc, scale = self._scaled(extended, prepared, at, 1)
            row = prepared.inverse(loc + scale * scaled[0])
            rows.append(row)
            median = row[self.levels.index(0.5)]
            history = Series(series.uid, history.times, np.append(history.values, median))
        return np.stack(rows)


def training_windows(
    series: Sequence[Series],
    ends: dict[str, int],
    preparations: dict[str, Preparation],
    layout: Layout,
    scaling: str,
    lookback: int,
    horizon: int,
) -> list[tuple[Any, ...]]:
    """Every window whose lookback and target lie before its series' training end."""
    rows = []
    for item in series:
        end = ends[item.uid]
        for origin in range(lookback, end - horizon + 1):
            rows.append(window_arrays(item, preparations[item.uid], layout, scaling, origin,
                                      lookback, horizon))  # fmt: skip
    return rows


def fit_forecaster(
    series: Sequence[Series],
    ends: dict[str, int],
    config: ForecastRunConfig,
    *,
    season: int,
    lookback: int,
    horizon: int,
    callbacks: Sequence[Any] = (),
) -> FittedForecaster:
    """Fit the preparations and ``model.ensemble`` members on the data before ``ends``."""
    data, model_config = config.data, config.model
    layout = layout_of(config, season)
    covariates = [*data.past_covariates, *data.future_covariates]
    preparations = {
        item.uid: fit_preparation(item.head(ends[item.uid]), data.transform, covariates)
        for item in series
    }
    out_steps = 1 if model_config.decoder == "recursive" else horizon
    rows = training_windows(series, ends, preparations, layout, data.scaling, lookback,
                            out_steps)  # fmt: skip
    if not rows:
        shortest = min(ends.values())
        raise DataError(
            f"the training part ({shortest} steps) holds no window of lookback {lookback} + "
            f"horizon {out_steps}; give a longer series or a shorter --lookback / --horizon."
        )
    windows = window_batch(rows)
    members, histories = [], []
    for k in range(model_config.ensemble):
        seed = config.train.seed + k
        seed_everything(seed)
        member = RecurrentForecaster(
            layout.input_size, len(layout.future), out_steps, model_config.levels, season,
            model_config,
        )  # fmt: skip
        sampler = WindowSampler(windows, config.train.batch_size, data.steps_per_epoch, seed)
        trainer = Trainer(replace(config.train, seed=seed), callbacks=callbacks if k == 0 else ())
        result = trainer.fit(member, sampler)
        member.eval()
        members.append(member)
        histories.append(result.history)
    return FittedForecaster(members, preparations, layout, lookback, horizon, season, config,
                            histories)  # fmt: skip
