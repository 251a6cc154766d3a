"""The command line's sequence-labelling half: what ``rnnlab train tag``, and ``rnnlab
evaluate`` / ``rnnlab predict`` on a tagging run, print and write.

Thin like the rest of the CLI: calls :mod:`rnnlab.tag_workflow` and
:class:`~rnnlab.tasks.tagger.TagPredictor`, prints results to standard output and notes to
standard error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rnnlab.errors import RnnlabFileNotFoundError

__all__ = ["evaluate_tag", "is_tag_run", "predict_tag", "train_tag"]


def is_tag_run(run: Path) -> bool:
    """True when ``run`` (a run directory or model file) holds a tagger."""
    from rnnlab.tasks.tagger import model_task

    return model_task(run) == "tag"


def _table(metrics: dict[str, Any], title: str) -> Table:
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


def _with_interval(metrics: dict[str, Any], key: str) -> str:
    """``0.9620 [0.9581, 0.9657]``: the value and its 95 % bootstrap interval, when known."""
    low, high = metrics.get(f"{key}_ci_low"), metrics.get(f"{key}_ci_high")
    interval = f" [{low:.4f}, {high:.4f}]" if low is not None and high is not None else ""
    return f"{metrics[key]:.4f}{interval}"


def _headline(metrics: dict[str, Any]) -> str:
    entity = f"entity F1 {_with_interval(metrics, 'f1')}  " if "f1" in metrics else ""
    return (
        f"{entity}token accuracy {_with_interval(metrics, 'accuracy')}  "
        f"({metrics['num_sentences']} sentences, {metrics['num_tokens']} tokens; "
        "95 % bootstrap intervals over sentences)"
    )


def train_tag(
    out: Path,
    config: Path | None,
    resume: bool,
    overrides: dict[str, Any],
    out_console: Console,
    err_console: Console,
) -> None:
    """Resolve the configuration (file, then flags), train into ``out``, print the metrics."""
    from rnnlab.tag_workflow import train_tagger
    from rnnlab.tasks.tag_config import TagRunConfig
    from rnnlab.train.progress import RichProgress

    base = TagRunConfig.from_toml(config) if config else TagRunConfig()
    if resume and config is None and (out / "config.toml").exists():
        base = TagRunConfig.from_toml(out / "config.toml")
    run_config = base.merge(overrides)
    summary = train_tagger(
        run_config, out, resume=resume, callbacks=(RichProgress(console=err_console),)
    )
    coverage = summary.metrics.get("embedding_coverage")
    if coverage is not None:
        err_console.print(f"embeddings: {coverage:.1%} of the vocabulary initialised")
    out_console.print(_table(summary.metrics, f"{summary.evaluated_on} metrics"))
    out_console.print(
        f"{summary.evaluated_on} {_headline(summary.metrics)}, trained in "
        f"{summary.seconds:.0f} s, best epoch {summary.best_epoch}"
    )
    out_console.print(
        f"run directory: {summary.run_dir}  (metrics: {summary.run_dir / 'metrics.json'})"
    )


def evaluate_tag(run: Path, data: str | None, out_console: Console) -> None:
    """``rnnlab evaluate`` for a tagging run."""
    from rnnlab.tag_workflow import evaluate_tag_run

    metrics = evaluate_tag_run(run, data)
    out_console.print(_table(metrics, f"metrics on {metrics['data']}"))
    out_console.print(_headline(metrics))
    if run.is_dir():
        out_console.print(f"wrote {run / 'metrics.json'}")


def _sentences(data: str | None) -> list[list[str]]:
    """Tokenised sentences, one per non-empty line (tokens split on whitespace)."""
    if data is None:
        lines: Iterable[str] = sys.stdin
    else:
        path = Path(data)
        if not path.is_file():
            raise RnnlabFileNotFoundError(
                f"{path} does not exist; pass a text file with one tokenised sentence per line."
            )
        lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split() for line in lines if line.strip()]


def predict_tag(
    run: Path,
    data: str | None,
    out: Path | None,
    batch_size: int,
    err_console: Console,
    engine: str = "torch",
) -> None:
    """``rnnlab predict`` for a tagging run: token TAB tag lines (a blank line after each
    sentence), or entity spans as JSON lines when ``out`` ends in ``.jsonl``; ``engine``
    ``"onnx"`` runs the exported graph on onnxruntime."""
    from rnnlab.fileio import atomic_open
    from rnnlab.tasks.tagger import TagPredictor

    predictor = TagPredictor.from_file(run, engine=engine)
    sentences = _sentences(data)
    spans = out is not None and out.suffix.lower() == ".jsonl"
    if spans:
        rows = predictor.predict_entities(sentences, batch_size=batch_size)
        text = "".join(
            json.dumps({"tokens": tokens, "entities": found}, ensure_ascii=False) + "\n"
            for tokens, found in zip(sentences, rows, strict=True)
        )
    else:
        tags = predictor.predict(sentences, batch_size=batch_size)
        text = "".join(
            "".join(f"{token}\t{tag}\n" for token, tag in zip(toks, tgs, strict=True)) + "\n"
            for toks, tgs in zip(sentences, tags, strict=True)
        )
    if out is None:
        sys.stdout.write(text)
        return
    with atomic_open(out, "w") as handle:
        handle.write(text)
    what = "entities" if spans else "tags"
    err_console.print(f"wrote {what} of {len(sentences)} sentences to {out}")
