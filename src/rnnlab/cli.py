"""The ``rnnlab`` command: parses, calls the library, prints. Nothing else lives here.

Every command exits non-zero with one clear sentence on bad input (no traceback); set
``RNNLAB_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rnnlab.errors import ConfigError, RnnlabError

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
            resumable = command.__name__.startswith("train")
            err_console.print(
                "interrupted; continue with the same command and --resume"
                if resumable
                else "interrupted"
            )
            raise typer.Exit(130) from None

    return wrapper


def _overrides(**flags: Any) -> dict[str, Any]:
    """CLI flags that were given, as dotted config keys (flags win over the config file)."""
    return {key.replace("__", "."): value for key, value in flags.items() if value is not None}


def _refuse_flags(flags: dict[str, bool], why: str, instead: str = "") -> None:
    """Stop with one sentence when any of ``flags`` (flag → given) was given where it has
    no effect: which flags, ``why`` not, and to drop them (``instead``: or what else)."""
    given = [flag for flag, used in flags.items() if used]
    if given:
        them = "it" if len(given) == 1 else "them"
        raise ConfigError(f"{', '.join(given)}: not supported {why}; drop {them}{instead}.")


def _refuse_tag_run(run: Path, command: str) -> None:
    """Stop with one sentence when ``run`` holds a tagger, which ``command`` cannot take."""
    from rnnlab.tag_cli import is_tag_run

    if is_tag_run(run):
        raise ConfigError(
            f"rnnlab {command} {run}: the run holds a sequence tagger, and {command} works "
            "with text classifiers only; tag sentences with rnnlab predict instead."
        )


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
    seeds: Annotated[
        int | None,
        typer.Option(help="Train N runs (seeds s, s+1, …) into OUT/seed-*; report mean ± sd."),
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option(help="K-fold cross-validation into OUT/fold-*; report mean ± sd."),
    ] = None,
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
    if seeds is not None or folds is not None:
        from rnnlab.explain_cli import train_repeats

        return train_repeats(run_config, out, seeds, folds, resume, out_console, err_console)
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
    from rnnlab.explain_cli import print_analysis

    print_analysis(summary.metrics, out_console)
    out_console.print(
        f"{summary.evaluated_on} accuracy {summary.metrics['accuracy']:.4f}  "
        f"macro-F1 {summary.metrics['macro_f1']:.4f}  "
        f"({summary.metrics['num_examples']} texts, trained in {summary.seconds:.0f} s, "
        f"best epoch {summary.best_epoch})"
    )
    out_console.print(
        f"run directory: {summary.run_dir}  (metrics: {summary.run_dir / 'metrics.json'})"
    )
    if summary.report is not None:
        out_console.print(f"report: {summary.report}")


@train_app.command(
    "tag",
    epilog=(
        "Examples:\n\n"
        "  rnnlab train tag --data peoples_daily_pos --out runs/pos\n\n"
        "  rnnlab train tag --data wnut16 --decoder softmax --char-encoder none --out runs/w\n\n"
        "  rnnlab train tag --data train.conll --valid dev.conll --test test.conll "
        "--tag-col 3 --out runs/ner\n\n"
        "  rnnlab train tag --data pd.txt --format wordtag --out runs/pd\n\n"
        "  rnnlab train tag --data en_ewt-ud-train.conllu --conllu-tags xpos --out runs/ud"
    ),
)
@_clean_errors
def train_tag(
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/tag"),
    data: Annotated[
        str | None,
        typer.Option(
            help="Tagged training file or dataset name (wnut16, peoples_daily_pos, "
            "peoples_daily_ner)."
        ),
    ] = None,
    valid: Annotated[
        str | None, typer.Option(help="Validation file (default: 10% of --data).")
    ] = None,
    test: Annotated[str | None, typer.Option(help="Test file, evaluated after training.")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config; flags override it.")] = None,
    format: Annotated[
        str | None,
        typer.Option(help="conll, wordtag or conllu (default: conllu for *.conllu, else conll)."),
    ] = None,
    token_col: Annotated[
        int | None, typer.Option(help="CoNLL column of the tokens (default 0).")
    ] = None,
    tag_col: Annotated[
        int | None, typer.Option(help="CoNLL column of the tags (default -1, the last).")
    ] = None,
    conllu_tags: Annotated[str | None, typer.Option(help="upos or xpos.")] = None,
    scheme: Annotated[
        str | None,
        typer.Option(help="Tags to learn: auto (the data's), bio, bioes or plain."),
    ] = None,
    cell: Annotated[str | None, typer.Option(help="gru, lstm or rnn.")] = None,
    hidden_size: Annotated[int | None, typer.Option()] = None,
    embedding_dim: Annotated[int | None, typer.Option()] = None,
    num_layers: Annotated[int | None, typer.Option()] = None,
    bidirectional: Annotated[bool | None, typer.Option("--bidirectional/--unidirectional")] = None,
    decoder: Annotated[
        str | None, typer.Option(help="crf (Viterbi over tag transitions) or softmax.")
    ] = None,
    char_encoder: Annotated[
        str | None, typer.Option(help="Character features of each word: cnn, gru or none.")
    ] = None,
    embeddings: Annotated[
        str | None,
        typer.Option(
            help="Pretrained word vectors (a file or a packaged name); set "
            "--embedding-dim to their size."
        ),
    ] = None,
    freeze: Annotated[
        bool | None,
        typer.Option("--freeze/--fine-tune", help="Keep pretrained embeddings fixed."),
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
    """Train a sequence tagger (NER, POS): words + characters → BiGRU/BiLSTM → CRF or softmax."""
    from rnnlab.tag_cli import train_tag as run_train_tag

    overrides = _overrides(
        data__data=data,
        data__valid=valid,
        data__test=test,
        data__format=format,
        data__token_col=token_col,
        data__tag_col=tag_col,
        data__conllu_tags=conllu_tags,
        data__scheme=scheme,
        model__cell=cell,
        model__hidden_size=hidden_size,
        model__embedding_dim=embedding_dim,
        model__num_layers=num_layers,
        model__bidirectional=bidirectional,
        model__decoder=decoder,
        model__char_encoder=char_encoder,
        model__embeddings=embeddings,
        model__freeze_embeddings=freeze,
        train__epochs=epochs,
        train__batch_size=batch_size,
        train__lr=lr,
        train__patience=patience,
        train__seed=seed,
        train__device=device,
    )
    run_train_tag(out, config, resume, overrides, out_console, err_console)


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
    from rnnlab.tag_cli import evaluate_tag, is_tag_run

    if is_tag_run(run):  # a tagger: tagged sentences in, entity and token scores out
        return evaluate_tag(run, data, out_console)
    from rnnlab.workflow import evaluate_run

    metrics = evaluate_run(run, data, text_col=text_col, label_col=label_col, skip_empty=skip_empty)
    out_console.print(_metrics_table(metrics, f"metrics on {metrics['data']}"))
    from rnnlab.explain_cli import print_analysis

    print_analysis(metrics, out_console)
    if run.is_dir():
        out_console.print(f"wrote {run / 'metrics.json'}")
        if (run / "report.html").exists():
            out_console.print(f"wrote {run / 'report.html'} and {run / 'analysis'}/*.csv")


@app.command(
    epilog=(
        "Examples:\n\n  rnnlab predict runs/imdb --data reviews.csv --out labelled.csv\n\n"
        "  rnnlab predict runs/imdb --data big.parquet --out labelled.parquet --resume\n\n"
        "  echo 'A triumph.' | rnnlab predict runs/imdb"
    )
)
@_clean_errors
def predict(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    data: Annotated[
        str | None, typer.Option(help="CSV/TSV/JSONL/Parquet table; default: lines on stdin.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="CSV, JSONL or Parquet to write (default: CSV on stdout).")
    ] = None,
    text_col: Annotated[str | None, typer.Option(help="Column holding the text.")] = None,
    batch_size: Annotated[int, typer.Option()] = 64,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            help="Rows read, predicted and committed at a time (bounds memory); default 5000."
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted --out job, same settings.")
    ] = False,
    skip_empty: Annotated[bool, typer.Option("--skip-empty", help="Drop empty texts.")] = False,
    engine: Annotated[str, typer.Option(help="torch or onnx (onnxruntime).")] = "torch",
) -> None:
    """Label texts: the text, the label and one probability column per label, in input order.

    Tables of any size stream in chunks; with --out each chunk is committed as it is done,
    so an interrupted job continues with --resume. A tagging run reads one tokenised
    sentence per line and writes token TAB tag lines (entity spans for a .jsonl --out).
    """
    from rnnlab.tag_cli import is_tag_run, predict_tag

    table_flags = {
        "--text-col": text_col is not None,
        "--chunk-rows": chunk_rows is not None,
        "--resume": resume,
        "--skip-empty": skip_empty,
    }
    if is_tag_run(run):  # a tagger: tokenised lines in, token TAB tag (or .jsonl spans) out
        _refuse_flags(
            table_flags,
            "for a tagging run, which reads one tokenised sentence per line of --data (or "
            "stdin) and skips blank lines",
        )
        return predict_tag(run, data, out, batch_size, err_console, engine=engine)
    import rnnlab
    from rnnlab import batch_predict as bp
    from rnnlab.batch_progress import BatchProgressDisplay

    if data is None:
        _refuse_flags(
            table_flags,
            "without --data, where every non-blank line of stdin is one text",
            ", or pass a table with --data",
        )
    elif out is None:
        _refuse_flags(
            {"--resume": resume},
            "without --out, as CSV on stdout cannot be resumed",
            ", or write to a file with --out",
        )
    predictor = rnnlab.load(run, engine=engine)
    if data is None:
        texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
        count = bp.predict_texts(predictor, texts, out or sys.stdout, batch_size)
        if out is not None:
            err_console.print(f"wrote {count} predictions to {out}")
        return
    options = {
        "text_col": text_col or bp.default_text_col(run),
        "chunk_rows": bp.CHUNK_ROWS if chunk_rows is None else chunk_rows,
        "batch_size": batch_size,
        "skip_empty": skip_empty,
    }
    if out is None:
        bp.stream_csv(predictor, data, sys.stdout, **options)
        return
    display = BatchProgressDisplay(err_console)
    try:
        summary = bp.predict_file(
            predictor, data, out, resume=resume, on_progress=display.update, **options
        )
    except KeyboardInterrupt:
        display.stop()
        err_console.print(
            f"interrupted; the finished chunks are kept in {bp.parts_dir(out)}: run the same "
            "command with --resume to continue",
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    finally:
        display.stop()
    dropped = f", {summary.dropped_empty} empty rows dropped" if summary.dropped_empty else ""
    err_console.print(
        f"wrote {summary.rows} predictions to {out} ({summary.rows_per_s:,.0f} rows/s{dropped})",
        soft_wrap=True,
    )


@app.command(
    "export",
    epilog=(
        "Examples:\n\n  rnnlab export runs/imdb --onnx imdb.onnx\n\n"
        "  rnnlab export runs/imdb --onnx imdb.onnx --no-sidecar"
    ),
)
@_clean_errors
def export_command(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    onnx: Annotated[Path, typer.Option(help="ONNX file to write.")],
    sidecar: Annotated[
        bool, typer.Option("--sidecar/--no-sidecar", help="Also write the metadata as .json.")
    ] = True,
    opset: Annotated[int, typer.Option(help="ONNX opset version.")] = 17,
) -> None:
    """Export to ONNX: token ids and lengths in, probabilities out, any batch size and length.

    A tagger's graph also takes the words' characters and returns per-token emission scores
    and the decoded tags. Labels, tokenizer and vocabulary travel in the file's metadata (key
    "rnnlab") and, with --sidecar, in a JSON file beside it, so any language can tokenise
    and read the outputs.
    """
    from rnnlab.export import export_onnx

    result = export_onnx(run, onnx, opset=opset, sidecar=sidecar)
    out_console.print(f"wrote {result.path}" + (f" and {result.sidecar}" if result.sidecar else ""))
    batch, steps = result.checked_shape
    if result.outputs == ("probabilities",):
        compared = f"texts up to {steps} tokens: max |Δp| = {result.max_abs_diff:.1e}"
    else:
        compared = (
            f"sentences up to {steps} tokens: max |Δ| = {result.max_abs_diff:.1e} "
            f"({', '.join(result.outputs)})"
        )
    out_console.print(f"onnxruntime vs PyTorch on a padded batch of {batch} {compared}")


@app.command(
    epilog=(
        "Examples:\n\n  rnnlab serve runs/imdb --port 8000\n\n"
        "  rnnlab serve runs/imdb --engine onnx --host 0.0.0.0 --max-texts 256\n\n"
        "  curl -s localhost:8000/predict -H 'Content-Type: application/json' "
        '-d \'{"text": "A triumph."}\''
    )
)
@_clean_errors
def serve(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    engine: Annotated[str, typer.Option(help="torch or onnx (onnxruntime).")] = "torch",
    max_texts: Annotated[int, typer.Option(help="Most texts per /predict request.")] = 64,
    max_text_chars: Annotated[int, typer.Option(help="Most characters per text.")] = 10_000,
    max_batch: Annotated[int, typer.Option(help="Most texts per model call.")] = 64,
    max_wait_ms: Annotated[
        float, typer.Option(help="How long a request waits to share a model call.")
    ] = 5.0,
    batching: Annotated[
        bool, typer.Option("--batching/--no-batching", help="Micro-batch concurrent requests.")
    ] = True,
    model_threads: Annotated[
        int, typer.Option(help="torch threads of the model's worker thread.")
    ] = 1,
) -> None:
    """Serve the model over HTTP: POST /predict and /explain, GET /health and /model, and a
    web page at / to try it in a browser. The OpenAPI schema is at /openapi.json."""
    _refuse_tag_run(run, "serve")
    import rnnlab
    from rnnlab.serve import ServeConfig, create_app
    from rnnlab.serve import serve as run_server

    config = ServeConfig(
        max_texts=max_texts,
        max_text_chars=max_text_chars,
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
        batching=batching,
        model_threads=model_threads,
    )
    predictor = rnnlab.load(run, engine=engine)
    app_ = create_app(predictor, run=run, engine=engine, config=config)
    err_console.print(
        f"serving {run} ({engine}) on http://{host}:{port}/  (Ctrl-C stops)", soft_wrap=True
    )
    run_server(app_, host=host, port=port)


@app.command(
    epilog=(
        "Examples:\n\n  rnnlab explain runs/imdb --text 'A moving, beautiful film.'\n\n"
        "  rnnlab explain runs/imdb --text 'Dull.' --method occlusion --target pos\n\n"
        "  rnnlab explain runs/imdb --text 'Not bad at all.' --plot trace.png --json"
    )
)
@_clean_errors
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
        Path | None, typer.Option(help="Write the gate trace (and PCA path) to a .png or .svg.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per text.")] = False,
) -> None:
    """Token attributions and the gate / hidden-state trace of each text."""
    _refuse_tag_run(run, "explain")
    from rnnlab.explain_cli import explain_texts

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


from rnnlab.embeddings.cli import embed_app  # noqa: E402

app.add_typer(embed_app, name="embed")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
