r"""The default forecast: the recurrent model combined with AutoETS, AutoARIMA and Theta, weighted
by their errors on held-out windows of the training part, with conformal intervals from the
same windows.

Why: one recurrent model trained on a hundred points often loses to the classical methods,
and which classical method wins changes from series to series (the M4 lesson: combinations
are hard to beat, Makridakis et al. 2018). Everything below is fitted before the first test
origin t₀, on the training part only::

    training part ─────────────────────────────────────────┐ t₀
    … u_{V−1} … u_1 u_0 │ H │                              │  (validation origins u_j = t₀ − H − j)
    fitted before u_{V−1}: the recurrent model (same config) and the statistical models
    (statsforecast ``cross_validation``, fitted at the first origin, carried forward)

**How many windows** (:func:`validation_count`): by default the later half of the training
part, V = max(24, 2m, ⌊(t₀ − H)/2⌋) for season m, as far as the data allow. A calibration
set of a few dozen adjacent windows sees one calm stretch of the series and gives intervals
that are too narrow out of sample. On the 14 rows of ``benchmarks/bench_forecast.py --all``
(seven of them series the defaults were not chosen on), V = 24 gave mean 80 % / 95 %
coverage 0.76 / 0.90 with 80 % intervals covering 0.40 (El Niño), 0.43 (weekly CO₂, where
24 windows are half a season) and 0.47 (US unemployment, the 2008 break); the half rule
0.82 / 0.96, lowest 0.59 (El Niño) and 0.64 (CO₂). Widening to the members' own model
intervals (statsforecast ``level=``, weighted alike) was measured too and over-covered
(about 0.88 / 0.98), and studentising by the recent volatility instead of the in-sample
MASE scale covered less everywhere, so neither is used. Replaying the calibration offline
on the same 14 rows, none of 20 variants kept both means in 0.75–0.85 / 0.91–0.97 with no
row's 80 % coverage under 0.65: recency weights (Barber et al. 2023) covered less (the
latest validation windows were calmer than the test on CO₂, El Niño and unemployment); an
effective n of V/H or a score taken as the maximum over 2–3 steps lifted the lowest row to
0.69–0.72 but the mean 80 % to 0.87–0.92; averaging with the statistical members' own
widths came closest (0.84 / 0.96, lowest 0.648). The floor is mostly noise: a row's test is
3–5 windows whose errors move together, and replaying test-shaped blocks inside the
validation windows, calibrated on those same windows, still puts about one row in 14 under
0.65.

**Weights** (Bates & Granger's inverse-error-variance combination, with the squared MASE as
the error variance): with v_c the mean MASE of member c over the V validation windows,
w_c = v_c⁻² / Σ_k v_k⁻², and the point forecast is ŷ_h = Σ_c w_c ŷ_{c,h}. The square (rather
than 1/v_c) lets a member that is clearly better on validation lead. With the half rule,
the geometric mean of MASE / median(AutoETS, AutoARIMA, Theta) over the 14 rows went from
0.82 to 0.78 (about 0.03 of it the square, in a replay of the validation forecasts), 0.92
on the seven held-out series before and after. A member
that cannot be fitted (or cannot be validated: a recurrent model needs
:data:`MIN_RNN_WINDOWS` training windows before the first validation origin) is left out
and the others renormalised.

**Intervals** (split conformal, Vovk et al. 2005; Stankeviciute et al. 2021 for multi-step
forecasts): the validation errors of the combined forecast, scaled by each window's MASE scale
σ_j (:func:`~rnnlab.evaluate.forecast_metrics.mase_scale` of the history before u_j) and by a
horizon profile g_h (the mean scaled error at step h, made non-decreasing in h), are pooled:
r_{j,h} = |y − ŷ| / (σ_j g_h). For a two-sided coverage c, q_c is the ⌈(n+1)c⌉-th smallest
of the n = V·H scores (the finite-sample correction), and the interval is
ŷ_h ± q_c · σ · g_h with σ the MASE scale of the history before the forecast origin. The
quantile level τ of a forecast is read as the end of the central interval of coverage |2τ − 1|.
Pooling the steps (rather than one quantile per step) keeps n large enough for a 95 %
interval on series that hold only a few validation windows.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnlab.data.series import Series
from rnnlab.errors import DataError
from rnnlab.evaluate import forecast_metrics as fm
from rnnlab.evaluate.forecast_baselines import BASELINES, statsforecast_models

if TYPE_CHECKING:
    from rnnlab.tasks.forecast.fitting import MemberCheckpoints

__all__ = [
    "MEMBERS",
    "MIN_RNN_WINDOWS",
    "STATISTICAL",
    "Combiner",
    "SeriesCombination",
    "combined_quantiles",
    "conformal_quantile",
    "inverse_mase_weights",
    "statistical_validation",
    "validation_count",
    "validation_plan",
]

STATISTICAL = ("ets", "arima", "theta")
MEMBERS = ("rnn", *STATISTICAL)
# The recurrent model is validated only when the data before the first validation origin
# hold at least this many training windows; fewer make its validation error meaningless.
MIN_RNN_WINDOWS = 8
# Validation windows the recurrent model needs to be combined (else: the statistical models).
MIN_RNN_VALIDATION = 3
# The fewest validation windows asked for by default (data.validation_windows = 0), as far as
# the data allow; two seasons if that is more, half the training part if that is more still.
MIN_VALIDATION = 24


def conformal_quantile(scores: np.ndarray, coverage: float) -> float:
    """The split-conformal quantile: the ⌈(n+1)·coverage⌉-th smallest of the n ``scores``.

    With exchangeable scores, a new score falls at or below it with probability ≥ coverage
    (Vovk et al. 2005). When ⌈(n+1)·coverage⌉ > n the guarantee needs an infinite interval;
    the largest score is returned instead (too few windows for that level).
    """
    values = np.sort(np.asarray(scores, float).ravel())
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise DataError("no finite validation errors to calibrate the intervals on.")
    rank = math.ceil((values.size + 1) * coverage - 1e-9)
    return float(values[min(max(rank, 1), values.size) - 1])


def inverse_mase_weights(errors: Mapping[str, float], power: float = 2.0) -> dict[str, float]:
    """w_c = v_c^(−p) / Σ_k v_k^(−p) over the members with a finite validation MASE v_c
    (p = ``power``: 2, inverse error variance, by default; 1 the plain inverse MASE); a
    member with v_c = 0 takes all the weight (shared with any other at 0)."""
    finite = {name: float(v) for name, v in errors.items() if np.isfinite(v) and v >= 0}
    if not finite:
        raise DataError("no member of the combination could be validated on the training part.")
    perfect = [name for name, v in finite.items() if v == 0]
    if perfect:
        return {name: (1.0 / len(perfect) if name in perfect else 0.0) for name in finite}
    inverse = {name: v**-power for name, v in finite.items()}
    total = sum(inverse.values())
    return {name: value / total for name, value in inverse.items()}


@dataclass
class SeriesCombination:
    """What was fitted for one series (or pooled over the run's series): the members'
    weights and validation MASE, the horizon profile g_h and the conformal quantiles q_c by
    coverage (keys ``"0.8"``, ``"0.95"``…), and how many validation windows they came from."""

    weights: dict[str, float]
    errors: dict[str, float]
    profile: list[float]
    quantiles: dict[str, float]
    windows: int

    def to_dict(self) -> dict[str, Any]:
        return {"weights": self.weights, "errors": self.errors, "profile": self.profile,
                "quantiles": self.quantiles, "windows": self.windows}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeriesCombination:
        return cls(
            {k: float(v) for k, v in data["weights"].items()},
            {k: float(v) for k, v in data["errors"].items()},
            [float(v) for v in data["profile"]],
            {k: float(v) for k, v in data["quantiles"].items()},
            int(data["windows"]),
        )


@dataclass
class Combiner:
    """The fitted combination: one :class:`SeriesCombination` per training series and one
    pooled over them, for series the run has not seen."""

    series: dict[str, SeriesCombination]
    pooled: SeriesCombination
    members: tuple[str, ...] = MEMBERS
    notes: list[str] = field(default_factory=list)

    def for_series(self, uid: str) -> SeriesCombination:
        return self.series.get(uid, self.pooled)

    def to_dict(self) -> dict[str, Any]:
        return {"series": {uid: c.to_dict() for uid, c in self.series.items()},
                "pooled": self.pooled.to_dict(), "members": list(self.members),
                "notes": self.notes}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Combiner:
        return cls(
            {uid: SeriesCombination.from_dict(c) for uid, c in data["series"].items()},
            SeriesCombination.from_dict(data["pooled"]),
            tuple(data["members"]),
            list(data.get("notes", [])),
        )


def _coverage_key(coverage: float) -> str:
    return f"{round(coverage, 6):g}"


def coverages_for(levels: Sequence[float]) -> list[float]:
    """The two-sided coverages |2τ − 1| the quantile levels τ ≠ 0.5 stand for."""
    return sorted({round(abs(2 * q - 1), 6) for q in levels if q != 0.5})


def combined_quantiles(
    combination: SeriesCombination,
    points: Mapping[str, np.ndarray],
    scale: float,
    levels: Sequence[float],
) -> np.ndarray:
    """(H, Q) quantile forecasts: ŷ_h = Σ_c w_c ŷ_{c,h} over the members in ``points``
    (weights renormalised over them) and, for level τ, ŷ_h ± q_{|2τ−1|} · ``scale`` · g_h."""
    used = {name: w for name, w in combination.weights.items() if name in points and w > 0}
    if not used:
        raise DataError(
            "none of the combined models (" + ", ".join(combination.weights) + ") gave a "
            "forecast for this series; use --combine none for the recurrent model alone."
        )
    total = sum(used.values())
    point = sum(w / total * np.asarray(points[name], float) for name, w in used.items())
    steps = len(point)
    if steps > len(combination.profile):
        raise DataError(
            f"the combination was calibrated for {len(combination.profile)} steps ahead, not "
            f"{steps}; train with --horizon {steps} (or use --combine none)."
        )
    width = max(scale, 0.0) * np.asarray(combination.profile[:steps])
    columns = []
    for tau in levels:
        if tau == 0.5:
            columns.append(point)
            continue
        q = combination.quantiles[_coverage_key(abs(2 * tau - 1))]
        columns.append(point + np.sign(tau - 0.5) * q * width)
    return np.sort(np.stack(columns, axis=1), axis=1)


# --------------------------------------------------------------------------- validation


def validation_count(end: int, horizon: int, season: int, wanted: int = 0) -> int:
    """The validation windows asked for a training part ending at ``end``: ``wanted`` when
    it is positive, else max(:data:`MIN_VALIDATION`, 2·season, ⌊(end − horizon)/2⌋) — the
    later half of the training part, at least two seasons (:func:`validation_plan` then caps
    it by what the data allow)."""
    if wanted > 0:
        return wanted
    return max(MIN_VALIDATION, 2 * max(season, 1), (end - horizon) // 2)


def validation_plan(
    end: int, horizon: int, lookback: int, out_steps: int, season: int, windows: int
) -> tuple[int, int]:
    """(windows the recurrent model can be validated on, windows the statistical models can)
    for a series whose training part ends at ``end``: origins u_j = end − H − j, the
    earliest leaving :data:`MIN_RNN_WINDOWS` windows of ``lookback + out_steps`` to the
    recurrent model, and a season and two steps (at least 8 points) to the others."""
    latest = end - horizon
    rnn_first = lookback + out_steps - 1 + MIN_RNN_WINDOWS
    stat_first = max(season + 2, 8)
    return (max(0, min(windows, latest - rnn_first + 1)),
            max(0, min(windows, latest - stat_first + 1)))  # fmt: skip


def statistical_validation(
    series: Series, end: int, horizon: int, windows: int, freq: str, season: int
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Forecasts (V, H) of AutoETS, AutoARIMA and Theta from the V origins end − H − j,
    j = V−1 … 0 (earliest first), each model fitted once at the earliest origin on the
    values before it and carried forward over the later ones (statsforecast's
    ``cross_validation`` with ``refit=False``); reads only ``series.values[:end]``. Models
    that fail are named with the reason."""
    import pandas as pd
    from statsforecast import StatsForecast

    frame = pd.DataFrame({"unique_id": "s", "ds": series.times[:end],
                          "y": np.asarray(series.values[:end], float)})  # fmt: skip
    found: dict[str, np.ndarray] = {}
    failed: dict[str, str] = {}
    for name, model in zip(
        STATISTICAL, statsforecast_models(season, list(STATISTICAL)), strict=True
    ):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = StatsForecast(models=[model], freq=freq, n_jobs=1).cross_validation(
                    df=frame, h=horizon, n_windows=windows, step_size=1, refit=False
                )
        except Exception as exc:  # statsforecast raises plain exceptions on short series
            failed[name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            continue
        table = table.sort_values(["cutoff", "ds"])
        values = table[BASELINES[name]].to_numpy(dtype=float).reshape(windows, horizon)
        if not np.all(np.isfinite(values)):
            failed[name] = "non-finite validation forecast"
            continue
        found[name] = values
    return found, failed


def fit_series_combination(
    actual: np.ndarray,
    forecasts: Mapping[str, np.ndarray],
    scales: np.ndarray,
    histories: Sequence[np.ndarray],
    season: int,
    coverages: Sequence[float],
) -> tuple[SeriesCombination, np.ndarray]:
    """Weights, profile and conformal quantiles from V validation windows of one series:
    ``actual`` (V, H), each member's ``forecasts`` (V, H), the windows' MASE ``scales`` (V,)
    and ``histories`` (the values before each origin, for MASE). Returns the combination and
    the scaled absolute errors (V, H) of its forecast (for pooling)."""
    errors = {
        name: float(np.mean([fm.mase(actual[j], values[j], histories[j], season)
                             for j in range(len(actual))]))
        for name, values in forecasts.items()
    }  # fmt: skip
    weights = inverse_mase_weights(errors)
    point = sum(w * forecasts[name] for name, w in weights.items())
    scaled = np.abs(actual - point) / np.maximum(scales, 1e-12)[:, None]
    combination = _calibrated(weights, errors, scaled, coverages)
    return combination, scaled


def _calibrated(
    weights: dict[str, float],
    errors: dict[str, float],
    scaled: np.ndarray,
    coverages: Sequence[float],
) -> SeriesCombination:
    """g_h = running max over h of the mean scaled error at step h; q_c over r = scaled/g."""
    profile = np.maximum.accumulate(np.mean(scaled, axis=0))
    floor = max(float(profile.max()) * 1e-6, 1e-12)
    profile = np.maximum(profile, floor)
    ratios = scaled / profile[None, :]
    quantiles = {_coverage_key(c): conformal_quantile(ratios, c) for c in coverages}
    return SeriesCombination(weights, errors, [float(v) for v in profile], quantiles,
                             int(scaled.shape[0]))  # fmt: skip


def pooled_combination(
    parts: Sequence[tuple[SeriesCombination, np.ndarray]], coverages: Sequence[float]
) -> SeriesCombination:
    """For series the run has not seen: weights from the members' validation MASE averaged
    over the series, profile and quantiles from every series' scaled errors together."""
    names = sorted({name for c, _ in parts for name in c.errors}, key=list(MEMBERS).index)
    errors = {name: float(np.mean([c.errors[name] for c, _ in parts if name in c.errors]))
              for name in names}  # fmt: skip
    horizon = min(s.shape[1] for _, s in parts)
    scaled = np.concatenate([s[:, :horizon] for _, s in parts])
    return _calibrated(inverse_mase_weights(errors), errors, scaled, coverages)


def fit_combiner(
    series: Sequence[Series],
    ends: Mapping[str, int],
    config: Any,
    *,
    freq: str,
    season: int,
    lookback: int,
    horizon: int,
    checkpoints: MemberCheckpoints | None = None,
) -> Combiner:
    """Fit the combination on the training parts (the values before each series' ``ends``)
    only: validate the recurrent model (a fit with the run's config before the earliest
    validation origin) and the statistical models on the same V windows, then weigh and
    calibrate (module docstring). The recurrent model is left out, with a note, when a
    training part is too short to validate it on :data:`MIN_RNN_VALIDATION` windows. With
    ``checkpoints`` (:class:`~rnnlab.tasks.forecast.fitting.MemberCheckpoints`) its members
    checkpoint as ``validation-member-<k>``."""
    from rnnlab.tasks.forecast.fitting import fit_forecaster

    out_steps = 1 if config.model.decoder == "recursive" else horizon
    plans = {}
    for item in series:
        end = ends[item.uid]
        wanted = validation_count(end, horizon, season, config.data.validation_windows)
        plans[item.uid] = validation_plan(end, horizon, lookback, out_steps, season, wanted)
    rnn_windows = min(p[0] for p in plans.values())
    notes: list[str] = []
    with_rnn = rnn_windows >= MIN_RNN_VALIDATION
    if with_rnn:
        counts = {uid: rnn_windows for uid in plans}
    else:
        counts = {uid: p[1] for uid, p in plans.items()}
        notes.append(
            f"the recurrent model is not combined: the training part holds {rnn_windows} "
            f"validation window(s) for it, fewer than {MIN_RNN_VALIDATION}"
        )
    if max(counts.values()) < 1:
        raise DataError(
            f"the training part is too short to validate the combination on (it needs at "
            f"least {max(season + 2, 8) + horizon} steps before the first forecast origin); "
            "use --combine none for the recurrent model alone, or fewer --windows."
        )
    rnn_fit = None
    if with_rnn:
        first = {uid: ends[uid] - horizon - counts[uid] + 1 for uid in ends}
        rnn_fit = fit_forecaster(series, first, config, season=season, lookback=lookback,
                                 horizon=horizon, checkpoints=checkpoints,
                                 fit_name="validation")  # fmt: skip
    coverages = coverages_for(config.model.levels)
    parts: dict[str, tuple[SeriesCombination, np.ndarray]] = {}
    for item in series:
        count, end = counts[item.uid], ends[item.uid]
        if count < 1:
            notes.append(f"series {item.uid!r} is too short to validate; it takes the pooled "
                         "weights and intervals")  # fmt: skip
            continue
        origins = [end - horizon - j for j in range(count - 1, -1, -1)]
        forecasts, failed = statistical_validation(item, end, horizon, count, freq, season)
        notes.extend(f"{name} not validated on {item.uid!r}: {why}" for name, why in failed.items())
        if rnn_fit is not None:
            median = rnn_fit.levels.index(0.5)
            forecasts = {"rnn": np.stack([rnn_fit.forecast(item, u)[:, median] for u in origins]),
                         **forecasts}  # fmt: skip
        actual = np.stack([item.values[u : u + horizon] for u in origins])
        histories = [item.values[:u] for u in origins]
        scales = np.array([fm.mase_scale(h, season) for h in histories])
        parts[item.uid] = fit_series_combination(actual, forecasts, scales, histories, season,
                                                 coverages)  # fmt: skip
    if not parts:
        raise DataError("no series could be validated for the combination; use --combine none.")
    pooled = pooled_combination(list(parts.values()), coverages)
    members = MEMBERS if with_rnn else STATISTICAL
    return Combiner({uid: c for uid, (c, _) in parts.items()}, pooled, members, notes)
