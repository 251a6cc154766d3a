"""``TimeSeriesClassifier``, the scikit-learn-shaped series classifier, on UCR GunPoint
(sktime's copy): fit / predict / predict_proba / score, the parameter protocol, the same
model as ``rnnlab train classify-series``, save → load, and bad input in one sentence."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rnnlab
from rnnlab.data.ucr import load_ucr
from rnnlab.errors import ConfigError, DataError
from rnnlab.tasks.base import get_task
from rnnlab.tasks.classify_series.config import SeriesClassifyRunConfig
from rnnlab.tasks.classify_series.estimator import TimeSeriesClassifier
from rnnlab.tasks.classify_series.predictor import SeriesPredictor
from rnnlab.threads import torch_threads

pytest.importorskip("sktime", reason="the UCR sets ship inside sktime")

TINY = {"hidden_size": 4, "epochs": 2, "device": "cpu", "num_threads": 1, "seed": 0}


@pytest.fixture(scope="module")
def gunpoint():
    return load_ucr("gunpoint", "TRAIN"), load_ucr("gunpoint", "TEST")


@pytest.fixture(scope="module")
def clf(gunpoint) -> TimeSeriesClassifier:
    train, _ = gunpoint
    with torch_threads(1):
        return TimeSeriesClassifier(**TINY).fit(train.values, train.labels)


def test_fit_predict_and_score(clf, gunpoint):
    _, test = gunpoint
    assert clf.classes_ == sorted(set(test.labels))
    assert clf.config_.train.monitor == "train_loss" and len(clf.history_) == 2
    probs = clf.predict_proba(test.values)
    assert probs.shape == (len(test.labels), 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    predicted = clf.predict(test.values)
    assert predicted == [clf.classes_[k] for k in probs.argmax(axis=1)]
    accuracy = float(np.mean(np.array(predicted) == np.array(test.labels)))
    assert clf.score(test.values, test.labels) == accuracy
    assert clf.predict(test.values.tolist()[:5]) == predicted[:5]  # rows of numbers work too


def test_the_estimator_trains_the_model_of_the_run_workflow(clf, gunpoint, tmp_path):
    _, test = gunpoint
    task = get_task("classify_series")
    config = task.config_type().merge(
        {"data.data": "gunpoint", "model.hidden_size": 4, "train.epochs": 2,
         "train.device": "cpu", "train.num_threads": 1, "train.seed": 0}
    )  # fmt: skip
    with torch_threads(1):
        task.train(config, tmp_path / "run")
    from_run = rnnlab.load(tmp_path / "run").predict_proba(test.values)
    np.testing.assert_array_equal(from_run, clf.predict_proba(test.values))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["evaluated_on"] == "test" and metrics["best_epoch"] == clf.fit_result_.best_epoch
    assert metrics["accuracy"] == clf.score(test.values, test.labels)
    # a later evaluation writes its own predictions beside its metrics
    found = rnnlab.evaluate_run(tmp_path / "run", "gunpoint", name="again")
    assert (found.directory / "analysis" / "predictions.csv").is_file()
    assert found.metrics["accuracy"] == metrics["accuracy"]


def test_save_load_gives_the_same_probabilities(clf, gunpoint, tmp_path):
    _, test = gunpoint
    loaded = rnnlab.load(clf.save(tmp_path / "gp.safetensors"))
    assert isinstance(loaded, SeriesPredictor) and loaded.labels == clf.classes_
    np.testing.assert_array_equal(loaded.predict_proba(test.values), clf.predict_proba(test.values))


def test_parameters_follow_the_scikit_learn_protocol():
    sklearn_base = pytest.importorskip("sklearn.base")
    clf = TimeSeriesClassifier(hidden_size=8, lr=3e-3)
    assert sklearn_base.is_classifier(clf)
    assert clf.get_params() == {"config": None, "hidden_size": 8, "lr": 3e-3}
    resolved = sklearn_base.clone(clf.set_params(epochs=3)).resolved_config()
    assert isinstance(resolved, SeriesClassifyRunConfig)
    assert (resolved.model.hidden_size, resolved.train.lr, resolved.train.epochs) == (8, 3e-3, 3)
    with pytest.raises(ConfigError, match=r"is not fitted yet; call fit\(X, y\)"):
        TimeSeriesClassifier().predict([[1.0, 2.0]])


def test_bad_input_is_one_sentence(gunpoint):
    train, _ = gunpoint
    with pytest.raises(DataError, match=r"give every series the same number of values"):
        TimeSeriesClassifier(**TINY).fit([[1.0, 2.0], [1.0]], ["a", "b"])
    with pytest.raises(DataError, match=r"missing or infinite values"):
        TimeSeriesClassifier(**TINY).fit([[1.0, np.nan], [1.0, 2.0]], ["a", "b"])
    with pytest.raises(DataError, match=r"X holds 2 series but y 1 labels"):
        TimeSeriesClassifier(**TINY).fit([[1.0, 2.0], [2.0, 1.0]], ["a"])
    with pytest.raises(DataError, match=r"at least two classes"):
        TimeSeriesClassifier(**TINY).fit(train.values[:4], ["1"] * 4)
