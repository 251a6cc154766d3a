"""The report page of a forecasting run: the model's accuracy beside every baseline, and each
window's forecast against the actual values with its intervals.

Built from the run's own files (``metrics.json``, ``analysis/forecasts.csv``,
``history.jsonl``, ``config.toml``), so it can be rendered again at any time; one
self-contained HTML file as the other reports (:mod:`rnnlab.explain.page`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnlab.evaluate.forecast_baselines import BASELINE_TITLES
from rnnlab.explain.page import (
    REPORT_FILE,
    image,
    loss_curve,
    number,
    page,
    read_csv_rows,
    run_files,
    table,
)
from rnnlab.explain.plots import new_figure
from rnnlab.fileio import atomic_write_text

__all__ = ["forecast_figure", "render_forecast_report", "write_forecast_report"]

_MAX_PLOTS = 12


def forecast_figure(rows: Sequence[dict[str, str]]) -> Any:
    """One window: the actual values, the forecast (median) with its widest interval band,
    and the seasonal-naive and AutoETS forecasts for comparison."""
    figure, (ax,) = new_figure(8.0, 3.0)
    steps = range(len(rows))
    actual = [float(r["actual"]) for r in rows]
    forecast = [float(r["forecast"]) for r in rows]
    bands = sorted(k.removeprefix("lo-") for k in rows[0] if k.startswith("lo-"))
    if bands:
        widest = max(bands, key=float)
        ax.fill_between(steps, [float(r[f"lo-{widest}"]) for r in rows],
                        [float(r[f"hi-{widest}"]) for r in rows], alpha=0.25,
                        label=f"{widest} % interval")  # fmt: skip
    ax.plot(steps, actual, color="black", marker=".", label="actual")
    ax.plot(steps, forecast, color="tab:blue", label="forecast (median)")
    if "rnn" in rows[0] and rows[0]["rnn"] != "":
        ax.plot(steps, [float(r["rnn"]) for r in rows], linestyle="-.", color="tab:orange",
                label="recurrent model alone")  # fmt: skip
    for name, style in (("seasonal_naive", ":"), ("ets", "--")):
        if name in rows[0] and rows[0][name] != "":
            ax.plot(steps, [float(r[name]) for r in rows], linestyle=style, color="gray",
                    label=BASELINE_TITLES[name])  # fmt: skip
    ax.set_xticks(list(steps)[:: max(1, len(rows) // 8)])
    ax.set_xticklabels([rows[i]["ds"] for i in list(steps)[:: max(1, len(rows) // 8)]],
                       fontsize=7)  # fmt: skip
    ax.set(title=f"{rows[0]['unique_id']} — window {rows[0]['window']}", ylabel="value")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return figure


def _accuracy_section(metrics: dict[str, Any]) -> str:
    """The forecast (the combination, or the recurrent model alone), the recurrent model
    beside a combination, every baseline and the median of AutoETS, AutoARIMA and Theta,
    with the interval coverage of the forecasts that have intervals."""
    combined = metrics.get("forecast") == "combination"

    def coverage(prefix: str) -> list[str]:
        return [number(metrics.get(f"{prefix}coverage_80"), 2),
                number(metrics.get(f"{prefix}coverage_95"), 2)]  # fmt: skip

    first = "rnnlab (combination)" if combined else "rnnlab (recurrent)"
    rows = [[first, number(metrics.get("mase"), 3), number(metrics.get("smape"), 2),
             *coverage("")]]  # fmt: skip
    if combined:
        rows.append(["recurrent model alone", number(metrics.get("rnn_mase"), 3),
                     number(metrics.get("rnn_smape"), 2), *coverage("rnn_")])  # fmt: skip
    for key, title in [*BASELINE_TITLES.items(),
                       ("median3", "median of AutoETS, AutoARIMA, Theta")]:  # fmt: skip
        if f"baseline_{key}_mase" in metrics:
            rows.append([title, number(metrics[f"baseline_{key}_mase"], 3),
                         number(metrics.get(f"baseline_{key}_smape"), 2), "", ""])  # fmt: skip
    note = ""
    beaten = metrics.get("beaten_by") or []
    if "seasonal_naive" in beaten:
        note = ("<p><strong>The model loses to seasonal naive on MASE</strong>; use the "
                "baseline, or more data.</p>")  # fmt: skip
    elif beaten:
        note = f"<p>Baselines ahead of the model: {html.escape(', '.join(beaten))}.</p>"
    weights = (metrics.get("combination") or {}).get("weights") or {}
    if weights:
        shares = ", ".join(f"{html.escape(k)} {float(v):.2f}" for k, v in weights.items())
        note += (f"<p>Combination weights (inverse squared validation MASE on "
                 f"{metrics['combination'].get('validation_windows')} windows of the training "
                 f"part): {shares}.</p>")  # fmt: skip
    extra = []
    for key in ("relative_mase_median3", "pinball", "mae", "rmse"):
        if key in metrics:
            extra.append(f"{key} {number(metrics[key], 3)}")
    shape = (f"horizon {metrics.get('horizon')}, lookback {metrics.get('lookback')}, season "
             f"{metrics.get('season_length')}, {metrics.get('windows')} window(s), "
             f"{metrics.get('series')} series")  # fmt: skip
    return (
        f"<p class=muted>{html.escape(str(metrics.get('data', '')))}: {shape}</p>"
        + table(["forecast", "MASE", "sMAPE", "80 % coverage", "95 % coverage"], rows) + note
        + (f"<p>{' · '.join(extra)}</p>" if extra else "")
    )  # fmt: skip


def _windows_section(run_dir: Path) -> str:
    rows = read_csv_rows(run_dir / "analysis" / "forecasts.csv")
    if not rows:
        return "<p class=muted>No analysis/forecasts.csv in this run.</p>"
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row["unique_id"], row["window"]), []).append(row)
    shown = list(groups.values())[:_MAX_PLOTS]
    more = len(groups) - len(shown)
    images = "".join(image(forecast_figure(group), "forecast against actual")
                     for group in shown)  # fmt: skip
    return images + (f"<p class=muted>{more} more window(s) in analysis/forecasts.csv.</p>"
                     if more > 0 else "")  # fmt: skip


def render_forecast_report(run_dir: str | Path) -> str:
    """The report page of a forecasting run as an HTML string."""
    run_dir = Path(run_dir)
    metrics, config_text = run_files(run_dir)
    blocks = {
        "accuracy": ("Accuracy beside the baselines", _accuracy_section(metrics)),
        "windows": ("Forecasts against actual values", _windows_section(run_dir)),
        "curves": ("Training", loss_curve(run_dir, "training loss (scaled)")),
        "config": ("Configuration", f"<pre>{html.escape(config_text)}</pre>"),
    }
    return page(run_dir, blocks)


def write_forecast_report(run_dir: str | Path) -> Path:
    """Render and write ``run_dir/report.html`` atomically; returns its path."""
    path = Path(run_dir) / REPORT_FILE
    atomic_write_text(path, render_forecast_report(run_dir))
    return path
