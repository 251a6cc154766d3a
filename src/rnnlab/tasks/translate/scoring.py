"""Translation scores the standard way: sacreBLEU's BLEU and chrF on detokenised text.

Corpus BLEU and chrF are ratios of n-gram counts summed over sentences, so their bootstrap
intervals resample sentences and recompute the corpus score from the summed statistics of
each resample (sacreBLEU's own sufficient statistics; Koehn 2004), never averaging
sentence scores::

    stats_i  = n-gram matches and totals of sentence i (sacreBLEU)
    BLEU(S)  = sacreBLEU's score of Σ_{i ∈ S} stats_i
    interval = 2.5th and 97.5th percentiles of BLEU over 1,000 resamples S (seeded)

Paired bootstrap resampling (Koehn 2004) compares two systems on the same resamples: the
share of resamples where the first scores higher. Why sacreBLEU: published BLEU numbers
differ by the tokenisation and smoothing behind them; sacreBLEU fixes those and writes them
into a signature string that goes into ``metrics.json`` beside the score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnlab.errors import MissingDependencyError

__all__ = [
    "bootstrap_interval",
    "corpus_bleu_tokens",
    "paired_bootstrap",
    "sentence_scores",
    "translation_metrics",
]


def _sacrebleu() -> Any:
    try:
        import sacrebleu
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "Scoring translations needs sacreBLEU; run `pip install sacrebleu`."
        ) from None
    return sacrebleu


def _bleu(tokenize: str = "13a", lowercase: bool = False) -> Any:
    from sacrebleu.metrics import BLEU

    _sacrebleu()
    return BLEU(tokenize=tokenize, lowercase=lowercase)


def _chrf() -> Any:
    _sacrebleu()
    from sacrebleu.metrics import CHRF

    return CHRF()


def corpus_bleu_tokens(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """BLEU of already tokenised strings (token ids joined by spaces: validation during
    training, where only the ids are at hand), no further tokenisation."""
    return float(_bleu("none").corpus_score(list(hypotheses), [list(references)]).score)


def _statistics(metric: Any, hypotheses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """Per-sentence sufficient statistics (N, D) of a sacreBLEU metric."""
    stats = metric._extract_corpus_statistics(list(hypotheses), [list(references)])
    return np.asarray(stats, dtype=np.int64)


def _score(metric: Any, stats: np.ndarray) -> float:
    return float(metric._compute_score_from_stats(stats.sum(axis=0).tolist()).score)


def _resamples(n: int, n_resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, (n_resamples, n))


def bootstrap_interval(
    metric: Any,
    stats: np.ndarray,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a corpus score from per-sentence ``stats``."""
    index = _resamples(len(stats), n_resamples, seed)
    values = np.array([_score(metric, stats[row]) for row in index])
    alpha = 1.0 - confidence
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def translation_metrics(
    hypotheses: Sequence[str],
    references: Sequence[str],
    sources: Sequence[str] | None = None,
    *,
    tokenize: str = "13a",
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """``bleu`` and ``chrf`` (cased, detokenised, sacreBLEU), ``bleu_lowercase``, their
    signatures, 95 % bootstrap intervals (``*_ci_low``, ``*_ci_high``) and, given the
    ``sources``, ``copy_bleu`` / ``copy_chrf``: the copy-the-source baseline, the floor a
    model must clear (names, numbers and shared words score above zero)."""
    if len(hypotheses) != len(references):
        raise ValueError(
            f"translation_metrics: {len(hypotheses)} hypotheses but {len(references)} "
            "references; give one reference per hypothesis."
        )
    metrics: dict[str, Any] = {"num_sentences": len(hypotheses)}
    scorers = {
        "bleu": _bleu(tokenize),
        "bleu_lowercase": _bleu(tokenize, lowercase=True),
        "chrf": _chrf(),
    }
    for name, metric in scorers.items():
        stats = _statistics(metric, hypotheses, references)
        metrics[name] = round(_score(metric, stats), 4)
        if len(hypotheses):
            low, high = bootstrap_interval(metric, stats, n_resamples=n_resamples, seed=seed)
            metrics[f"{name}_ci_low"] = round(low, 4)
            metrics[f"{name}_ci_high"] = round(high, 4)
        metrics[f"{name}_signature"] = str(metric.get_signature())
    if sources is not None:
        for name in ("bleu", "chrf"):
            metric = scorers[name]
            metrics[f"copy_{name}"] = round(
                _score(metric, _statistics(metric, sources, references)), 4
            )
    return metrics


def sentence_scores(
    hypotheses: Sequence[str], references: Sequence[str], tokenize: str = "13a"
) -> list[dict[str, float]]:
    """Each sentence's own sentence-BLEU (exponential smoothing, as sacreBLEU's
    ``sentence_score``) and chrF, for the per-sentence error table."""
    from sacrebleu.metrics import BLEU

    _sacrebleu()
    bleu = BLEU(tokenize=tokenize, effective_order=True)
    chrf = _chrf()
    return [
        {
            "bleu": round(float(bleu.sentence_score(h, [r]).score), 4),
            "chrf": round(float(chrf.sentence_score(h, [r]).score), 4),
        }
        for h, r in zip(hypotheses, references, strict=True)
    ]


def paired_bootstrap(
    hypotheses: Sequence[str],
    other: Sequence[str],
    references: Sequence[str],
    *,
    tokenize: str = "13a",
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Paired bootstrap resampling (Koehn 2004) of BLEU: both systems scored on the same
    resamples of sentences; ``p_value`` is the share of resamples where the first does not
    score higher (small: the first is better, beyond chance)."""
    metric = _bleu(tokenize)
    mine = _statistics(metric, hypotheses, references)
    theirs = _statistics(metric, other, references)
    wins = 0
    index = _resamples(len(mine), n_resamples, seed)
    for row in index:
        wins += _score(metric, mine[row]) > _score(metric, theirs[row])
    return {
        "bleu": round(_score(metric, mine), 4),
        "other_bleu": round(_score(metric, theirs), 4),
        "p_value": round(1.0 - wins / n_resamples, 4),
        "n_resamples": float(n_resamples),
    }
