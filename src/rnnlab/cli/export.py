"""``rnnlab export``: a run's model as an ONNX graph, with its metadata, checked first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.cli.common import clean_errors, out_console

__all__ = ["EPILOG", "export_command"]

EPILOG = (
    "Examples:\n\n  rnnlab export runs/imdb --onnx imdb.onnx\n\n"
    "  rnnlab export runs/imdb --onnx imdb.onnx --no-sidecar"
)


@clean_errors
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
    and the decoded tags. A language model's takes a window of ids and the carried state and
    returns next-token log-probabilities and the new state (generation is a loop over it).
    Labels, tokenizer and vocabulary travel in the file's metadata (key "rnnlab") and, with
    --sidecar, in a JSON file beside it, so any language can tokenise and read the outputs.
    """
    from rnnlab.deploy.onnx import export_onnx

    result = export_onnx(run, onnx, opset=opset, sidecar=sidecar)
    out_console.print(f"wrote {result.path}" + (f" and {result.sidecar}" if result.sidecar else ""))
    batch, steps = result.checked_shape
    if result.outputs == ("probabilities",):
        compared = f"a padded batch of {batch} texts up to {steps} tokens: max |Δp|"
    elif "log_probs" in result.outputs:
        compared = f"{batch} windows of {steps} tokens from a random state: max |Δ|"
    else:
        compared = f"a padded batch of {batch} sentences up to {steps} tokens: max |Δ|"
    outputs = "" if len(result.outputs) == 1 else f" ({', '.join(result.outputs)})"
    out_console.print(f"onnxruntime vs PyTorch on {compared} = {result.max_abs_diff:.1e}{outputs}")
