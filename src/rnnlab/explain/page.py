"""The pieces every run report is built from: one inline style sheet, figures as embedded
PNGs (SVGs where this machine has no font for some of their text), tables, number
formatting and the page frame.

A report is one self-contained HTML file: figures are base64 data URIs and the style sheet
is inline, so it reads offline and can be mailed as it is; nothing on it loads from the
network. Each section is a ``<section id=…>`` so that tests and readers can find it.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rnnlab.errors import MissingDependencyError
from rnnlab.explain.plots import figure_bytes, missing_glyphs

__all__ = [
    "EXAMPLES_FILE",
    "REPORT_FILE",
    "ci_cell",
    "evaluation_rows",
    "image",
    "loss_curve",
    "number",
    "optional_report",
    "page",
    "read_csv_rows",
    "read_jsonl",
    "table",
]

REPORT_FILE = "report.html"
# In RUN/analysis/: what the report explains, chosen at training time so that a report
# rendered again shows the same examples (a classifier's [[text, true label], …], a language
# model's {"prompt": …, "text": …}).
EXAMPLES_FILE = "examples.json"

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
main{max-width:1080px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;
margin-top:36px}
section{background:#fff;border:1px solid #e4e4e4;border-radius:6px;padding:4px 20px 16px;
margin-bottom:18px}
table{border-collapse:collapse;margin:8px 0;font-size:0.92em}
th,td{border-bottom:1px solid #e6e6e6;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto}.muted{color:#666;font-size:0.9em}
.tokens{line-height:2.1;font-size:1.02em}.tok{padding:2px 3px;border-radius:3px;margin:0 1px}
.example{border-top:1px solid #eee;padding-top:10px;margin-top:14px}
.legend span{padding:2px 8px;border-radius:3px;margin-right:6px}
.sample{white-space:pre-wrap;background:#f6f6f6;border-radius:4px;padding:8px 12px}
"""


def image(figure: Any, alt: str) -> str:
    """``figure`` as an ``<img>`` with an embedded PNG, drawn here with the installed fonts
    (other scripts through font fallback, see ``rnnlab.explain.plots``); or an SVG with its
    text kept as text when some characters have no installed font, so that the reader's
    browser draws them rather than the PNG's empty boxes."""
    format, mime = ("svg", "image/svg+xml") if missing_glyphs(figure) else ("png", "image/png")
    data = base64.b64encode(figure_bytes(figure, format, dpi=100)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{data}">'


def number(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` decimals, or an en dash when there is none."""
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "–"


def ci_cell(metrics: Mapping[str, Any], key: str, digits: int = 4) -> str:
    """``key``'s value followed by its ``[low, high]`` interval when the metrics hold one."""
    low, high = metrics.get(f"{key}_ci_low"), metrics.get(f"{key}_ci_high")
    if low is None or high is None:
        return number(metrics.get(key), digits)
    return (
        f"{number(metrics.get(key), digits)} <span class=muted>[{number(low, digits)}, "
        f"{number(high, digits)}]</span>"
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file, or none when it does not exist."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file with a header, or none when it does not exist."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def optional_report(write: Callable[..., Path], *args: Any) -> Path | None:
    """``write(*args)`` — a report writer — or None when matplotlib is not installed: a run
    without plots is still a run, and the page is written whole or not at all."""
    try:
        return write(*args)
    except MissingDependencyError:
        return None


def run_files(run_dir: Path) -> tuple[dict[str, Any], str]:
    """A run's ``metrics.json`` (empty when missing) and ``config.toml`` text (empty when
    missing): what every report page starts from."""
    metrics_path, config_path = run_dir / "metrics.json", run_dir / "config.toml"
    metrics = json.loads(metrics_path.read_text("utf-8")) if metrics_path.exists() else {}
    return metrics, config_path.read_text("utf-8") if config_path.exists() else ""


def loss_curve(run_dir: Path, ylabel: str = "training loss") -> str:
    """The training loss per epoch from ``history.jsonl`` as an image, or a note without it
    (runs without a validation split, whose curves have nothing else to show)."""
    history = read_jsonl(run_dir / "history.jsonl")
    if not history:
        return "<p class=muted>No history.jsonl in this run.</p>"
    from rnnlab.explain.plots import new_figure

    figure, (ax,) = new_figure(6.0, 2.6)
    ax.plot([r["epoch"] for r in history], [r["train_loss"] for r in history], marker="o")
    ax.set(xlabel="epoch", ylabel=ylabel, title="training loss")
    ax.grid(alpha=0.3)
    return image(figure, "training loss per epoch")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table; cells are inserted as they are (escape text before)."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def evaluation_rows(run_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(name, metrics) of every ``RUN/evaluations/<name>/metrics.json`` that reads."""
    found = []
    for path in sorted((run_dir / "evaluations").glob("*/metrics.json")):
        try:
            found.append((path.parent.name, json.loads(path.read_text("utf-8"))))
        except (OSError, ValueError):
            continue
    return found


def page(run_dir: Path, blocks: Mapping[str, tuple[str, str]]) -> str:
    """The whole page: ``blocks`` maps a section id to (title, HTML content)."""
    body = "".join(
        f'<section id="{key}"><h2>{title}</h2>{content}</section>'
        for key, (title, content) in blocks.items()
    )
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    name = html.escape(run_dir.resolve().name)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>rnnlab report: {name}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>Run report: {name}</h1><p class=muted>written {stamp} by rnnlab</p>"
        f"{body}</main></body></html>\n"
    )
