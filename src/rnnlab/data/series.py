"""Time series tables → checked, regular series: long (``unique_id, ds, y``) or wide files, and
the built-in series shipped inside PyPI packages.

A file is read in one of two shapes:

- **long**, Nixtla's layout: one row per (series, time) with columns ``unique_id`` (optional
  when there is one series), ``ds`` and ``y`` — or whichever columns ``time_col``,
  ``target_col`` and ``id_col`` name;
- **wide**: a time column and a target column (``--time-col``, ``--target-col``), further
  columns usable as covariates.

Every series is checked before anything trains on it, and each problem is one sentence naming
the file's line and timestamp: an unparseable time or non-numeric target, timestamps out of
order or repeated, and gaps (timestamps missing from the regular grid) or missing values,
which are refused unless ``fill`` says how to fill them (``linear`` interpolation,
``ffill``, ``zero``). The frequency is inferred (:func:`pandas.infer_freq`) or given, and
gives the season length (12 for monthly data, 4 quarterly, 52 weekly, 7 daily, 24 hourly, 1
yearly).

Built-in series (``pip install "rnnlab[data]"``), read from the packages' own files:
``airline`` (monthly passengers 1949–1960, 144), ``lynx`` (yearly Canadian lynx trappings
1821–1934, 114), ``shampoo`` (monthly sales, 36) from sktime; ``sunspots`` (yearly,
1700–2008, 309), ``nile`` (yearly flow 1871–1970, 100), ``co2`` (weekly Mauna Loa CO2,
1958–2001, 2,284, with missing weeks) from statsmodels.

pandas reads the tables (it is the frame statsforecast's baselines take); the checks are
written here because no library reports them by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.builtin import SKTIME, package_file
from rnnlab.data.messages import did_you_mean, quote_list
from rnnlab.errors import ConfigError, DataError, MissingDependencyError, RnnlabFileNotFoundError

__all__ = [
    "FILLS",
    "SERIES",
    "Series",
    "SeriesSet",
    "future_from_frame",
    "is_series_name",
    "load_series",
    "read_future",
    "read_series",
    "season_length",
]

FILLS = ("none", "linear", "ffill", "zero")

# Season length by the frequency's pandas prefix (M4's seasonal periods).
_SEASONS = {
    "Y": 1, "A": 1, "YS": 1, "YE": 1, "AS": 1, "BY": 1, "BYS": 1,
    "Q": 4, "QS": 4, "QE": 4, "BQ": 4,
    "M": 12, "MS": 12, "ME": 12, "BM": 12, "BMS": 12, "BME": 12,
    "W": 52, "D": 7, "B": 5, "h": 24, "H": 24, "min": 60, "T": 60,
}  # fmt: skip


@dataclass
class Series:
    """One regular series: its id, timestamps (a pandas ``DatetimeIndex``), float values and
    covariate columns (name → float array, same length)."""

    uid: str
    times: Any
    values: np.ndarray
    covariates: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.values)

    def head(self, n: int) -> Series:
        """The first ``n`` points (everything known at origin ``n``)."""
        return Series(
            self.uid,
            self.times[:n],
            self.values[:n],
            {k: v[:n] for k, v in self.covariates.items()},
        )


@dataclass
class SeriesSet:
    """The series of one source, sharing a frequency.

    Attributes:
        series: one :class:`Series` per id, in the file's order.
        freq: the pandas frequency string (``"MS"``, ``"YS-JAN"``, ``"W-SAT"``).
        season_length: m, the steps in one season (1: no seasonality).
        origin: where they came from (a built-in name or a path), for messages.
        filled: how many missing values were filled (0 unless ``fill`` asked).
    """

    series: list[Series]
    freq: str
    season_length: int
    origin: str
    filled: int = 0


def season_length(freq: str) -> int:
    """The season length M4 uses for a pandas frequency: 12 for ``"MS"``, 4 for ``"QS-JAN"``,
    52 for ``"W-SUN"``, 7 for ``"D"``, 24 for ``"h"``, 1 for yearly and anything unknown."""
    import pandas as pd

    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise ConfigError(
            f"data.freq {freq!r} is not a pandas frequency; use one such as 'MS' (monthly), "
            "'W' (weekly), 'D' (daily), 'h' (hourly), 'QS' or 'YS'."
        ) from None
    code = offset.name.split("-")[0]
    prefix = code.lstrip("0123456789")
    return _SEASONS.get(prefix, 1) if offset.n == 1 else 1


# --------------------------------------------------------------------------- built-in series


@dataclass(frozen=True)
class _Builtin:
    package: str
    pip: str
    file: str
    time_col: str
    target_col: str
    time_format: str
    freq: str
    summary: str


SERIES: dict[str, _Builtin] = {
    "airline": _Builtin("sktime", SKTIME, "datasets/data/Airline/Airline.csv",
                        "Date", "Passengers", "%Y-%m", "MS",
                        "monthly airline passengers (thousands), 1949–1960, 144 months"),
    "lynx": _Builtin("sktime", SKTIME, "datasets/data/Lynx/Lynx.csv",
                     "", "0", "%Y", "YS-JAN",
                     "Canadian lynx trappings per year, 1821–1934, 114 years"),
    "shampoo": _Builtin("sktime", SKTIME, "datasets/data/ShampooSales/ShampooSales.csv",
                        "Time", "Sales", "%Y-%m", "MS",
                        "monthly shampoo sales over three years, 36 months"),
    "sunspots": _Builtin("statsmodels", "statsmodels", "datasets/sunspots/sunspots.csv",
                         "YEAR", "SUNACTIVITY", "%Y", "YS-JAN",
                         "yearly sunspot activity, 1700–2008, 309 years"),
    "nile": _Builtin("statsmodels", "statsmodels", "datasets/nile/nile.csv",
                     "year", "volume", "%Y", "YS-JAN",
                     "yearly flow of the Nile at Aswan, 1871–1970, 100 years"),
    "co2": _Builtin("statsmodels", "statsmodels", "datasets/co2/co2.csv",
                    "date", "co2", "%Y%m%d", "W-SAT",
                    "weekly CO2 at Mauna Loa (ppm), 1958–2001, 2,284 weeks, some missing"),
}  # fmt: skip


def is_series_name(name: str) -> bool:
    """Whether ``name`` is a built-in series (not a file)."""
    return name in SERIES


def load_series(name: str, fill: str = "none") -> SeriesSet:
    """The built-in series ``name`` (a key of :data:`SERIES`), checked as any file is."""
    spec = SERIES[name]
    path = package_file(spec.package, spec.file, spec.pip, name)
    frame = _read_frame(path)
    time_col = spec.time_col or frame.columns[0]
    found = read_frame(
        frame, source=name, time_col=time_col, target_col=spec.target_col,
        freq=spec.freq, time_format=spec.time_format, fill=fill,
    )  # fmt: skip
    for series in found.series:
        series.uid = name
    return found


# --------------------------------------------------------------------------- files


def _pandas() -> Any:
    try:
        import pandas as pd
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "Forecasting reads series with pandas, which is not installed; install it with: "
            'pip install "rnnlab[forecast]"'
        ) from None
    return pd


def _read_frame(path: Path) -> Any:
    pd = _pandas()
    if not path.exists():
        raise RnnlabFileNotFoundError(
            f"{path}: no such file; check the path (relative paths start at {Path.cwd()})"
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        sep = "\t" if suffix in (".tsv", ".tab") else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8.") from None
    except (ValueError, OSError) as exc:  # pandas' parser errors are ValueErrors
        reason = " ".join(str(exc).split())
        raise DataError(f"{path}: cannot be read as a table ({reason}).") from None


def read_series(
    path: str | Path,
    *,
    time_col: str = "",
    target_col: str = "",
    id_col: str = "",
    covariates: Sequence[str] = (),
    freq: str = "",
    fill: str = "none",
) -> SeriesSet:
    """Series from a CSV/TSV/parquet file, long or wide (see the module docstring). Empty
    column names take Nixtla's (``ds``, ``y``, ``unique_id`` when present)."""
    path = Path(path)
    frame = _read_frame(path)
    columns = [str(c) for c in frame.columns]
    time_col = time_col or ("ds" if "ds" in columns else "")
    target_col = target_col or ("y" if "y" in columns else "")
    id_col = id_col or ("unique_id" if "unique_id" in columns else "")
    if not time_col or not target_col:
        which = "--time-col" if not time_col else "--target-col"
        raise ConfigError(
            f"{path}: which column holds the {'time' if not time_col else 'target'}? Pass "
            f"{which} (the columns are {quote_list(columns)}), or name the columns ds and y."
        )
    return read_frame(
        frame, source=str(path), time_col=time_col, target_col=target_col, id_col=id_col,
        covariates=covariates, freq=freq, fill=fill,
    )  # fmt: skip


