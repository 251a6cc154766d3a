"""What ``rnnlab explain``, the analysis part of ``rnnlab evaluate`` and ``rnnlab train
classify --seeds/--folds`` print. Thin like the rest of the CLI: the numbers come from
:mod:`rnnlab.explain`, :mod:`rnnlab.analysis` and :mod:`rnnlab.repeats`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["explain_texts", "print_analysis", "print_repeats", "train_repeats"]


def _interval(metrics: dict[str, Any], key: str) -> str:
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
    table.add_row("model", _interval(metrics, "accuracy"), _interval(metrics, "macro_f1"))
    for name, title in (("majority", "majority class"), ("tfidf", "TF-IDF 1-2-grams + LR")):
        prefix = f"baseline_{name}_"
        if f"{prefix}accuracy" in metrics:
            sub = {k.removeprefix(prefix): v for k, v in metrics.items() if k.startswith(prefix)}
            table.add_row(title, _interval(sub, "accuracy"), _interval(sub, "macro_f1"))
    console.print(table)
    if "mcnemar_p" in metrics:
        console.print(
            f"McNemar's test, model vs TF-IDF ({metrics['mcnemar_method']}): only the model "
            f"right on {metrics['mcnemar_model_only']} texts, only the baseline on "
            f"{metrics['mcnemar_baseline_only']}; p = {metrics['mcnemar_p']:.4g}"
        )
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
            key.replace("baseline_tfidf_", "TF-IDF "),
            f"{s['mean']:.4f} ± {s['sd']:.4f}",
            f"[{s['ci_low']:.4f}, {s['ci_high']:.4f}]",
            " ".join(f"{v:.4f}" for v in s["values"]),
        )
    console.print(table)
    console.print(f"summary: {summary.path}")


def _coloured(tokens: list[str], scores: list[float]) -> Text:
    """Tokens on a green (towards the target) / red (away) scale, by |score| / max |score|."""
    scale = max((abs(s) for s in scores), default=0.0) or 1.0
    text = Text()
    for token, score in zip(tokens, scores, strict=True):
        level = int(min(1.0, abs(score) / scale) * 4)
        colour = ("green" if score >= 0 else "red") if level else "default"
        text.append(token, style=f"bold {colour}" if level >= 2 else colour)
        text.append(" ")
    return text


def explain_texts(
    run: Path,
    texts: list[str],
    *,
    method: str,
    target: str | None,
    steps: int,
    plot: Path | None,
    as_json: bool,
    console: Console,
    err_console: Console,
) -> None:
    """Print attributions and the gate trace of each text (or JSON lines with ``as_json``)."""
    import rnnlab

    predictor = rnnlab.load(run)
    explanations = predictor.explain(texts, method=method, target=target, steps=steps)
    for i, explanation in enumerate(explanations):
        trace = predictor.trace(explanation.text)
        if as_json:
            record = {**explanation.to_dict(), "trace": trace.to_dict()}
            console.print_json(json.dumps(record, ensure_ascii=False))
        else:
            _print_one(explanation, trace, console)
        if plot is not None:
            from rnnlab.explain.plots import gate_trace_figure, pca_figure, save_figure

            target_path = plot if len(texts) == 1 else plot.with_stem(f"{plot.stem}-{i + 1}")
            save_figure(gate_trace_figure(trace), target_path)
            pca_path = target_path.with_stem(f"{target_path.stem}-pca")
            save_figure(pca_figure(trace), pca_path)
            err_console.print(f"wrote {target_path} and {pca_path}")


def _print_one(explanation: Any, trace: Any, console: Console) -> None:
    from rnnlab.explain.report import GAP_WARNING

    probs = "  ".join(f"{k} {v:.3f}" for k, v in explanation.probabilities.items())
    console.print(f"predicted {explanation.label}  ({probs})", highlight=False)
    gap = explanation.completeness_gap
    method = "integrated gradients" if explanation.method == "ig" else "occlusion"
    console.print(
        f"{method} towards {explanation.target}: sum {sum(explanation.attributions):+.4f}"
        + ("" if gap is None else f", completeness gap {gap:.2e}")
        + (" (large: raise --steps)" if gap is not None and gap > GAP_WARNING else ""),
        highlight=False,
    )
    console.print(_coloured(explanation.tokens, explanation.attributions))
    table = Table(show_header=True, box=None)
    table.add_column("token")
    table.add_column("attribution", justify="right")
    for name in trace.gates:
        table.add_column(name, justify="right")
    table.add_column("|h|", justify="right")
    for t, token in enumerate(explanation.tokens):
        table.add_row(
            token,
            f"{explanation.attributions[t]:+.4f}",
            *(f"{values[t]:.3f}" for values in trace.gates.values()),
            f"{trace.hidden_norm[t]:.2f}",
        )
    console.print(table)


def train_repeats(
    config: Any,
    out: Path,
    seeds: int | None,
    folds: int | None,
    resume: bool,
    console: Console,
    err_console: Console,
) -> None:
    """``train classify --seeds N`` or ``--folds K``: train the runs, print their summary."""
    from rnnlab.errors import ConfigError
    from rnnlab.repeats import cross_validate, train_seeds
    from rnnlab.train.progress import RichProgress

    if seeds is not None and folds is not None:
        raise ConfigError(
            "--seeds and --folds cannot be combined; run the folds with one seed, or the "
            "seeds on one split."
        )
    options = {"resume": resume, "callbacks": (RichProgress(console=err_console),)}

    def announce(name: str) -> None:
        err_console.print(f"training {out / name}")

    if seeds is not None:
        summary = train_seeds(config, out, seeds, on_run=announce, **options)
    else:
        summary = cross_validate(config, out, folds, on_run=announce, **options)
    print_repeats(summary, console)
