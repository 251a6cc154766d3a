"""Seed variation: mean ± sd of scores over seeds, and nearest-neighbour stability.

Stability of a word is the mean Jaccard index ``|N_s ∩ N_t| / |N_s ∪ N_t|`` of its top-k
neighbour sets over all pairs of seeds ``s < t`` (1: every seed finds the same neighbours).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from rnnlab.embeddings.vectors import Vectors

__all__ = ["mean_sd", "neighbour_stability"]


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def neighbour_stability(
    runs: Sequence[Vectors], words: Sequence[str], k: int = 10
) -> Mapping[str, float | None]:
    """Mean pairwise Jaccard of each word's top-``k`` neighbours across ``runs``.

    A word missing from any run gets ``None``.
    """
    out: dict[str, float | None] = {}
    for word in words:
        if not all(word in v for v in runs):
            out[word] = None
            continue
        sets = [{w for w, _ in v.most_similar(word, topn=k)} for v in runs]
        pairs = [len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2)]
        out[word] = float(np.mean(pairs)) if pairs else 1.0
    return out
