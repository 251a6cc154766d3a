"""Train with several seeds and report how much the results move.

The corpus is tokenised once; each seed trains on it and is evaluated on the analogy and
similarity test sets. Scores are summarised as mean ± sample sd; chosen words get their
nearest-neighbour stability (:func:`~.stability.neighbour_stability`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.embeddings.corpus import tokenize_corpus
from rnnlab.embeddings.evaluate import evaluate_analogies, evaluate_similarity
from rnnlab.embeddings.events import ProgressFn
from rnnlab.embeddings.stability import mean_sd, neighbour_stability
from rnnlab.embeddings.train import EmbedConfig, TrainResult, train_on_corpus
from rnnlab.errors import ValueRangeError

__all__ = ["SeedReport", "evaluate_all", "train_seeds"]


def evaluate_all(
    vectors: Any,
    analogies: str | os.PathLike[str] | None = None,
    similarity: Sequence[str | os.PathLike[str]] | None = None,
    restrict_vocab: int = 30_000,
) -> dict[str, Any]:
    """Analogy accuracy and Spearman ρ per similarity file (defaults: gensim's test sets)."""
    from rnnlab.embeddings.evaluate import default_file

    scores: dict[str, Any] = {}
    result = evaluate_analogies(vectors, analogies, restrict_vocab=restrict_vocab)
    scores["analogy"] = result
    files = (
        [default_file("wordsim353"), default_file("simlex999")]
        if similarity is None
        else [Path(f) for f in similarity]
    )
    for f in files:
        scores[Path(f).stem] = evaluate_similarity(vectors, f)
    return scores


@dataclass
class SeedReport:
    """Per-seed scores, their mean ± sd, and neighbour stability of the chosen words."""

    seeds: list[int]
    scores: dict[str, list[float]]
    summary: dict[str, tuple[float, float]]
    stability: dict[str, float | None]
    runs: list[TrainResult] = field(repr=False, default_factory=list)


def train_seeds(
    corpus: str | os.PathLike[str],
    seeds: int,
    words: Sequence[str] = (),
    k: int = 10,
    progress: ProgressFn | None = None,
    analogies: str | os.PathLike[str] | None = None,
    similarity: Sequence[str | os.PathLike[str]] | None = None,
    **options: Any,
) -> SeedReport:
    """Train ``seeds`` times (seeds ``seed``, ``seed+1``, ...) and summarise the variation."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueRangeError(f"seeds: expected an integer >= 1, got {seeds!r}.")
    base = EmbedConfig.from_kwargs(**options)
    base.resolved()
    first = base.seed
    runs: list[TrainResult] = []
    scores: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="rnnlab-embed-") as work:
        tokenized = tokenize_corpus(corpus, Path(work) / "tokens.txt", base.tokenizer, progress)
        for i in range(seeds):
            config = EmbedConfig.from_kwargs(**{**options, "seed": first + i})
            run = train_on_corpus(tokenized, config, progress)
            runs.append(run)
            for name, res in evaluate_all(run.vectors, analogies, similarity).items():
                value = res.accuracy if name == "analogy" else res.spearman
                scores.setdefault(name, []).append(value)
    summary = {name: mean_sd(values) for name, values in scores.items()}
    stability = dict(neighbour_stability([r.vectors for r in runs], words, k))
    return SeedReport(list(range(first, first + seeds)), scores, summary, stability, runs)
