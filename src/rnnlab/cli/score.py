"""``rnnlab score``: per-token surprisal (bits) of texts under a language model run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rnnlab.cli.common import clean_errors, err_console, refuse_task
from rnnlab.errors import ConfigError, RnnlabFileNotFoundError

__all__ = ["EPILOG", "score"]

EPILOG = (
    "Examples:\n\n  rnnlab score runs/ptb --data sentences.txt --out surprisal.tsv\n\n"
    "  rnnlab score runs/ptb --data sentences.txt --out surprisal.jsonl"
)


@clean_errors
def score(
    run: Annotated[Path, typer.Argument(help="Language-model run directory (or model file).")],
    data: Annotated[Path, typer.Option(help="Text file, one text per line.")],
    out: Annotated[
        Path | None, typer.Option(help=".tsv (one row per token) or .jsonl (one per text).")
    ] = None,
) -> None:
    """Surprisal of every token in bits, −log₂ p(token | the text before it), per text."""
    from rnnlab.deploy.engines import load
    from rnnlab.fileio import atomic_open

    refuse_task(run, "score", lambda task: hasattr(task.predictor_type, "surprisal"))
    if not data.is_file():
        raise RnnlabFileNotFoundError(
            f"{data} does not exist; pass a text file, one text per line."
        )
    suffix = out.suffix.lower() if out is not None else ".tsv"
    if suffix not in (".tsv", ".jsonl"):
        raise ConfigError(f"--out {out}: name the file .tsv or .jsonl.")
    predictor = load(run)
    texts = [line for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    scored = predictor.surprisal(texts)
    text = _jsonl(scored) if suffix == ".jsonl" else _tsv(scored)
    if out is None:
        typer.echo(text, nl=False)
        return
    with atomic_open(out, "w") as handle:
        handle.write(text)
    total = sum(s.total_bits for s in scored)
    err_console.print(f"wrote surprisal of {len(scored)} texts ({total:.1f} bits in all) to {out}")


def _jsonl(scored: list) -> str:
    """One JSON object per text: tokens, their surprisal in bits, total bits, perplexity (and
    per-word sums for a character model)."""
    lines = []
    for i, s in enumerate(scored):
        record = {
            "text": i,
            "tokens": s.tokens,
            "surprisal_bits": [round(b, 5) for b in s.bits],
            "total_bits": round(s.total_bits, 5),
            "perplexity": round(s.perplexity, 5),
        }
        if s.words:
            record["words"] = [[word, round(b, 5)] for word, b in s.words]
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(lines)


def _tsv(scored: list) -> str:
    """One row per token; the header names the unit (bits)."""
    rows = ["text\ttoken_index\ttoken\tsurprisal_bits\n"]
    for i, s in enumerate(scored):
        pairs = enumerate(zip(s.tokens, s.bits, strict=True))
        rows += [f"{i}\t{t}\t{token}\t{b:.5f}\n" for t, (token, b) in pairs]
    return "".join(rows)
