"""Configuration of forecasting runs: the ``[model]``, ``[data]`` and ``[train]`` tables.

``[model]`` is the recurrent encoder over the window (GRU by default), its multi-horizon head
and loss; ``[data]`` the series, how they are read and checked, the window (lookback and
horizon), the transform and scaling, and the rolling-origin backtest; ``[train]`` the shared
:class:`~rnnlab.config.TrainConfig`, where one epoch is ``steps_per_epoch`` batches of
windows drawn at random (short series hold few windows, long ones many; a fixed number of
steps trains both alike).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rnnlab.config import (
    ConfigSection,
    RunConfig,
    TrainConfig,
    override_defaults,
    refuse_bucketing,
    refuse_dropout_without_layers,
    setting,
)
from rnnlab.data.series import FILLS
from rnnlab.errors import ConfigError
from rnnlab.tasks.base import TrainCommand
from rnnlab.tasks.encoder import RecurrentConfig

__all__ = ["ForecastDataConfig", "ForecastModelConfig", "ForecastRunConfig"]


@dataclass(frozen=True)
@override_defaults(hidden_size=16, num_layers=1, input_dropout=0.0, weight_dropout=0.0)
class ForecastModelConfig(RecurrentConfig):
    """window (B, L, features) → GRU/LSTM layers → last state → head → (B, H, quantiles).

    The recurrent keys are :class:`~rnnlab.tasks.encoder.RecurrentConfig`'s, by default one
    layer of 16 units without dropout: series of a hundred points hold a few dozen windows,
    too few for a wider network (benchmarks/bench_forecast.py --held-out compares sizes).

    With ``skip = "seasonal"`` the head predicts a correction to the seasonal naive forecast
    of the (scaled) window and starts at zero, so an untrained model already forecasts as
    seasonal naive does and training only has to learn what it misses (trend, level shifts,
    the shape of a cycle); "none" predicts the values outright.
    """

    # "direct": one head gives all H steps at once; "recursive": a one-step model fed its
    # own forecasts for H steps.
    decoder: str = setting(
        "direct",
        choices=("direct", "recursive"),
        help=(
            "direct (one head gives all steps) or recursive (a one-step model fed its own "
            "forecasts)."
        ),
    )
    skip: str = setting(
        "seasonal",
        choices=("seasonal", "none"),
        help="seasonal: add the value one season back to the network's output; none.",
    )
    # "quantile": pinball loss at each of `quantiles` (the point forecast is the median);
    # "mae" and "mse" give point forecasts only.
    loss: str = setting(
        "quantile",
        choices=("quantile", "mae", "mse"),
        help="quantile (pinball loss at --quantiles), mae or mse.",
    )
    # The 95 % and 80 % interval ends beside the median.
    quantiles: list[float] = setting(  # noqa: RUF009
        [0.025, 0.1, 0.5, 0.9, 0.975],
        help="Comma-separated quantile levels, with 0.5 (default 0.025,0.1,0.5,0.9,0.975).",
    )
    # Models trained with seeds seed·E + k (k = 0 … E − 1, E = ensemble), so runs with
    # different seeds share no member; the forecast is their median (quantile by quantile):
    # small series give noisy single fits.
    ensemble: int = setting(
        5,
        low=1,
        aliases=("members",),
        help="Models trained (seeds seed·E + k: runs with other seeds share none); the "
        "forecast is their median.",
    )
    # The forecast: "inverse_mase" combines the recurrent model with AutoETS, AutoARIMA and
    # Theta weighted by their inverse squared MASE on validation windows of the training
    # part, with conformal intervals from the same windows (tasks/forecast/combine.py);
    # "none" is the recurrent model alone with its own quantiles.
    combine: str = setting(
        "inverse_mase",
        choices=("inverse_mase", "none"),
        aliases=("combination",),
        help="inverse_mase: the recurrent model combined with AutoETS, AutoARIMA and Theta, "
        "weighted by 1/MASE² on validation windows, with conformal intervals; none: the "
        "recurrent model alone.",
    )

    @property
    def levels(self) -> list[float]:
        """The quantile levels the head predicts ([0.5] for point losses)."""
        return list(self.quantiles) if self.loss == "quantile" else [0.5]

    def check(self) -> None:
        if self.bidirectional:
            raise ConfigError(
                "Config key 'model.bidirectional' is true, but the forecaster reads its window "
                "forwards and forecasts from the last step's output, where a backward direction "
                "has read only the last value; remove it."
            )
        if self.loss != "quantile":
            return
        levels = list(self.quantiles)
        if not levels or any(not 0 < q < 1 for q in levels):
            raise ConfigError(
                f"model.quantiles must be levels strictly between 0 and 1, got {levels}."
            )
        if 0.5 not in levels:
            raise ConfigError(
                f"model.quantiles {levels} must include 0.5, the median that is the point "
                "forecast; add it (for example 0.1,0.5,0.9)."
            )
        if sorted(set(levels)) != levels:
            raise ConfigError(f"model.quantiles must be increasing and distinct, got {levels}.")


@dataclass(frozen=True)
class ForecastDataConfig(ConfigSection):
    """The series, the window, the transform and the backtest."""

    section: ClassVar[str] = "data"

    data: str = setting(
        "",
        aliases=("train", "dataset", "path", "series"),
        help=(
            "CSV/TSV/parquet of series (long: unique_id, ds, y; or wide with --time-col and "
            "--target-col), or airline, lynx, shampoo, sunspots, nile, co2."
        ),
    )
    time_col: str = setting(
        "", aliases=("ds", "time_column", "date_col"), help="Column of timestamps (default ds)."
    )
    target_col: str = setting(
        "", aliases=("y", "target", "value_col"), help="Column to forecast (default y)."
    )
    id_col: str = setting(
        "",
        aliases=("unique_id", "series_col"),
        help="Column naming the series (default unique_id).",
    )
    # Known only up to the forecast origin (read in the window).
    past_covariates: list[str] = setting(  # noqa: RUF009
        [], help="Comma-separated columns known up to the origin only."
    )
    # Known for the horizon too (prices set in advance, holidays): read in the window and
    # beside each forecast step.
    future_covariates: list[str] = setting(  # noqa: RUF009
        [], help="Comma-separated columns known for the horizon too."
    )
    # Calendar position in the season (sin and cos), as a future covariate, when m > 1.
    calendar: bool = setting(
        True, help="Calendar position in the season (sin, cos) as a future covariate."
    )
    freq: str = setting(
        "", aliases=("frequency",), help="pandas frequency (MS, W, D, h…); default: inferred."
    )
    season_length: int = setting(
        0,
        low=0,
        aliases=("season", "m", "seasonality"),
        help="Steps per season (0: from the frequency).",
    )
    fill: str = setting(
        "none", choices=FILLS, help="Missing values and gaps: none (refuse), linear, ffill, zero."
    )
    # Steps ahead; 0: M4's horizon for the frequency (6 yearly, 8 quarterly, 18 monthly, 13
    # weekly, 14 daily, 48 hourly), at most a sixth of the shortest series.
    horizon: int = setting(
        0,
        low=0,
        aliases=("h", "prediction_length"),
        help="Steps ahead (0: M4's horizon for the frequency).",
    )
    # Steps the model reads; 0: max(2 seasons, 3 horizons), at most half of what the
    # shortest training part leaves after one horizon.
    lookback: int = setting(
        0,
        low=0,
        aliases=("context_length", "input_size", "window"),
        help="Steps the model reads (0: from the season and the horizon).",
    )
    # "auto": log when every training value is positive, else none; "boxcox": λ fitted on
    # the training part (scipy).
    transform: str = setting(
        "auto",
        choices=("auto", "none", "log", "boxcox"),
        help="auto (log if positive), none, log or boxcox.",
    )
    # "window": each window standardised by its own lookback (nothing else to fit);
    # "series": each series by the mean and deviation of its training part.
    scaling: str = setting(
        "window",
        choices=("window", "series"),
        help="window (each window by its lookback) or series (by its training part).",
    )
    # Rolling-origin backtest: `windows` forecast origins, `step` apart (0: the horizon),
    # the last ending at the end of the series.
    windows: int = setting(
        1, low=1, aliases=("n_windows", "folds"), help="Backtest origins, rolling."
    )
    step: int = setting(
        0, low=0, aliases=("step_size",), help="Steps between origins (0: the horizon)."
    )
    # Validation origins (one step apart, the last window ending at the first test origin)
    # on which the combination is weighted and its intervals calibrated (model.combine);
    # 0: the later half of the training part, at least 24 and two seasons, as far as the
    # data allow (tasks/forecast/combine.py, validation_count).
    validation_windows: int = setting(
        0,
        low=0,
        aliases=("calibration_windows",),
        help=(
            "Windows at the end of the training part that weight the combination and calibrate its "
            "intervals (0: the later half, at least 24 and two seasons where the data allow)."
        ),
    )
    # Refit the model (and the transform) at every origin, not only the first.
    refit: bool = setting(False, help="Refit at every origin, not only the first.")
    # Batches of windows drawn (with replacement, seeded by the epoch) per training epoch.
    steps_per_epoch: int = setting(25, low=1, help="Batches of windows drawn per training epoch.")

    def check(self) -> None:
        shared = set(self.past_covariates) & set(self.future_covariates)
        if shared:
            raise ConfigError(
                f"data.past_covariates and data.future_covariates both name "
                f"{', '.join(sorted(shared))}; a column is one or the other."
            )


def _train_defaults() -> TrainConfig:
    """20 epochs of 25 batches of 32 windows (500 steps), Adam 3e-3 decayed linearly with
    L2 0.01, following the training loss (``train_loss``: there is no validation data; the
    held-out end of the series is the test). Series of a hundred points hold a few dozen
    windows: longer training or a wider network fits them closely and forecasts worse."""
    return TrainConfig(
        epochs=20, batch_size=32, lr=3e-3, weight_decay=0.01, clip_norm=1.0,
        monitor="train_loss", monitor_mode="min", checkpoint_every=0,
    )  # fmt: skip


@dataclass(frozen=True)
class ForecastRunConfig(RunConfig):
    """Everything a forecasting run needs; written beside the run as ``config.toml``."""

    model: ForecastModelConfig = field(default_factory=ForecastModelConfig)
    data: ForecastDataConfig = field(default_factory=ForecastDataConfig)
    train: TrainConfig = field(default_factory=_train_defaults)

    def check(self) -> None:
        """Settings a forecasting run would otherwise accept and ignore."""
        refuse_dropout_without_layers(
            self.model, ("input_dropout", "recurrent_dropout", "weight_dropout")
        )
        refuse_bucketing(
            self.train, "forecasting batches windows that all have the lookback's length"
        )


# The metrics ``--seeds`` summarises: the forecaster's beside seasonal naive's and AutoETS's.
FORECAST_SCORES = ("mase", "smape", "relative_mase", "coverage_80", "coverage_95", "rnn_mase",
                   "baseline_seasonal_naive_mase", "baseline_ets_mase",
                   "baseline_median3_mase", "relative_mase_median3")  # fmt: skip

COMMAND = TrainCommand(
    help="Train a recurrent forecaster and backtest it beside naive, seasonal naive, drift, "
    "AutoETS, AutoARIMA and Theta on the same windows.",
    examples=(
        "rnnlab train forecast --data airline --horizon 12 --out runs/airline",
        "rnnlab train forecast --data sales.csv --time-col date --target-col units --id-col "
        "store --horizon 8 --windows 3 --out runs/sales",
        "rnnlab train forecast --data long.csv --quantiles 0.025,0.1,0.5,0.9,0.975 --out runs/q",
    ),
    seeds=FORECAST_SCORES,
)
