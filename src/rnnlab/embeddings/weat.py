r"""WEAT, the Word Embedding Association Test (Caliskan, Bryson & Narayanan, 2017).

For target word sets ``X``, ``Y`` (equal size) and attribute sets ``A``, ``B``:

.. math::

    s(w, A, B) = \operatorname{mean}_{a \in A} \cos(w, a) - \operatorname{mean}_{b \in B} \cos(w, b)

    S(X, Y, A, B) = \sum_{x \in X} s(x, A, B) - \sum_{y \in Y} s(y, A, B)

    d = \frac{\operatorname{mean}_{x} s(x, A, B) - \operatorname{mean}_{y} s(y, A, B)}
             {\operatorname{std}_{w \in X \cup Y} s(w, A, B)}

with the sample standard deviation. The one-sided p-value is the share of equal-size
partitions ``(X_i, Y_i)`` of ``X ∪ Y`` with ``S(X_i, Y_i, A, B) > S(X, Y, A, B)``: every
partition when there are at most ``permutations`` of them, else ``permutations`` random ones.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnlab.embeddings.vectors import Vectors
from rnnlab.errors import DataError

__all__ = ["WeatResult", "weat"]


@dataclass
class WeatResult:
    """Effect size ``d``, one-sided p-value, and which words were missing from the vectors."""

    effect_size: float
    p_value: float
    statistic: float
    permutations: int
    exact: bool
    missing: list[str]


def _unit_rows(vectors: Vectors, words: Sequence[str], name: str, missing: list[str]) -> np.ndarray:
    kept = []
    for w in words:
        if vectors.has_vector(w):
            kept.append(w)
        else:
            missing.append(w)
    if not kept:
        raise DataError(
            f"{name}: none of the words {list(words)[:5]} is in the vectors; give words from "
            "the vocabulary."
        )
    rows = np.stack([vectors[w] for w in kept]).astype(np.float64)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def weat(
    vectors: Vectors,
    targets_x: Sequence[str],
    targets_y: Sequence[str],
    attributes_a: Sequence[str],
    attributes_b: Sequence[str],
    permutations: int = 100_000,
    seed: int = 0,
) -> WeatResult:
    """WEAT effect size and permutation p-value; words missing from ``vectors`` are dropped
    (listed in ``missing``), and the target sets are then cut to equal size."""
    missing: list[str] = []
    X = _unit_rows(vectors, targets_x, "targets_x", missing)
    Y = _unit_rows(vectors, targets_y, "targets_y", missing)
    A = _unit_rows(vectors, attributes_a, "attributes_a", missing)
    B = _unit_rows(vectors, attributes_b, "attributes_b", missing)
    n = min(len(X), len(Y))
    if n < 2:
        raise DataError(
            "targets: WEAT needs at least 2 words in each target set with vectors, got "
            f"{len(X)} and {len(Y)}; add words."
        )
    X, Y = X[:n], Y[:n]
    T = np.vstack([X, Y])  # (2n, D)
    s = (T @ A.T).mean(1) - (T @ B.T).mean(1)  # (2n,)
    observed = s[:n].sum() - s[n:].sum()
    effect = (s[:n].mean() - s[n:].mean()) / s.std(ddof=1)
    total = s.sum()
    n_partitions = math.comb(2 * n, n)
    if n_partitions <= permutations:
        exact = True
        stats = np.array(
            [2 * s[list(c)].sum() - total for c in itertools.combinations(range(2 * n), n)]
        )
    else:
        exact = False
        rng = np.random.default_rng(seed)
        picks = np.argsort(rng.random((permutations, 2 * n)), axis=1)[:, :n]
        stats = 2 * s[picks].sum(1) - total
    p = float((stats > observed + 1e-12).mean())
    return WeatResult(float(effect), p, float(observed), len(stats), exact, missing)
