"""``rnnlab serve``: a run's model over HTTP (the endpoints its task offers) and a web page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.cli.common import clean_errors, err_console, refuse_task

__all__ = ["EPILOG", "serve"]

EPILOG = (
    "Examples:\n\n  rnnlab serve runs/imdb --port 8000\n\n"
    "  RNNLAB_API_KEY=s3cret rnnlab serve runs/imdb --engine onnx --host 0.0.0.0 "
    "--max-texts 256\n\n"
    "  curl -s localhost:8000/predict -H 'Content-Type: application/json' "
    "-H 'Authorization: Bearer s3cret' "
    '-d \'{"text": "A triumph."}\''
)


@clean_errors
def serve(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    engine: Annotated[str, typer.Option(help="torch or onnx (onnxruntime).")] = "torch",
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="RNNLAB_API_KEY",
            show_default=False,
            help="Require the header Authorization: Bearer KEY on every endpoint but /health "
            "(prefer the environment variable: other users can read a command line).",
        ),
    ] = None,
    max_texts: Annotated[int, typer.Option(help="Most texts (or series) per request.")] = 64,
    max_text_chars: Annotated[int, typer.Option(help="Most characters per text.")] = 10_000,
    max_batch: Annotated[
        int | None,
        typer.Option(
            help="Most texts per model call [default: 64] (classifiers only).",
            show_default=False,
        ),
    ] = None,
    max_wait_ms: Annotated[
        float | None,
        typer.Option(
            help="How long a request waits to share a model call, in ms [default: 5] "
            "(classifiers only).",
            show_default=False,
        ),
    ] = None,
    batching: Annotated[
        bool | None,
        typer.Option(
            "--batching/--no-batching",
            help="Micro-batch concurrent requests [default: on] (classifiers only).",
            show_default=False,
        ),
    ] = None,
    model_threads: Annotated[
        int, typer.Option(help="torch threads of the model's worker thread.")
    ] = 1,
    max_beam: Annotated[
        int, typer.Option(help="Largest beam one /translate request may ask for (translation).")
    ] = 8,
) -> None:
    """Serve the model over HTTP: for a classifier POST /predict and /explain and a web page
    at / to try it; for a language model POST /generate and /score; for a forecaster POST
    /forecast; for a series classifier POST /predict; for a translation model POST
    /translate (beam up to --max-beam); GET /health and /model for every run.
    The OpenAPI schema is at /openapi.json. With an API key every endpoint but /health needs
    it; the micro-batching options apply to the text and series classifiers, whose concurrent
    requests share model calls, and are refused for other runs."""
    refuse_task(run, "serve", lambda task: bool(task.endpoints))
    from rnnlab.deploy.engines import load
    from rnnlab.serve import ServeConfig, app_for, is_loopback
    from rnnlab.serve import serve as run_server

    config = ServeConfig(
        max_texts=max_texts,
        max_text_chars=max_text_chars,
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
        batching=batching,
        model_threads=model_threads,
        max_beam=max_beam,
        api_key=api_key,
    )
    predictor = load(run, engine=engine)
    app_ = app_for(predictor, run=run, engine=engine, config=config)
    if api_key is None and not is_loopback(host):
        err_console.print(
            f"warning: --host {host} lets other machines reach the server and no API key is "
            "set, so anyone who can reach it can use the model; set RNNLAB_API_KEY or --api-key.",
            soft_wrap=True,
            highlight=False,
        )
    err_console.print(
        f"serving {run} ({engine}) on http://{host}:{port}/  (Ctrl-C stops)", soft_wrap=True
    )
    run_server(app_, host=host, port=port)
