"""Forecast accuracy of the default forecast (the recurrent model combined with AutoETS,
AutoARIMA and Theta) and of the recurrent model alone, beside statsforecast's naive, seasonal
naive, drift, AutoETS, AutoARIMA, Theta and the median of the last three (M4's combination
benchmark) on the same rolling-origin windows, with the coverage of the 80 % and 95 %
intervals.

    python benchmarks/bench_forecast.py                  # the six built-in series
    python benchmarks/bench_forecast.py --held-out       # seven the defaults were not chosen on
    python benchmarks/bench_forecast.py --all --seeds 3  # both, mean ± sd over seeds 0, 1, 2
    python benchmarks/bench_forecast.py --series airline --set model.combine=none

Each row: the series, horizon H, windows W and the held-out points they hold (W ≥ --windows
and ≥ --points / H, origins H apart — shampoo's 36 months hold five windows one step apart —
the last ending at the end of the series); MASE (mean over windows, in-sample seasonal scale)
of the default forecast, of the recurrent model alone and of each baseline; ratio = the
default's MASE / the median-of-three's; the default's 80 % and 95 % interval coverage (and
the recurrent model's own 80 %). The recurrent model and the combination's weights and
calibration are fitted once before the first origin (the weights and calibration on
validation windows of that training part only); the baselines before each origin (they are
cheap to refit), so the comparison favours the baselines. With --seeds N the recurrent model
(and so the default) is trained with seeds 0 … N−1 and its cells are mean ± sd; the summary
gives the geometric mean of the ratio over the rows and the mean coverage over the rows.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from rnnlab.data.builtin import package_file
from rnnlab.data.series import SeriesSet, load_series, read_frame
from rnnlab.tasks.forecast.backtest import run_backtest
from rnnlab.tasks.forecast.config import ForecastRunConfig

# (series, horizon, windows, step; 0 = from --windows and --points, the horizon): airline as
# in the classic held-out last year and last three years (one window: 144 months hold one of
# 36 after a useful lookback); shampoo's 36 months hold five windows of 6 only one step
# apart; the others at M4's horizon for their frequency.
CASES = [("airline", 12, 0, 0), ("airline", 36, 1, 0), ("lynx", 6, 0, 0), ("shampoo", 6, 5, 1),
         ("sunspots", 6, 0, 0), ("nile", 6, 0, 0), ("co2", 13, 0, 0)]  # fmt: skip
NAMES = ("naive", "seasonal_naive", "drift", "ets", "arima", "theta", "median3")

# Series the defaults were not chosen on (read here from the same two packages' files): a
# check that a default which wins on the six built-in series is not tuned to them.
# (name, horizon): M4's horizon for the frequency.
HELD_OUT = [("seatbelts", 18), ("elec_equip", 18), ("pbs", 18), ("realgdp", 8), ("unemp", 8),
            ("consumption", 8), ("elnino", 18)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="", help="comma-separated names (default: all)")
    parser.add_argument("--windows", type=int, default=3, help="at least this many windows")
    parser.add_argument("--points", type=int, default=30,
                        help="at least this many held-out points per series")  # fmt: skip
    parser.add_argument(
        "--held-out", action="store_true",
        help="the seven further series (seatbelts, elec_equip, pbs, realgdp, unemp, "
        "consumption, elnino) instead of the built-in ones",
    )  # fmt: skip
    parser.add_argument("--all", action="store_true", help="the built-in and held-out series")
    parser.add_argument("--seeds", type=int, default=1, help="train seeds 0 … N−1 (mean ± sd)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per run")
    parser.add_argument("--jobs", type=int, default=1, help="runs (series × seed) at once")
    parser.add_argument("--json", default="", help="also write every row's numbers here")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a config key over the defaults (model.hidden_size=64), repeatable",
    )  # fmt: skip
    args = parser.parse_args()
    overrides = {key: _value(raw) for key, raw in (item.split("=", 1) for item in args.set)}
    torch.set_num_threads(args.threads)
    chosen = set(args.series.split(",")) if args.series else None
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} threads, seeds {list(range(args.seeds))}")  # fmt: skip
    header = ["series", "H", "W", "points", "default", "rnn", *NAMES, "ratio", "cov80",
              "cov95", "rnn cov80", "seconds"]  # fmt: skip
    print(" | ".join(header))
    cases = []
    if args.all or not args.held_out:
        cases += [(n, h, w, s, False) for n, h, w, s in CASES]
    if args.all or args.held_out:
        cases += [(n, h, 0, 0, True) for n, h in HELD_OUT]
    cases = [case for case in cases if not chosen or case[0] in chosen]
    tasks = [(case, seed, overrides, args.windows, args.points, args.threads)
             for case in cases for seed in range(args.seeds)]  # fmt: skip
    with ProcessPoolExecutor(args.jobs) if args.jobs > 1 else nullcontext() as pool:
        done = pool.map(_run, tasks) if pool else map(_run, tasks)  # in order, as they finish
        rows = []
        for name, horizon, *_ in cases:
            found = [next(done) for _ in range(args.seeds)]
            windows = found[0][0]
            for failed in {repr(f[3]) for f in found if f[3]}:
                print(f"  {name}: not fitted: {failed}")
            row = _row(name, horizon, windows, windows * horizon, [f[1] for f in found],
                       [f[2] for f in found])  # fmt: skip
            rows.append(row)
            print(" | ".join(_cells(row)), flush=True)
    _summary(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")


def _run(task: tuple) -> tuple[int, dict, float, dict]:
    """One backtest: (windows, metrics, seconds, failed baselines) of a case and seed."""
    (name, horizon, fixed, step, held_out), seed, overrides, least, points, threads = task
    torch.set_num_threads(threads)
    windows = fixed or max(least, math.ceil(points / horizon))
    found = held_out_series(name) if held_out else load_series(
        name, fill="linear" if name == "co2" else "none")  # fmt: skip
    config = ForecastRunConfig().merge(
        {**overrides, "data.horizon": horizon, "data.windows": windows, "data.step": step,
         "train.seed": seed}
    )  # fmt: skip
    start = time.perf_counter()
    backtest = run_backtest(config, found)
    return windows, backtest.metrics, time.perf_counter() - start, backtest.failed_baselines


def _row(name: str, horizon: int, windows: int, points: int, runs: list[dict],
         seconds: list[float]) -> dict:  # fmt: skip
    """One case over its seeds: every number per seed, as the table and summary read them."""

    def each(key: str) -> list[float]:
        return [float(m.get(key, float("nan"))) for m in runs]

    return {
        "series": name, "H": horizon, "W": windows, "points": points,
        "default": each("mase"), "rnn": each("rnn_mase"),
        **{n: each(f"baseline_{n}_mase") for n in NAMES},
        "ratio": each("relative_mase_median3"), "cov80": each("coverage_80"),
        "cov95": each("coverage_95"), "rnn_cov80": each("rnn_coverage_80"),
        "rnn_cov95": each("rnn_coverage_95"), "seconds": seconds,
        "weights": [m.get("combination", {}).get("weights") for m in runs],
    }  # fmt: skip


def _mean_sd(values: list[float], digits: int = 3) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f}"


def _cells(row: dict) -> list[str]:
    cells = [row["series"], str(row["H"]), str(row["W"]), str(row["points"]),
             _mean_sd(row["default"]), _mean_sd(row["rnn"])]  # fmt: skip
    cells += [_mean_sd(row[n][:1]) for n in NAMES]  # the same for every seed
    cells += [_mean_sd(row["ratio"]), _mean_sd(row["cov80"], 2), _mean_sd(row["cov95"], 2),
              _mean_sd(row["rnn_cov80"], 2), f"{np.mean(row['seconds']):.1f}"]  # fmt: skip
    return cells


def _summary(rows: list[dict]) -> None:
    """Per seed: rows where the default beats seasonal naive, the geometric mean and maximum
    of the ratio to the median of three, the mean and minimum coverage; then mean ± sd."""
    if not rows:
        return
    seeds = len(rows[0]["default"])
    lines: dict[str, list[float]] = {}
    for s in range(seeds):
        ratio = np.array([r["ratio"][s] for r in rows])
        rnn = np.array([r["rnn"][s] / r["median3"][s] for r in rows])
        found = {
            "default beats seasonal naive (rows)": sum(
                r["default"][s] < r["seasonal_naive"][s] for r in rows),
            "rnn beats seasonal naive (rows)": sum(
                r["rnn"][s] < r["seasonal_naive"][s] for r in rows),
            "geometric mean of ratio (default / median3)": float(np.exp(np.mean(np.log(ratio)))),
            "largest ratio (default / median3)": float(ratio.max()),
            "geometric mean of rnn / median3": float(np.exp(np.mean(np.log(rnn)))),
            "mean cov80": float(np.mean([r["cov80"][s] for r in rows])),
            "lowest cov80": float(np.min([r["cov80"][s] for r in rows])),
            "mean cov95": float(np.mean([r["cov95"][s] for r in rows])),
            "lowest cov95": float(np.min([r["cov95"][s] for r in rows])),
            "rnn mean cov80": float(np.mean([r["rnn_cov80"][s] for r in rows])),
            "rnn mean cov95": float(np.mean([r["rnn_cov95"][s] for r in rows])),
        }  # fmt: skip
        for key, value in found.items():
            lines.setdefault(key, []).append(float(value))
    print(f"summary over {len(rows)} rows:")
    for key, values in lines.items():
        print(f"  {key}: {_mean_sd(values)}" + (f"  (per seed {[round(v, 3) for v in values]})"
                                                 if seeds > 1 else ""))  # fmt: skip


def held_out_series(name: str) -> SeriesSet:
    """One of :data:`HELD_OUT`, read from the file sktime or statsmodels ships."""
    import pandas as pd

    def shipped(package: str, file: str) -> Path:
        pip = "sktime==1.2.0" if package == "sktime" else package
        return package_file(package, file, pip, name)

    if name == "seatbelts":  # UK drivers killed or seriously injured, monthly 1969–1984
        raw = pd.read_csv(shipped("sktime", "datasets/data/seatbelts/seatbelts.csv"))
        frame = pd.DataFrame({"ds": raw.iloc[:, 0], "y": raw["KSI"]})
        freq = "MS"
    elif name == "elec_equip":  # euro-area electrical equipment orders, monthly 1995–2016
        raw = pd.read_csv(shipped("statsmodels", "datasets/elec_equip/elec_equip.csv"))
        frame = pd.DataFrame({"ds": pd.to_datetime(raw["DATE"], format="%b-%d-%Y"),
                              "y": raw.iloc[:, 1]})  # fmt: skip
        freq = "MS"
    elif name == "pbs":  # Australian prescriptions of one drug group, monthly 1991–2008
        raw = pd.read_csv(shipped("sktime", "datasets/data/PBS_dataset/PBS_dataset.csv"))
        frame = pd.DataFrame({"ds": pd.to_datetime(raw["Month"], format="%Y %b"),
                              "y": raw["Scripts"]})  # fmt: skip
        freq = "MS"
    elif name in ("realgdp", "unemp"):  # US quarterly, 1959–2009
        raw = pd.read_csv(shipped("statsmodels", "datasets/macrodata/macrodata.csv"))
        stamps = pd.PeriodIndex.from_fields(year=raw["year"], quarter=raw["quarter"], freq="Q")
        frame = pd.DataFrame({"ds": stamps.to_timestamp(), "y": raw[name]})
        freq = "QS-OCT"
    elif name == "consumption":  # US consumption growth (%), quarterly 1970–2016
        raw = pd.read_csv(shipped("sktime", "datasets/data/Uschange/Uschange.csv"))
        stamps = pd.PeriodIndex(raw["Quarter"].str.replace(" ", ""), freq="Q")
        frame = pd.DataFrame({"ds": stamps.to_timestamp(), "y": raw["Consumption"]})
        freq = "QS-OCT"
    elif name == "elnino":  # Pacific sea-surface temperature, monthly 1950–2010
        raw = pd.read_csv(shipped("statsmodels", "datasets/elnino/elnino.csv"))
        long = raw.melt(id_vars="YEAR", var_name="month", value_name="y")
        long["ds"] = pd.to_datetime(long["YEAR"].astype(str) + "-" + long["month"],
                                    format="%Y-%b")  # fmt: skip
        frame = long.sort_values("ds")[["ds", "y"]]
        freq = "MS"
    else:
        raise SystemExit(f"unknown held-out series {name!r}")
    frame = frame.astype(str)
    found = read_frame(frame, source=name, time_col="ds", target_col="y", freq=freq)
    for series in found.series:
        series.uid = name
    return found


def _value(raw: str) -> object:
    """``64`` → 64, ``0.1`` → 0.1, ``true`` → True, anything else as text."""
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(raw.lower(), raw)


if __name__ == "__main__":
    main()
