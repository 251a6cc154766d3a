"""The bootstrap against scipy's reference implementation and against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.errors import ShapeError, ValueRangeError
from rnnlab.evaluate import bootstrap
from rnnlab.evaluate.bootstrap import bootstrap_ci, classification_cis, macro_f1
from rnnlab.evaluate.metrics import classification_metrics

# A fixed prediction vector: 200 items, 3 classes, 71 % right.
RNG = np.random.default_rng(42)
Y_TRUE = RNG.integers(0, 3, 200)
Y_PRED = np.where(RNG.random(200) < 0.71, Y_TRUE, RNG.integers(0, 3, 200))


def accuracy(t: np.ndarray, p: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(t == p, axis=axis)


def test_accuracy_interval_equals_scipy_percentile_bootstrap():
    stats = pytest.importorskip("scipy.stats")
    ours = bootstrap_ci((Y_TRUE, Y_PRED), lambda t, p: accuracy(t, p), seed=7)
    theirs = stats.bootstrap(
        (Y_TRUE, Y_PRED),
        accuracy,
        paired=True,
        vectorized=True,
        n_resamples=1000,
        confidence_level=0.95,
        method="percentile",
        rng=np.random.default_rng(7),
    ).confidence_interval
    assert ours.estimate == pytest.approx(np.mean(Y_TRUE == Y_PRED))
    assert (ours.low, ours.high) == pytest.approx((theirs.low, theirs.high), abs=1e-12)
    assert ours.low < ours.estimate < ours.high


def test_interval_equals_a_direct_numpy_computation():
    """Brute force with the documented seed semantics: rng.integers(0, n, (B, n)), then the
    2.5 and 97.5 % linear quantiles of the B resampled macro-F1 values."""
    rng = np.random.default_rng(3)
    index = rng.integers(0, len(Y_TRUE), (1000, len(Y_TRUE)))
    values = [
        classification_metrics(Y_TRUE[i], Y_PRED[i], ["a", "b", "c"])["macro_f1"] for i in index
    ]
    expected = np.quantile(values, [0.025, 0.975])
    flat = classification_cis(Y_TRUE, Y_PRED, 3, seed=3)
    assert (flat["macro_f1_ci_low"], flat["macro_f1_ci_high"]) == pytest.approx(tuple(expected))
    assert set(flat) == {
        "accuracy_ci_low",
        "accuracy_ci_high",
        "macro_f1_ci_low",
        "macro_f1_ci_high",
    }


def test_macro_f1_equals_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    assert macro_f1(Y_TRUE, Y_PRED, 3) == pytest.approx(
        metrics.f1_score(Y_TRUE, Y_PRED, average="macro")
    )


def test_resampling_in_chunks_gives_the_same_interval(monkeypatch):
    whole = bootstrap_ci((Y_TRUE, Y_PRED), lambda t, p: accuracy(t, p), seed=1)
    monkeypatch.setattr(bootstrap, "_CHUNK_ITEMS", 3 * len(Y_TRUE))  # 3 resamples per draw
    assert bootstrap_ci((Y_TRUE, Y_PRED), lambda t, p: accuracy(t, p), seed=1) == whole


def test_ragged_per_item_data_for_entity_f1():
    """Per-sentence entity sets, as a tagger produces them: micro F1 over resampled sentences."""
    gold = [[(0, 2, "PER")], [], [(1, 3, "LOC"), (4, 5, "ORG")], [(0, 1, "PER")]] * 25
    pred = [[(0, 2, "PER")], [(2, 3, "LOC")], [(1, 3, "LOC")], []] * 25

    def entity_f1(gold_sets: np.ndarray, pred_sets: np.ndarray) -> float:
        tp = sum(len(set(g) & set(p)) for g, p in zip(gold_sets, pred_sets, strict=True))
        n_pred, n_gold = sum(map(len, pred_sets)), sum(map(len, gold_sets))
        return 2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0

    ci = bootstrap_ci((gold, pred), entity_f1, n_resamples=200, seed=0)
    assert ci.estimate == pytest.approx(2 * 50 / (75 + 100))
    assert 0 < ci.low < ci.estimate < ci.high < 1


def test_bad_input_is_a_clear_error():
    with pytest.raises(ShapeError, match=r"same length, got \[3, 4\]"):
        bootstrap_ci(([1, 2, 3], [1, 2, 3, 4]), lambda a, b: 0.0)
    with pytest.raises(ShapeError, match="no items to resample"):
        bootstrap_ci(np.array([]), np.mean)
    with pytest.raises(ValueRangeError, match=r"confidence must lie in \(0, 1\), got 95"):
        bootstrap_ci(np.ones(5), np.mean, confidence=95)
