"""The ``rnnlab`` command: parses, calls the library, prints. Nothing else lives here.

Every command exits non-zero with one clear sentence on bad input (no traceback); set
``RNNLAB_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import csv
import functools
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rnnlab.errors import RnnlabError

app = typer.Typer(
    name="rnnlab",
    help="Recurrent sequence models (RNN, LSTM, GRU) for text: train, evaluate, predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
train_app = typer.Typer(help="Train a model; writes a run directory.", no_args_is_help=True)
app.add_typer(train_app, name="train")

out_console = Console(soft_wrap=True)  # paths and results never folded mid-line
err_console = Console(stderr=True)


def _clean_errors(command):
    """Turn rnnlab's errors into one line on stderr and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except RnnlabError as exc:
            if os.environ.get("RNNLAB_DEBUG"):
                raise
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; continue a training run with --resume")
            raise typer.Exit(130) from None

    return wrapper


def _overrides(**flags: Any) -> dict[str, Any]:
    """CLI flags that were given, as dotted config keys (flags win over the config file)."""
    return {key.replace("__", "."): value for key, value in flags.items() if value is not None}


def _metrics_table(metrics: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("accuracy", "macro_f1", "macro_precision", "macro_recall"):
        if key in metrics:
            table.add_row(key, f"{metrics[key]:.4f}")
    for label in metrics.get("labels", []):
        table.add_row(f"f1 {label}", f"{metrics[f'f1_{label}']:.4f}")
    return table


@train_app.command(
    "classify",
    epilog=(
        "Examples:\n\n"
        "  rnnlab train classify --data imdb --out runs/imdb\n\n"
        "  rnnlab train classify --data reviews.csv --text-col review --label-col stars "
        "--valid dev.csv --test test.csv --cell lstm --epochs 5 --out runs/reviews\n\n"
        "  rnnlab train classify --config runs/imdb/config.toml --out runs/imdb --resume"
    ),
)
@_clean_errors
def train_classify(
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/classify"),
    data: Annotated[
        str | None,
        typer.Option(
            help="Training table (CSV/TSV/JSONL/Parquet) or dataset name (imdb, rotten_tomatoes, "
            "chinese_reviews)."
        ),
    ] = None,
    valid: Annotated[
        str | None, typer.Option(help="Validation table (default: 10% of --data).")
    ] = None,
    test: Annotated[str | None, typer.Option(help="Test table, evaluated after training.")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config; flags override it.")] = None,
    text_col: Annotated[str | None, typer.Option(help="Column holding the text.")] = None,
    label_col: Annotated[str | None, typer.Option(help="Column holding the label.")] = None,
    format: Annotated[
        str | None, typer.Option(help="csv, tsv, jsonl or parquet (default: from the suffix).")
    ] = None,
    skip_empty: Annotated[
        bool | None, typer.Option("--skip-empty", help="Drop rows with empty text.")
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(help="english, chinese, char or auto (chinese when most letters are CJK)."),
    ] = None,
    max_len: Annotated[
        int | None, typer.Option(help="Keep at most this many tokens per text.")
    ] = None,
    max_vocab: Annotated[
        int | None, typer.Option(help="Vocabulary size (most frequent tokens).")
    ] = None,
    cell: Annotated[str | None, typer.Option(help="gru, lstm or rnn.")] = None,
    hidden_size: Annotated[int | None, typer.Option()] = None,
    embedding_dim: Annotated[int | None, typer.Option()] = None,
    num_layers: Annotated[int | None, typer.Option()] = None,
    bidirectional: Annotated[bool | None, typer.Option("--bidirectional/--unidirectional")] = None,
    pooling: Annotated[str | None, typer.Option(help="last, mean or max.")] = None,
    dropout: Annotated[float | None, typer.Option(help="Dropout between recurrent layers.")] = None,
    recurrent_dropout: Annotated[
        float | None, typer.Option(help="Variational dropout on h_{t-1} (runs the step path).")
    ] = None,
    embeddings: Annotated[
        str | None,
        typer.Option(
            help="Pretrained vectors for the embedding layer: a word2vec/GloVe/rnnlab file "
            "or a packaged name (glove-6b-50d); set --embedding-dim to their size."
        ),
    ] = None,
    freeze: Annotated[
        bool | None,
        typer.Option("--freeze/--fine-tune", help="Keep pretrained embeddings fixed."),
    ] = None,
    weight_dropout: Annotated[
        float | None, typer.Option(help="DropConnect on the recurrent weights W_hh.")
    ] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate.")] = None,
    patience: Annotated[
        int | None, typer.Option(help="Early-stopping patience in epochs (0 = off).")
    ] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run in --out.")
    ] = False,
) -> None:
    """Train a text classifier (embedding → RNN/LSTM/GRU → pooling → softmax)."""
    from rnnlab.config import RunConfig
    from rnnlab.train.progress import RichProgress
    from rnnlab.workflow import train_classifier

    base = RunConfig.from_toml(config) if config else RunConfig()
    if resume and config is None and (out / "config.toml").exists():
        base = RunConfig.from_toml(out / "config.toml")
    run_config = base.merge(
        _overrides(
            data__data=data,
            data__valid=valid,
            data__test=test,
            data__text_col=text_col,
            data__label_col=label_col,
            data__format=format,
            data__skip_empty=skip_empty,
            data__tokenizer=tokenizer,
            data__max_len=max_len,
            data__max_vocab=max_vocab,
            model__cell=cell,
            model__hidden_size=hidden_size,
            model__embedding_dim=embedding_dim,
            model__num_layers=num_layers,
            model__bidirectional=bidirectional,
            model__pooling=pooling,
            model__dropout=dropout,
            model__recurrent_dropout=recurrent_dropout,
            model__weight_dropout=weight_dropout,
            model__embeddings=embeddings,
            model__freeze_embeddings=freeze,
            train__epochs=epochs,
            train__batch_size=batch_size,
            train__lr=lr,
            train__patience=patience,
            train__seed=seed,
            train__device=device,
        )
    )
    summary = train_classifier(
        run_config, out, resume=resume, callbacks=(RichProgress(console=err_console),)
    )
    pad = summary.padding
    if pad:
        err_console.print(
            f"length bucketing: {pad['bucketed']:.1%} padding per batch instead of "
            f"{pad['random']:.1%} with random batches"
        )
    coverage = summary.metrics.get("embedding_coverage")
    if coverage is not None:
        err_console.print(
            f"embeddings: {coverage:.1%} of the vocabulary initialised from "
            f"{run_config.model.embeddings}"
            + (" (frozen)" if run_config.model.freeze_embeddings else "")
        )
    out_console.print(_metrics_table(summary.metrics, f"{summary.evaluated_on} metrics"))
    out_console.print(
        f"{summary.evaluated_on} accuracy {summary.metrics['accuracy']:.4f}  "
        f"macro-F1 {summary.metrics['macro_f1']:.4f}  "
        f"({summary.metrics['num_examples']} texts, trained in {summary.seconds:.0f} s, "
        f"best epoch {summary.best_epoch})"
    )
    out_console.print(
        f"run directory: {summary.run_dir}  (metrics: {summary.run_dir / 'metrics.json'})"
    )


@app.command(
    epilog=(
        "Examples:\n\n  rnnlab evaluate runs/imdb\n\n"
        "  rnnlab evaluate runs/x --data test.csv --text-col review"
    )
)
@_clean_errors
def evaluate(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    data: Annotated[
        str | None,
        typer.Option(help="Labelled table or dataset name (default: the run's test data)."),
    ] = None,
    text_col: Annotated[str | None, typer.Option()] = None,
    label_col: Annotated[str | None, typer.Option()] = None,
    skip_empty: Annotated[bool, typer.Option("--skip-empty")] = False,
) -> None:
    """Evaluate a trained model on labelled data; writes RUN/metrics.json."""
    from rnnlab.workflow import evaluate_run

    metrics = evaluate_run(run, data, text_col=text_col, label_col=label_col, skip_empty=skip_empty)
    out_console.print(_metrics_table(metrics, f"metrics on {metrics['data']}"))
    if run.is_dir():
        out_console.print(f"wrote {run / 'metrics.json'}")


@app.command(
    epilog=(
        "Examples:\n\n  rnnlab predict runs/imdb --data reviews.csv --out labelled.csv\n\n"
        "  echo 'A triumph.' | rnnlab predict runs/imdb"
    )
)
@_clean_errors
def predict(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    data: Annotated[
        str | None, typer.Option(help="CSV/TSV/JSONL/Parquet table; default: lines on stdin.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="CSV to write (default: stdout).")] = None,
    text_col: Annotated[str | None, typer.Option(help="Column holding the text.")] = None,
    batch_size: Annotated[int, typer.Option()] = 64,
) -> None:
    """Label texts: writes CSV with the text, the label and one probability column per label."""
    import rnnlab
    from rnnlab.config import RunConfig
    from rnnlab.data.tables import read_table
    from rnnlab.fileio import atomic_open

    predictor = rnnlab.load(run)
    if data is None:
        texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    else:
        config_path = run / "config.toml"
        default_col = (
            RunConfig.from_toml(config_path).data.text_col if config_path.exists() else "text"
        )
        texts = read_table(
            data, text_col=text_col or default_col, label_col=None, require_labels=False
        ).texts
    probs = predictor.predict_proba(texts, batch_size=batch_size)
    labels = predictor.labels
    header = ["text", "label", *[f"p_{label}" for label in labels]]

    def write(handle) -> None:
        writer = csv.writer(handle)
        writer.writerow(header)
        for text, row in zip(texts, probs, strict=True):
            writer.writerow([text, labels[int(row.argmax())], *[f"{p:.6f}" for p in row]])

    if out is None:
        write(sys.stdout)
    else:
        with atomic_open(out, "w", newline="") as handle:
            write(handle)
        err_console.print(f"wrote {len(texts)} predictions to {out}")


from rnnlab.embeddings.cli import embed_app  # noqa: E402

app.add_typer(embed_app, name="embed")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
