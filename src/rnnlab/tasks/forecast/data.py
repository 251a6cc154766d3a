r"""Series → training windows: the transform, the scaling and the features of each step.

A window ending at origin t reads the L steps before it and forecasts the H after it::

    time ─────────────────────────────────────────────────────────────►
           … x_{t−L} … x_{t−1} │ y_t … y_{t+H−1}
             └── lookback L ──┘│└── horizon H ──┘
                               origin t

Each step of the window carries [scaled value, past covariates, future covariates, calendar];
the head also sees the future covariates of the H forecast steps. Everything
that is fitted — the log / Box-Cox transform's λ, the per-series scaling, the covariates'
means and deviations — is fitted on the data before the first forecast origin only
(:func:`fit_preparation`), and per-window scaling uses the window's own lookback, so no
value at or after an origin can reach a forecast made from it.

Scaling: with ``"window"``, the values of a window are standardised by the mean μ and
deviation σ of its own lookback, x̃ = (x − μ)/σ (σ floored at 10⁻³·max(1, |μ|)), and the
forecast is read back as ŷ = μ + σ·ỹ; with ``"series"``, μ and σ are those of the series'
training part.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnlab.data.series import Series
from rnnlab.errors import ConfigError, DataError

__all__ = [
    "M4_HORIZONS",
    "Layout",
    "Preparation",
    "WindowBatch",
    "WindowSampler",
    "default_horizon",
    "default_lookback",
    "fit_preparation",
    "step_features",
    "window_arrays",
    "window_batch",
]

# M4's forecast horizons by season length (1 yearly, 4 quarterly, 12 monthly, 52 weekly,
# 7 daily, 24 hourly).
M4_HORIZONS = {1: 6, 4: 8, 12: 18, 52: 13, 7: 14, 24: 48}


def default_horizon(season: int, shortest: int) -> int:
    """M4's horizon for the season length, at most a sixth of the shortest series."""
    return max(1, min(M4_HORIZONS.get(season, max(season, 6)), shortest // 6))


def default_lookback(season: int, horizon: int, shortest_train: int) -> int:
    """max(2 seasons, 3 horizons), at most half of what the shortest training part leaves
    after one horizon (so it still holds several windows), and at least 2."""
    wanted = max(2 * season, 3 * horizon)
    return max(2, min(wanted, (shortest_train - horizon) // 2))


# --------------------------------------------------------------------------- transforms


def _boxcox(values: np.ndarray, lam: float) -> np.ndarray:
    return np.log(values) if lam == 0 else (np.power(values, lam) - 1.0) / lam


def _inverse_boxcox(values: np.ndarray, lam: float) -> np.ndarray:
    if lam == 0:
        return np.exp(values)
    return np.power(np.maximum(lam * values + 1.0, 1e-12), 1.0 / lam)


@dataclass
class Preparation:
    """What was fitted on one series' training part: the transform (``kind``, ``lam``),
    the series scaling (``loc``, ``scale`` of the transformed training values) and each
    covariate's mean and deviation."""

    kind: str
    lam: float
    loc: float
    scale: float
    covariates: dict[str, tuple[float, float]]

    def transform(self, values: np.ndarray) -> np.ndarray:
        if self.kind == "none":
            return np.asarray(values, float)
        if np.any(np.asarray(values) <= 0):
            raise DataError(
                f"a {self.kind} transform needs positive values, and the series has values "
                "≤ 0; pass --transform none."
            )
        return _boxcox(np.asarray(values, float), 0.0 if self.kind == "log" else self.lam)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        if self.kind == "none":
            return np.asarray(values, float)
        return _inverse_boxcox(np.asarray(values, float), 0.0 if self.kind == "log" else self.lam)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "lam": self.lam, "loc": self.loc, "scale": self.scale,
                "covariates": {k: list(v) for k, v in self.covariates.items()}}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preparation:
        covs = {k: (float(v[0]), float(v[1])) for k, v in data["covariates"].items()}
        return cls(data["kind"], float(data["lam"]), float(data["loc"]), float(data["scale"]),
                   covs)  # fmt: skip


def _floor(scale: float, loc: float) -> float:
    return max(scale, 1e-3 * max(1.0, abs(loc)))


def fit_preparation(train: Series, transform: str, covariates: Sequence[str]) -> Preparation:
    """Fit the transform (``auto``: log when every value is positive), the series scaling and
    the covariates' standardisation on ``train``, the part before the first origin."""
    values = train.values
    positive = bool(np.all(values > 0))
    kind = transform
    if kind == "auto":
        kind = "log" if positive else "none"
    if kind in ("log", "boxcox") and not positive:
        raise DataError(
            f"series {train.uid!r}: --transform {kind} needs positive values, and the training "
            f"part has values ≤ 0 (the smallest {values.min():g}); pass --transform none."
        )
    lam = 0.0
    if kind == "boxcox":
        from scipy.stats import boxcox

        lam = float(boxcox(values)[1])
    prepared = Preparation(kind, lam, 0.0, 1.0, {})
    transformed = prepared.transform(values)
    prepared.loc = float(transformed.mean())
    prepared.scale = _floor(float(transformed.std()), prepared.loc)
    for name in covariates:
        column = train.covariates[name]
        mean = float(column.mean())
        prepared.covariates[name] = (mean, _floor(float(column.std()), mean))
    return prepared


# --------------------------------------------------------------------------- windows


@dataclass
class WindowBatch:
    """Windows ready for the model.

    Attributes:
        inputs: (B, L, F) per step [scaled value, covariates…, calendar…].
        future: (B, H, F_future) future covariates of the forecast steps (the calendar
            position of a step follows from the window's, so it is read there only).
        target: (B, H) scaled values to forecast (NaN-free; zeros when unknown).
        loc, scale: (B,) what reads the scaled forecast back: ŷ = loc + scale · ỹ.
    """

    inputs: Tensor
    future: Tensor
    target: Tensor
    loc: Tensor
    scale: Tensor

    @property
    def num_tokens(self) -> int:
        return int(self.target.numel())

    def to(self, device: torch.device) -> WindowBatch:
        return WindowBatch(*(t.to(device) for t in (self.inputs, self.future, self.target,
                                                   self.loc, self.scale)))  # fmt: skip


def _calendar(positions: np.ndarray, season: int) -> np.ndarray:
    """sin and cos of the position in the season, (T, 2); (T, 0) without a season."""
    if season <= 1:
        return np.zeros((len(positions), 0))
    angle = 2 * math.pi * (positions % season) / season
    return np.stack([np.sin(angle), np.cos(angle)], axis=1)


@dataclass(frozen=True)
class Layout:
    """Which features a window carries: the covariate names and the season for the
    calendar (0: no calendar)."""

    past: tuple[str, ...]
    future: tuple[str, ...]
    calendar_season: int

    @property
    def input_size(self) -> int:
        return 1 + len(self.past) + self.future_size

    @property
    def future_size(self) -> int:
        return len(self.future) + (2 if self.calendar_season > 1 else 0)


def step_features(
    series: Series, prepared: Preparation, layout: Layout, start: int, stop: int
) -> tuple[np.ndarray, np.ndarray]:
    """(past features (T, P), future features (T, F_future)) of steps [start, stop) of
    ``series``; steps past its end need future covariates the series does not hold, which
    is an error naming them (the calendar continues by itself)."""
    count = stop - start
    past = np.zeros((count, len(layout.past)))
    future = np.zeros((count, layout.future_size))
    known = max(0, min(stop, len(series)) - start)
    for j, name in enumerate(layout.past):
        mean, std = prepared.covariates[name]
        past[:known, j] = (series.covariates[name][start : start + known] - mean) / std
    for j, name in enumerate(layout.future):
        if known < count:
            raise DataError(
                f"series {series.uid!r}: the forecast needs future covariate {name!r} for "
                f"{count - known} step(s) after the data ends; pass them with --future FILE "
                "(rnnlab predict)."
            )
        mean, std = prepared.covariates[name]
        future[:, j] = (series.covariates[name][start:stop] - mean) / std
    if layout.calendar_season > 1:
        future[:, len(layout.future) :] = _calendar(np.arange(start, stop), layout.calendar_season)
    return past, future


def window_arrays(
    series: Series,
    prepared: Preparation,
    layout: Layout,
    scaling: str,
    origin: int,
    lookback: int,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """(inputs (L, F), future (H, F_future), target (H,), loc, scale) of the window of
    ``series`` whose forecast starts at ``origin``; the target holds the known values
    (zeros past the end)."""
    if origin < lookback:
        raise DataError(
            f"series {series.uid!r}: a forecast from step {origin} needs {lookback} steps "
            f"before it (the lookback); give a longer series or a shorter --lookback."
        )
    values = prepared.transform(series.values[origin - lookback : origin])
    if scaling == "window":
        loc = float(values.mean())
        scale = _floor(float(values.std()), loc)
    else:
        loc, scale = prepared.loc, prepared.scale
    past, future_in = step_features(series, prepared, layout, origin - lookback, origin)
    _, future_out = step_features(series, prepared, layout, origin, origin + horizon)
    future_out = future_out[:, : len(layout.future)]  # the calendar is read in the window
    inputs = np.concatenate([((values - loc) / scale)[:, None], past, future_in], axis=1)
    known = series.values[origin : origin + horizon]
    target = np.zeros(horizon)
    if len(known):
        target[: len(known)] = (prepared.transform(known) - loc) / scale
    return inputs, future_out, target, loc, scale


def window_batch(rows: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, float, float]]
                 ) -> WindowBatch:  # fmt: skip
    """Stack :func:`window_arrays` results into a batch (float32)."""

    def stack(i: int) -> Tensor:
        return torch.as_tensor(np.stack([row[i] for row in rows]), dtype=torch.float32)

    return WindowBatch(
        stack(0), stack(1), stack(2),
        torch.tensor([row[3] for row in rows], dtype=torch.float32),
        torch.tensor([row[4] for row in rows], dtype=torch.float32),
    )  # fmt: skip


class WindowSampler:
    """Training batches: ``steps`` batches per epoch of ``batch_size`` windows drawn with
    replacement from every window whose lookback and target lie in the training parts,
    seeded by (seed, epoch) so an epoch always draws the same batches."""

    def __init__(self, windows: WindowBatch, batch_size: int, steps: int, seed: int) -> None:
        if windows.target.shape[0] == 0:
            raise ConfigError("no training windows; give longer series or a shorter lookback.")
        self.windows = windows
        self.batch_size, self.steps, self.seed = batch_size, steps, seed

    def num_batches(self, epoch: int) -> int:
        return self.steps

    def batches(self, epoch: int) -> Iterator[WindowBatch]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        count = self.windows.target.shape[0]
        w = self.windows
        for _ in range(self.steps):
            pick = torch.randint(count, (self.batch_size,), generator=generator)
            yield WindowBatch(w.inputs[pick], w.future[pick], w.target[pick], w.loc[pick],
                              w.scale[pick])  # fmt: skip
