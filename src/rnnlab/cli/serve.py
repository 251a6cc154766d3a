"""``rnnlab serve``: a run's model over HTTP (the endpoints its task offers) and a web page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.cli.common import clean_errors, err_console, refuse_task

__all__ = ["EPILOG", "serve"]

EPILOG = (
    "Examples:\n\n  rnnlab serve runs/imdb --port 8000\n\n"
    "  rnnlab serve runs/imdb --engine onnx --host 0.0.0.0 --max-texts 256\n\n"
    "  curl -s localhost:8000/predict -H 'Content-Type: application/json' "
    '-d \'{"text": "A triumph."}\''
)


@clean_errors
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
    """Serve the model over HTTP: for a classifier POST /predict and /explain and a web page
    at / to try it; for a language model POST /generate and /score; for a forecaster POST
    /forecast; for a series classifier POST /predict; GET /health and /model for every run.
    The OpenAPI schema is at /openapi.json."""
    refuse_task(run, "serve", lambda task: bool(task.endpoints))
    from rnnlab.deploy.engines import load
    from rnnlab.serve import ServeConfig, app_for
    from rnnlab.serve import serve as run_server

    config = ServeConfig(
        max_texts=max_texts,
        max_text_chars=max_text_chars,
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
        batching=batching,
        model_threads=model_threads,
    )
    predictor = load(run, engine=engine)
    app_ = app_for(predictor, run=run, engine=engine, config=config)
    err_console.print(
        f"serving {run} ({engine}) on http://{host}:{port}/  (Ctrl-C stops)", soft_wrap=True
    )
    run_server(app_, host=host, port=port)
