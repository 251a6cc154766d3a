"""``rnnlab generate``: continue a prompt with a language model run, reproducibly per seed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.cli.common import clean_errors, err_console, out_console, refuse_task

__all__ = ["EPILOG", "generate"]

EPILOG = (
    "Examples:\n\n  rnnlab generate runs/ptb --prompt 'the company said' --seed 1\n\n"
    "  rnnlab generate runs/ptb --prompt 'the market' --temperature 0\n\n"
    "  rnnlab generate runs/ptb --prompt 'in' --top-p 0.9 --num-samples 3 --stop '.'"
)


@clean_errors
def generate(
    run: Annotated[Path, typer.Argument(help="Language-model run directory (or model file).")],
    prompt: Annotated[str, typer.Option(help="Text to continue.")] = "",
    max_new_tokens: Annotated[int, typer.Option(help="Most tokens to add.")] = 50,
    temperature: Annotated[float, typer.Option(help="0 = greedy; higher = more varied.")] = 1.0,
    top_k: Annotated[int, typer.Option(help="Sample among the k most probable (0 = all).")] = 0,
    top_p: Annotated[float, typer.Option(help="Nucleus: the smallest set with this mass.")] = 1.0,
    repetition_penalty: Annotated[
        float, typer.Option(help="> 1 discourages tokens already in the text.")
    ] = 1.0,
    num_samples: Annotated[int, typer.Option(help="Continuations to draw.")] = 1,
    stop: Annotated[str | None, typer.Option(help="Stop at this text.")] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same text.")] = 0,
    beam: Annotated[
        int, typer.Option(help="Beam search with this many beams instead of sampling (0: off).")
    ] = 0,
    context: Annotated[
        int, typer.Option(help="Most prompt tokens to condition on; a longer prompt is refused.")
    ] = 0,
) -> None:
    """Continue --prompt: one line per sample (the new text only)."""
    from rnnlab.deploy.engines import load

    refuse_task(run, "generate", lambda task: hasattr(task.predictor_type, "generate"))
    predictor = load(run)
    unknown = predictor.unknown_words(prompt)
    if unknown:
        err_console.print(
            f"warning: not in the vocabulary, read as <unk>: {', '.join(unknown)}",
            soft_wrap=True,
            highlight=False,
        )
    texts = predictor.generate(
        prompt, max_new_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
        repetition_penalty=repetition_penalty, num_samples=num_samples, stop=stop, seed=seed,
        beam=beam, context=context,
    )  # fmt: skip
    for text in texts:
        out_console.print(text, highlight=False, markup=False)