def _column(frame: Any, name: str, flag: str, source: str) -> Any:
    columns = [str(c) for c in frame.columns]
    if name not in columns:
        raise DataError(
            f"{source}: no column {name!r} ({flag}){did_you_mean(name, columns)} The columns "
            f"are {quote_list(columns)}."
        )
    return frame[name]


def _numbers(raw: Any, name: str, source: str, lines: np.ndarray) -> np.ndarray:
    """Column ``raw`` as floats; empty cells and NA spellings become NaN, anything else that
    is not a number is an error naming its line."""
    pd = _pandas()
    text = raw.astype(str).str.strip()
    blank = text.isin(["", "NA", "NaN", "nan", "null", "None", "NULL", "N/A"])
    values = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isnan(values) & ~blank.to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"{source} line {lines[i]}: {name} is {text.iloc[i]!r}, not a number; fix the "
            f"value or leave the cell empty to mark it missing."
        )
    return values


def read_frame(
    frame: Any,
    *,
    source: str,
    time_col: str,
    target_col: str,
    id_col: str = "",
    covariates: Sequence[str] = (),
    freq: str = "",
    time_format: str | None = None,
    fill: str = "none",
) -> SeriesSet:
    """Check and split a table of rows into regular series (see the module docstring)."""
    pd = _pandas()
    if fill not in FILLS:
        raise ConfigError(f"data.fill must be one of {', '.join(FILLS)}, got {fill!r}.")
    if len(frame) == 0:
        raise DataError(f"{source}: the table has no rows; give a series with values.")
    lines = np.arange(len(frame)) + 2  # line 1 is the header
    raw_times = _column(frame, time_col, "--time-col", source).astype(str).str.strip()
    times = pd.to_datetime(raw_times, format=time_format, errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"{source} line {lines[i]}: time {raw_times.iloc[i]!r} in column {time_col!r} is "
            "not a date or time pandas can read; write it as YYYY-MM-DD (or YYYY-MM, YYYY)."
        )
    values = _numbers(_column(frame, target_col, "--target-col", source), target_col,
                      source, lines)  # fmt: skip
    extra = {name: _numbers(_column(frame, name, "--covariates", source), name, source,
                            lines) for name in covariates}  # fmt: skip
    ids = (
        _column(frame, id_col, "--id-col", source).astype(str).to_numpy()
        if id_col
        else np.full(len(frame), "series")
    )
    order: list[str] = list(dict.fromkeys(ids.tolist()))
    found: list[Series] = []
    freqs: set[str] = set()
    filled = 0
    for uid in order:
        rows = np.flatnonzero(ids == uid)
        index = pd.DatetimeIndex(times.iloc[rows])
        where = f"{source}" + (f" (series {uid!r})" if id_col else "")
        _check_order(index, lines[rows], where)
        series_freq = freq or _infer_freq(index, lines[rows], where)
        grid = pd.date_range(index[0], index[-1], freq=series_freq)
        if len(grid) != len(index) or not grid.equals(index):
            missing = grid.difference(index)
            if len(missing) and fill == "none":
                raise DataError(
                    f"{where}: {len(missing)} timestamp(s) of the {series_freq} grid are "
                    f"missing, the first {missing[0].date()} (before line "
                    f"{lines[rows][index.searchsorted(missing[0])]}); add the rows or pass "
                    "--fill linear, ffill or zero."
                )
            off_grid = index.difference(grid)
            if len(off_grid):
                i = int(index.get_loc(off_grid[0]))
                raise DataError(
                    f"{where} line {lines[rows][i]}: time {off_grid[0]} is off the "
                    f"{series_freq} grid of the other rows; fix it or pass --freq."
                )
        y = pd.Series(values[rows], index=index).reindex(grid)
        covs = {k: pd.Series(v[rows], index=index).reindex(grid) for k, v in extra.items()}
        y, count = _fill(y, fill, target_col, where, index, lines[rows])
        filled += count
        covs = {k: _fill(v, fill, k, where, index, lines[rows])[0] for k, v in covs.items()}
        found.append(Series(uid, grid, y.to_numpy(dtype=float),
                            {k: v.to_numpy(dtype=float) for k, v in covs.items()}))  # fmt: skip
        freqs.add(series_freq)
    if len(freqs) > 1:
        raise DataError(
            f"{source}: the series have different frequencies ({', '.join(sorted(freqs))}); "
            "forecast them in separate runs or pass --freq."
        )
    (chosen,) = freqs
    return SeriesSet(found, chosen, season_length(chosen), source, filled)


