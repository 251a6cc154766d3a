"""``rnnlab score``: per-token surprisal (bits) of texts under a language model run.

The texts are the non-blank lines of ``--data`` (standard input when it is left out or
``-``), tokenised as the model was trained. The TSV (``--out x.tsv``, or stdout) has one row
per token, in these columns (tab-separated)::

    text  token_index  token  surprisal_bits  oov
    text_tokens  text_total_bits  text_mean_bits  text_perplexity

The first four columns are those of earlier versions. ``oov`` is true for a token outside the
vocabulary: the model reads it as ``<unk>``, so its surprisal is the model's probability of
*an* unknown word there, not of that word (a note on stderr says so when there are any).
The ``text_*`` columns repeat each text's totals on its rows — token count, total and mean
surprisal in bits, perplexity 2^mean — so that tokens and texts read from the same file
(one row per text: the first row of each ``text``). ``--out x.jsonl`` writes one object per
text instead. ``--out`` never replaces an existing file without ``--overwrite``, and is
written atomically.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnlab.cli.common import clean_errors, err_console, refuse_flags, refuse_task
from rnnlab.errors import ConfigError

__all__ = ["EPILOG", "score"]

EPILOG = (
    "Examples:\n\n  rnnlab score runs/ptb --data sentences.txt --out surprisal.tsv\n\n"
    "  rnnlab score runs/ptb --data sentences.txt --out surprisal.jsonl --overwrite\n\n"
    "  echo 'the company said it expects higher sales' | rnnlab score runs/ptb"
)

TSV_COLUMNS = (
    "text", "token_index", "token", "surprisal_bits", "oov",
    "text_tokens", "text_total_bits", "text_mean_bits", "text_perplexity",
)  # fmt: skip
OOV_NOTE = (
    "note: {count} of {tokens} tokens are outside the vocabulary (oov=true); the surprisal "
    "given for them is that of <unk>, the model's probability of an unknown word there, not "
    "of the word itself."
)


@clean_errors
def score(
    run: Annotated[Path, typer.Argument(help="Language-model run directory (or model file).")],
    data: Annotated[
        str | None,
        typer.Option(
            help="Text file, one text per line (blank lines skipped); - or none: the lines "
            "of stdin."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help=".tsv (one row per token, with its text's totals) or .jsonl (one object per "
            "text); default: TSV on stdout. An existing file is kept unless --overwrite."
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace --out if it exists.")
    ] = False,
) -> None:
    """Surprisal of every token in bits, −log₂ p(token | the text before it), per text, with
    each text's token count, total, mean and perplexity; out-of-vocabulary tokens marked."""
    from rnnlab.cli.predict import input_lines
    from rnnlab.deploy.engines import load
    from rnnlab.fileio import atomic_open, refuse_existing

    refuse_task(run, "score", lambda task: hasattr(task.predictor_type, "surprisal"))
    suffix = out.suffix.lower() if out is not None else ".tsv"
    if suffix not in (".tsv", ".jsonl"):
        raise ConfigError(f"--out {out}: name the file .tsv or .jsonl.")
    refuse_flags({"--overwrite": overwrite and out is None}, "without --out",
                 ", or write to a file with --out")  # fmt: skip
    if out is not None:
        refuse_existing(out, overwrite)
    texts = input_lines(data, "one text per line")
    predictor = load(run)
    scored = predictor.surprisal(texts)
    unknown = sum(sum(s.oov) for s in scored)
    if unknown:
        tokens = sum(s.num_tokens for s in scored)
        err_console.print(OOV_NOTE.format(count=unknown, tokens=tokens), markup=False,
                          highlight=False, soft_wrap=True)  # fmt: skip
    empty = [i for i, s in enumerate(scored) if not s.tokens]
    if empty:
        err_console.print(
            f"note: {len(empty)} text(s) have no token the model reads (text {empty[0]} "
            "first); they have no rows.",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
    text = _jsonl(scored) if suffix == ".jsonl" else _tsv(scored)
    if out is None:
        typer.echo(text, nl=False)
        return
    with atomic_open(out, "w") as handle:
        handle.write(text)
    total = sum(s.total_bits for s in scored)
    err_console.print(f"wrote surprisal of {len(scored)} texts ({total:.1f} bits in all) to {out}")


def _number(value: float) -> float | None:
    """``value`` to 5 decimals for JSON; None (null) for the NaN of a text without tokens."""
    return None if math.isnan(value) else round(value, 5)


def _jsonl(scored: list) -> str:
    """One JSON object per text: tokens, their surprisal in bits, which are out of the
    vocabulary, token count, total and mean bits, perplexity (and per-word sums for a
    character model)."""
    lines = []
    for i, s in enumerate(scored):
        record: dict[str, Any] = {
            "text": i,
            "tokens": s.tokens,
            "surprisal_bits": [round(b, 5) for b in s.bits],
            "oov": s.oov,
            "num_tokens": s.num_tokens,
            "total_bits": round(s.total_bits, 5),
            "mean_bits": _number(s.mean_bits),
            "perplexity": _number(s.perplexity),
        }
        if s.words:
            record["words"] = [[word, round(b, 5)] for word, b in s.words]
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(lines)


def _tsv(scored: list) -> str:
    """One row per token (:data:`TSV_COLUMNS`); the header names the unit (bits)."""
    rows = ["\t".join(TSV_COLUMNS) + "\n"]
    for i, s in enumerate(scored):
        totals = f"{s.num_tokens}\t{s.total_bits:.5f}\t{s.mean_bits:.5f}\t{s.perplexity:.5f}"
        pairs = enumerate(zip(s.tokens, s.bits, s.oov, strict=True))
        rows += [
            f"{i}\t{t}\t{token}\t{b:.5f}\t{'true' if oov else 'false'}\t{totals}\n"
            for t, (token, b, oov) in pairs
        ]
    return "".join(rows)
