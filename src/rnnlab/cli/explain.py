"""``rnnlab explain``: token attributions and the gate / hidden-state trace of each text.

Thin like the rest of the CLI: the numbers come from :mod:`rnnlab.explain`. A task that
explains its runs another way names its own function (``Task.explain``: a translation run
shows its attention matrix); this module's :func:`explain_texts` serves the rest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rnnlab.cli.common import clean_errors, err_console, out_console, refuse_task

__all__ = ["EPILOG", "explain", "explain_texts"]

EPILOG = (
    "Examples:\n\n  rnnlab explain runs/imdb --text 'A moving, beautiful film.'\n\n"
    "  rnnlab explain runs/imdb --text 'Dull.' --method occlusion --target pos\n\n"
    "  rnnlab explain runs/imdb --text 'Not bad at all.' --plot trace.png --json\n\n"
    "  rnnlab explain runs/de-en --text 'Ein Hund rennt.' --plot attention.png"
)


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
    from rnnlab.deploy.engines import load

    predictor = load(run)
    explanations = predictor.explain(texts, method=method, target=target, steps=steps)
    for i, explanation in enumerate(explanations):
        trace = predictor.trace(explanation.text)
        if as_json:
            record = {**explanation.to_dict(), "trace": trace.to_dict()}
            console.file.write(json.dumps(record, ensure_ascii=False) + "\n")  # JSON Lines
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


@clean_errors
def explain(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    text: Annotated[list[str], typer.Option(help="Text to explain (repeat for several).")],
    method: Annotated[
        str, typer.Option(help="ig (integrated gradients) or occlusion (leave one token out).")
    ] = "ig",
    target: Annotated[
        str | None, typer.Option(help="Label to explain (default: the predicted one).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Integration steps of integrated gradients.")] = 50,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Write the gate trace (and PCA path) to a .png or .svg; for a translation "
            "run, the attention heat map."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per text, one per line (JSON Lines).")
    ] = False,
) -> None:
    """Token attributions and the gate / hidden-state trace of each text (a translation
    run: its translation and attention matrix)."""
    task = refuse_task(run, "explain", lambda task: task.explainable)
    own = task.door("explain")
    if own is not None:  # the task shows its runs its own way (Task.explain)
        own(
            run,
            text,
            plot=plot,
            as_json=as_json,
            console=out_console,
            err_console=err_console,
            options={"method": method, "target": target, "steps": steps},
        )
        return
    explain_texts(
        run,
        text,
        method=method,
        target=target,
        steps=steps,
        plot=plot,
        as_json=as_json,
        console=out_console,
        err_console=err_console,
    )