def _check_order(index: Any, lines: np.ndarray, where: str) -> None:
    steps = np.diff(index.asi8)
    back = np.flatnonzero(steps < 0)
    if back.size:
        i = int(back[0]) + 1
        raise DataError(
            f"{where} line {lines[i]}: time {index[i]} comes before {index[i - 1]} on line "
            f"{lines[i - 1]}; sort the rows by time."
        )
    same = np.flatnonzero(steps == 0)
    if same.size:
        i = int(same[0]) + 1
        raise DataError(
            f"{where} lines {lines[i - 1]} and {lines[i]}: the time {index[i]} appears twice; "
            "keep one row per timestamp (or pass --id-col if they belong to different series)."
        )


def _infer_freq(index: Any, lines: np.ndarray, where: str) -> str:
    """pandas' inferred frequency; with gaps (where it gives none), the coarsest calendar
    frequency whose grid holds every timestamp, so the grid check can name the gaps."""
    pd = _pandas()
    if len(index) < 3:
        raise DataError(
            f"{where}: {len(index)} rows are too few to infer the frequency; pass --freq."
        )
    inferred = pd.infer_freq(index)
    if inferred is not None:
        return inferred
    weekday = index[0].day_name()[:3].upper()
    for candidate in ("YS-JAN", "YE-DEC", "QS-JAN", "QE-DEC", "MS", "ME", f"W-{weekday}",
                      "D", "h", "min"):  # fmt: skip
        if index.isin(pd.date_range(index[0], index[-1], freq=candidate)).all():
            return candidate
    raise DataError(
        f"{where}: the timestamps from line {lines[0]} on follow no regular frequency; pass "
        "--freq (such as MS, W, D or h)."
    )


