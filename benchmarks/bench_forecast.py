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

import torch

from rnnlab.data.series import load_series
from rnnlab.tasks.forecast.backtest import run_backtest
from rnnlab.tasks.forecast.config import ForecastRunConfig

# (series, horizon): airline as in the classic held-out last year and last three years; the
# others at M4's horizon for their frequency (yearly 6, weekly 13).
CASES = [("airline", 12), ("airline", 36), ("lynx", 6), ("shampoo", 6), ("sunspots", 6),
         ("nile", 6), ("co2", 13)]  # fmt: skip
NAMES = ("naive", "seasonal_naive", "drift", "ets", "arima", "theta")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="", help="comma-separated names (default: all)")
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    chosen = set(args.series.split(",")) if args.series else None
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} threads")  # fmt: skip
    header = ["series", "H", "W", "rnnlab", *NAMES, "rank", "cov80", "seconds"]
    print(" | ".join(header))
    for name, horizon in CASES:
        if chosen and name not in chosen:
            continue
        windows = 1 if name == "shampoo" else args.windows  # 36 months hold one window of 6+12
        config = ForecastRunConfig().merge({"data.horizon": horizon, "data.windows": windows})
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


if __name__ == "__main__":
    main()
