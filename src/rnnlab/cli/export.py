"""``rnnlab export``: a run's model as an ONNX graph, with its metadata, checked first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.cli.common import clean_errors, out_console

__all__ = ["EPILOG", "export_command"]

EPILOG = (
    "Examples:\n\n  rnnlab export runs/imdb --onnx imdb.onnx\n\n"
    "  rnnlab export runs/imdb --onnx imdb.onnx --no-sidecar\n\n"
    "  rnnlab export runs/de-en --onnx de-en-onnx   # translation: encoder.onnx, decoder.onnx"
)


@clean_errors
def export_command(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    onnx: Annotated[
        Path, typer.Option(help="ONNX file to write (a directory for a translation model).")
    ],
    sidecar: Annotated[
        bool, typer.Option("--sidecar/--no-sidecar", help="Also write the metadata as .json.")
    ] = True,
    opset: Annotated[int, typer.Option(help="ONNX opset version.")] = 17,
) -> None:
    """Export to ONNX: token ids and lengths in, probabilities out, any batch size and length.

    A tagger's graph also takes the words' characters and returns per-token emission scores
    and the decoded tags. A language model's takes a window of ids and the carried state and
    returns next-token log-probabilities and the new state (generation is a loop over it).
    A translation model exports two graphs into the directory --onnx names: encoder.onnx
    (source ids and lengths in, the attention memory and the decoder's first state out) and
    decoder.onnx (one step: previous token and state in, log-probabilities, new state and
    attention out), so greedy or beam search runs outside the graphs on any engine.
    Labels, tokenizer and vocabulary travel in the file's metadata (key "rnnlab") and, with
    --sidecar, in a JSON file beside it, so any language can tokenise and read the outputs.
    """
    from rnnlab.deploy.onnx import export_onnx

    result = export_onnx(run, onnx, opset=opset, sidecar=sidecar)
    files = [str(f) for f in result.files] or [str(result.path)]
    if result.sidecar:
        files.append(str(result.sidecar))
    out_console.print(f"wrote {', '.join(files[:-1])} and {files[-1]}" if len(files) > 1
                      else f"wrote {files[0]}")  # fmt: skip
    batch, steps = result.checked_shape
    if result.compared:
        compared = result.compared
    elif result.outputs == ("probabilities",):
        compared = f"a padded batch of {batch} texts up to {steps} tokens: max |Δp|"
    elif "log_probs" in result.outputs:
        compared = f"{batch} windows of {steps} tokens from a random state: max |Δ|"
    else:
        compared = f"a padded batch of {batch} sentences up to {steps} tokens: max |Δ|"
    outputs = "" if len(result.outputs) == 1 else f" ({', '.join(result.outputs)})"
    out_console.print(f"onnxruntime vs PyTorch on {compared} = {result.max_abs_diff:.1e}{outputs}")
