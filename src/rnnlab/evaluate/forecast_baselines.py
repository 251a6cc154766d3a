"""The statistical forecasts every recurrent forecast is printed beside, from ``statsforecast``.

naive (the last value), seasonal naive (the value one season back), drift (random walk with
drift), AutoETS, AutoARIMA and Theta (AutoTheta) — Nixtla's implementations, fitted on the
same training part and scored on the same windows as the model. The M4 competition's lesson
(Makridakis et al. 2018) is that pure machine-learning forecasts often lose to these, so a
model's number means little without them. The automatic models need a few seasons of data;
a model that cannot fit a series is left out for it and named in :attr:`Baselines.failed`.
Seasons longer than :data:`LONGEST_SEASON` (weekly data, m = 52) are beyond statsforecast's
ETS, and a seasonal ARIMA search on them takes minutes, so AutoETS and AutoARIMA are fitted
without a seasonal part there, and :attr:`Baselines.notes` says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab.errors import MissingDependencyError

__all__ = [
    "BASELINES",
    "BASELINE_TITLES",
    "LONGEST_SEASON",
    "Baselines",
    "baseline_forecasts",
    "statsforecast_models",
]

LONGEST_SEASON = 24

# Our name → statsforecast's column name.
BASELINES = {
    "naive": "Naive",
    "seasonal_naive": "SeasonalNaive",
    "drift": "RWD",
    "ets": "AutoETS",
    "arima": "AutoARIMA",
    "theta": "AutoTheta",
}
# Our name → how tables and plots call it.
BASELINE_TITLES = {
    "naive": "naive", "seasonal_naive": "seasonal naive", "drift": "drift",
    "ets": "AutoETS", "arima": "AutoARIMA", "theta": "Theta",
}  # fmt: skip


@dataclass
class Baselines:
    """Point forecasts (H,) and 80 % intervals by baseline name; ``failed`` names those that
    could not be fitted, with the reason; ``notes`` how some were fitted differently."""

    point: dict[str, np.ndarray] = field(default_factory=dict)
    low80: dict[str, np.ndarray] = field(default_factory=dict)
    high80: dict[str, np.ndarray] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def statsforecast_models(season: int, names: list[str]) -> list[Any]:
    """statsforecast model objects for ``names`` (keys of :data:`BASELINES`) at ``season``;
    shared by the baselines and the forecast combination's members."""
    try:
        from statsforecast import models
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "Forecast baselines come from statsforecast, which is not installed; install it "
            'with: pip install "rnnlab[forecast]"'
        ) from None
    automatic = max(season, 1) if season <= LONGEST_SEASON else 1
    make = {
        "naive": lambda: models.Naive(),
        "seasonal_naive": lambda: models.SeasonalNaive(season_length=max(season, 1)),
        "drift": lambda: models.RandomWalkWithDrift(),
        "ets": lambda: models.AutoETS(season_length=automatic),
        "arima": lambda: models.AutoARIMA(season_length=automatic),
        "theta": lambda: models.AutoTheta(season_length=max(season, 1)),
    }
    return [make[name]() for name in names]


def baseline_forecasts(
    times: Any, values: np.ndarray, horizon: int, freq: str, season: int,
    names: list[str] | None = None,
) -> Baselines:  # fmt: skip
    """Fit each baseline on ``values`` (the history before the origin, at ``times``) and
    forecast ``horizon`` steps with 80 % intervals."""
    import pandas as pd
    from statsforecast import StatsForecast

    names = list(names or BASELINES)
    frame = pd.DataFrame({"unique_id": "s", "ds": times, "y": np.asarray(values, float)})
    found = Baselines()
    if season > LONGEST_SEASON:
        for name in ("ets", "arima"):
            if name in names:
                found.notes[name] = (f"fitted without a season (m = {season} > "
                                     f"{LONGEST_SEASON})")  # fmt: skip
    for name, model in zip(names, statsforecast_models(season, names), strict=True):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = StatsForecast(models=[model], freq=freq, n_jobs=1).forecast(
                    df=frame, h=horizon, level=[80]
                )
        except Exception as exc:  # statsforecast raises plain exceptions on short series
            found.failed[name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            continue
        column = BASELINES[name]
        point = table[column].to_numpy(dtype=float)
        if not np.all(np.isfinite(point)):
            found.failed[name] = "non-finite forecast"
            continue
        found.point[name] = point
        found.low80[name] = table[f"{column}-lo-80"].to_numpy(dtype=float)
        found.high80[name] = table[f"{column}-hi-80"].to_numpy(dtype=float)
    return found