def _fill(
    column: Any, fill: str, name: str, where: str, index: Any, lines: np.ndarray
) -> tuple[Any, int]:
    missing = np.flatnonzero(column.isna().to_numpy())
    if not missing.size:
        return column, 0
    if fill == "none":
        i = int(missing[0])
        stamp = column.index[i]
        line = lines[int(index.get_loc(stamp))] if stamp in index else None
        at = f"line {line}, " if line is not None else ""
        raise DataError(
            f"{where}: {len(missing)} missing value(s) in {name!r}, the first at {at}"
            f"{stamp.date()}; fill the cells or pass --fill linear, ffill or zero."
        )
    if fill == "linear":
        filled = column.interpolate(method="linear", limit_direction="both")
    elif fill == "ffill":
        filled = column.ffill().bfill()
    else:
        filled = column.fillna(0.0)
    return filled, len(missing)


def read_future(
    path: str | Path, names: Sequence[str], *, time_col: str = "", id_col: str = ""
) -> dict[str, tuple[Any, dict[str, np.ndarray]]]:
    """Future covariate values after the end of the data: series id → (timestamps, column →
    values), from a table with the time column, the ``names`` columns and, for several
    series, the id column (Nixtla's ``ds`` / ``unique_id`` when not named)."""
    path = Path(path)
    return future_from_frame(
        _read_frame(path), names, source=str(path), time_col=time_col, id_col=id_col
    )


def future_from_frame(
    frame: Any, names: Sequence[str], *, source: str, time_col: str = "", id_col: str = ""
) -> dict[str, tuple[Any, dict[str, np.ndarray]]]:
    """:func:`read_future` of a pandas table already in memory (``source`` names it in
    messages): the HTTP server's future covariates arrive as JSON, not as a file."""
    pd = _pandas()
    columns = [str(c) for c in frame.columns]
    time_col = time_col or "ds"
    id_col = id_col or ("unique_id" if "unique_id" in columns else "")
    lines = np.arange(len(frame)) + 2
    raw = _column(frame, time_col, "--time-col", source).astype(str).str.strip()
    times = pd.to_datetime(raw, errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{source} line {lines[i]}: time {raw.iloc[i]!r} is not a date.")
    values = {
        name: _numbers(_column(frame, name, "--future", source), name, source, lines)
        for name in names
    }
    for name, column in values.items():
        missing = np.flatnonzero(np.isnan(column))
        if missing.size:
            raise DataError(
                f"{source} line {lines[missing[0]]}: {name} is empty; future covariates need "
                "a value for every step."
            )
    ids = (_column(frame, id_col, "--id-col", source).astype(str).to_numpy() if id_col
           else np.full(len(frame), ""))  # fmt: skip
    found = {}
    for uid in dict.fromkeys(ids.tolist()):
        rows = np.flatnonzero(ids == uid)
        index = pd.DatetimeIndex(times.iloc[rows])
        _check_order(index, lines[rows], source)
        found[uid] = (index, {name: column[rows] for name, column in values.items()})
    return found


def with_season(found: SeriesSet, season: int) -> SeriesSet:
    """``found`` with its season length replaced (``--season-length``)."""
    return replace(found, season_length=season)
