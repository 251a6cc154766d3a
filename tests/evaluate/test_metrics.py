"""Classification metrics against scikit-learn's published implementation."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.evaluate import classification_metrics, confusion_matrix

sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is not installed")


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("num_classes", [2, 3, 7])
def test_metrics_match_sklearn(seed, num_classes):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, num_classes, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, num_classes, 200))
    labels = [f"c{k}" for k in range(num_classes)]
    ours = classification_metrics(y_true, y_pred, labels)
    ks = list(range(num_classes))
    assert ours["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(y_true, y_pred))
    for average in ("macro", "weighted"):
        expected = sklearn_metrics.f1_score(
            y_true, y_pred, labels=ks, average=average, zero_division=0
        )
        assert ours[f"{average}_f1"] == pytest.approx(expected)
    p, r, f, s = sklearn_metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=ks, zero_division=0
    )
    for k, label in enumerate(labels):
        assert ours[f"precision_{label}"] == pytest.approx(p[k])
        assert ours[f"recall_{label}"] == pytest.approx(r[k])
        assert ours[f"f1_{label}"] == pytest.approx(f[k])
        assert ours[f"support_{label}"] == s[k]
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, num_classes),
        sklearn_metrics.confusion_matrix(y_true, y_pred, labels=ks),
    )


def test_class_never_predicted_gets_zero_precision():
    ours = classification_metrics([0, 0, 1, 2], [0, 0, 0, 0], ["a", "b", "c"])
    assert ours["precision_b"] == 0.0 and ours["recall_b"] == 0.0 and ours["f1_b"] == 0.0
    assert ours["macro_f1"] == pytest.approx(
        sklearn_metrics.f1_score([0, 0, 1, 2], [0, 0, 0, 0], average="macro", zero_division=0)
    )
