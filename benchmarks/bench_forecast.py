"""Forecast accuracy of the default recurrent forecaster on the six built-in series, beside
statsforecast's naive, seasonal naive, drift, AutoETS, AutoARIMA and Theta on the same
rolling-origin windows, and the training time of a default airline run.

    python benchmarks/bench_forecast.py                  # all series, 3 windows each
    python benchmarks/bench_forecast.py --series airline --windows 1

Each row: the series, horizon H and windows W (origins H apart, the last ending at the end of
the series), the model's MASE (mean over windows; in-sample seasonal scale), each baseline's
MASE, the model's rank among the seven, and the share of held-out points inside its 80 %
interval. The model is fitted once before the first origin; the baselines before each origin
(they are cheap to refit), so the comparison favours the baselines.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from rnnlab.data.builtin import package_file
from rnnlab.data.series import SeriesSet, load_series, read_frame
from rnnlab.tasks.forecast.backtest import run_backtest
from rnnlab.tasks.forecast.config import ForecastRunConfig

# (series, horizon, windows; 0 = --windows): airline as in the classic held-out last year and
# last three years (one window: 144 months hold one of 36 after a useful lookback); shampoo's
# 36 months hold one window of 6; the others at M4's horizon for their frequency.
CASES = [("airline", 12, 0), ("airline", 36, 1), ("lynx", 6, 0), ("shampoo", 6, 1),
         ("sunspots", 6, 0), ("nile", 6, 0), ("co2", 13, 0)]  # fmt: skip
NAMES = ("naive", "seasonal_naive", "drift", "ets", "arima", "theta")

# Series the defaults were not chosen on (read here from the same two packages' files): a
# check that a default which wins on the six built-in series is not tuned to them.
# (name, package, file, horizon): M4's horizon for the frequency.
HELD_OUT = [("seatbelts", 18), ("elec_equip", 18), ("pbs", 18), ("realgdp", 8), ("unemp", 8),
            ("consumption", 8), ("elnino", 18)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="", help="comma-separated names (default: all)")
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument(
        "--held-out", action="store_true",
        help="the seven further series (seatbelts, elec_equip, pbs, realgdp, unemp, "
        "consumption, elnino) instead of the built-in ones",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a config key over the defaults (model.hidden_size=64), repeatable",
    )  # fmt: skip
    args = parser.parse_args()
    overrides = {key: _value(raw) for key, raw in (item.split("=", 1) for item in args.set)}
    torch.set_num_threads(args.threads)
    chosen = set(args.series.split(",")) if args.series else None
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} threads")  # fmt: skip
    header = ["series", "H", "W", "rnnlab", *NAMES, "rank", "cov80", "seconds"]
    print(" | ".join(header))
    cases = [(n, h, 0) for n, h in HELD_OUT] if args.held_out else CASES
    for name, horizon, fixed in cases:
        if chosen and name not in chosen:
            continue
        windows = fixed or args.windows
        config = ForecastRunConfig().merge(
            {**overrides, "data.horizon": horizon, "data.windows": windows}
        )
        if args.held_out:
            found = held_out_series(name)
        else:
            found = load_series(name, fill="linear" if name == "co2" else "none")
        start = time.perf_counter()
        backtest = run_backtest(config, found)
        seconds = time.perf_counter() - start
        m = backtest.metrics
        scores = {"rnnlab": m["mase"], **{n: m.get(f"baseline_{n}_mase") for n in NAMES}}
        ranked = sorted((v, k) for k, v in scores.items() if v is not None)
        rank = [k for _, k in ranked].index("rnnlab") + 1
        cells = [name, str(horizon), str(windows), f"{m['mase']:.3f}"]
        cells += [f"{scores[n]:.3f}" if scores[n] is not None else "–" for n in NAMES]
        cells += [f"{rank}/{len(ranked)}", f"{m.get('coverage_80', float('nan')):.2f}",
                  f"{seconds:.1f}"]  # fmt: skip
        print(" | ".join(cells), flush=True)
        if backtest.failed_baselines:
            print(f"  not fitted: {backtest.failed_baselines}")


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
