"""How results look on the terminal: metrics tables, baselines, intervals, repeated runs.

A run's metrics are shown by the printer its task names (``Task.print_metrics``: the
classifier's, tagger's and forecaster's are here); a task without one gets the flat table of
:func:`print_flat_metrics`.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from rnnlab.evaluate.comparison import (
    caution_sentences,
    compared_systems,
    mcnemar_sentences,
    setting_sentences,
)
from rnnlab.evaluate.forecast_baselines import BASELINE_TITLES

__all__ = [
    "print_analysis",
    "print_flat_metrics",
    "print_metrics",
    "print_repeats",
    "tagging_headline",
]


def classification_table(metrics: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("accuracy", "macro_f1", "macro_precision", "macro_recall"):
        if key in metrics:
            table.add_row(key, f"{metrics[key]:.4f}")
    for label in metrics.get("labels", []):
        table.add_row(f"f1 {label}", f"{metrics[f'f1_{label}']:.4f}")
    return table


def with_interval(metrics: dict[str, Any], key: str) -> str:
    low, high = metrics.get(f"{key}_ci_low"), metrics.get(f"{key}_ci_high")
    value = metrics.get(key)
    if value is None:
        return "–"
    if low is None or high is None:
        return f"{value:.4f}"
    return f"{value:.4f} [{low:.4f}, {high:.4f}]"


def print_analysis(metrics: dict[str, Any], console: Console) -> None:
    """The model beside its baselines (95 % bootstrap intervals), and McNemar's test."""
    table = Table(title="model and baselines, same texts (95% bootstrap CI)", show_header=True)
    for column in ("system", "accuracy", "macro-F1"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for title, sub in compared_systems(metrics):
        table.add_row(title, with_interval(sub, "accuracy"), with_interval(sub, "macro_f1"))
    console.print(table)
    for sentence in setting_sentences(metrics) + mcnemar_sentences(metrics):
        console.print(sentence)
    for sentence in caution_sentences(metrics):
        console.print(f"[yellow]note:[/] {sentence}", highlight=False)
    if "baselines_skipped" in metrics:
        console.print(f"baselines skipped: {metrics['baselines_skipped']}")


def print_repeats(summary: Any, console: Console) -> None:
    """Mean ± sd and the t-interval of the mean over seeds or folds."""
    what = "seeds" if summary.kind == "seeds" else "folds"
    table = Table(title=f"{len(summary.runs)} {what}: mean ± sd [95% CI of the mean]")
    for column in ("metric", "mean ± sd", "95% CI", "runs"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for key, s in summary.scores.items():
        table.add_row(
            key.replace("baseline_tfidf_", "TF-IDF ").replace("recurrent_", "network alone "),
            f"{s['mean']:.4f} ± {s['sd']:.4f}",
            f"[{s['ci_low']:.4f}, {s['ci_high']:.4f}]",
            " ".join(f"{v:.4f}" for v in s["values"]),
        )
    console.print(table)
    console.print(f"summary: {summary.path}")


def tagging_table(metrics: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=True)
    for column in ("", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="right" if column else "left")
    if "f1" in metrics:
        table.add_row(
            "all entities",
            *(f"{metrics[k]:.4f}" for k in ("precision", "recall", "f1")),
            str(metrics["num_true"]),
        )
        kinds = sorted(k[len("support_") :] for k in metrics if k.startswith("support_"))
        for kind in kinds:
            table.add_row(
                kind,
                *(f"{metrics[f'{k}_{kind}']:.4f}" for k in ("precision", "recall", "f1")),
                str(metrics[f"support_{kind}"]),
            )
    accuracy = f"{metrics['accuracy']:.4f}"
    table.add_row("token accuracy", "", "", accuracy, str(metrics["num_tokens"]))
    return table


def tagging_headline(metrics: dict[str, Any]) -> str:
    entity = f"entity F1 {with_interval(metrics, 'f1')}  " if "f1" in metrics else ""
    return (
        f"{entity}token accuracy {with_interval(metrics, 'accuracy')}  "
        f"({metrics['num_sentences']} sentences, {metrics['num_tokens']} tokens; "
        "95 % bootstrap intervals over sentences)"
    )


def print_classification(metrics: dict[str, Any], title: str, console: Console) -> None:
    """A classifier's metrics, then the model beside its baselines."""
    console.print(classification_table(metrics, title))
    print_analysis(metrics, console)


def print_tagging(metrics: dict[str, Any], title: str, console: Console) -> None:
    """A tagger's entity and token scores, then the headline with intervals."""
    console.print(tagging_table(metrics, title))
    console.print(tagging_headline(metrics))


def print_flat_metrics(metrics: dict[str, Any], title: str, console: Console) -> None:
    """Every number in ``metrics``, one row each: for tasks without a printer of their own."""
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)


def print_forecast(metrics: dict[str, Any], title: str, console: Console) -> None:
    """MASE and sMAPE of the model and every baseline on the same windows, the interval
    coverage, and one line when the model loses to seasonal naive."""
    table = Table(title=f"{title}: model and baselines, same windows", show_header=True)
    for column in ("forecast", "MASE", "sMAPE"):
        table.add_column(column, justify="left" if column == "forecast" else "right")
    combined = metrics.get("forecast") == "combination"
    model = "rnnlab (combination)" if combined else "rnnlab"
    table.add_row(model, f"{metrics['mase']:.3f}", f"{metrics['smape']:.2f}")
    if "rnn_mase" in metrics and combined:
        table.add_row("  recurrent model alone", f"{metrics['rnn_mase']:.3f}",
                      f"{metrics['rnn_smape']:.2f}")  # fmt: skip
    if "baseline_median3_mase" in metrics:
        table.add_row("median of ETS, ARIMA, Theta", f"{metrics['baseline_median3_mase']:.3f}",
                      f"{metrics['baseline_median3_smape']:.2f}")  # fmt: skip
    for key, name in BASELINE_TITLES.items():
        if f"baseline_{key}_mase" in metrics:
            table.add_row(name, f"{metrics[f'baseline_{key}_mase']:.3f}",
                          f"{metrics[f'baseline_{key}_smape']:.2f}")  # fmt: skip
    console.print(table)
    shape = (f"horizon {metrics['horizon']}, lookback {metrics['lookback']}, season "
             f"{metrics['season_length']}, {metrics['windows']} window(s) × "
             f"{metrics['series']} series")  # fmt: skip
    extra = [f"{k.replace('_', ' ')} {metrics[k]:.2f}" for k in ("coverage_80", "coverage_95")
             if k in metrics]  # fmt: skip
    console.print(f"{shape}; MAE {metrics['mae']:.4g}, RMSE {metrics['rmse']:.4g}"
                  + (f"; {', '.join(extra)}" if extra else ""))  # fmt: skip
    beaten = metrics.get("beaten_by") or []
    if "seasonal_naive" in beaten:
        console.print("[bold]The model loses to seasonal naive on MASE here; prefer the "
                      "baseline for these series.[/]")  # fmt: skip
    elif beaten:
        console.print(
            f"ahead of the model on MASE: {', '.join(BASELINE_TITLES[b] for b in beaten)}"
        )
    for name, why in (metrics.get("failed_baselines") or {}).items():
        console.print(f"[dim]{BASELINE_TITLES.get(name, name)} not fitted: {why}[/]")
    for name, how in (metrics.get("baseline_notes") or {}).items():
        console.print(f"[dim]{BASELINE_TITLES.get(name, name)}: {how}[/]")


def print_metrics(task: Any, metrics: dict[str, Any], title: str, console: Console) -> None:
    """``metrics`` of a run of ``task`` (a registered task or its name), by the printer the
    task names (``Task.print_metrics``), else as the flat table of :func:`print_flat_metrics`
    (a language model's perplexity and bits per token, say)."""
    from rnnlab.tasks.base import get_task

    found = get_task(task) if isinstance(task, str) else task
    (found.door("print_metrics") or print_flat_metrics)(metrics, title, console)
