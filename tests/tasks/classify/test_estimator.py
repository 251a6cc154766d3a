"""TextClassifier on real movie-review snippets: it learns; its scikit-learn-shaped API holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pytest

from rnnlab.config import TrainConfig, setting
from rnnlab.errors import ConfigError, DataError
from rnnlab.tasks.classify.config import ClassifyRunConfig
from rnnlab.tasks.classify.estimator import TextClassifier, resolve_tokenizer
from rnnlab.text.tokenize import get_tokenizer
from rnnlab.threads import torch_threads

SMALL = {
    "embedding_dim": 32,
    "hidden_size": 32,
    "num_layers": 1,
    "epochs": 2,
    "max_len": 50,
    "batch_size": 32,
    "lr": 3e-3,
    "device": "cpu",
    "num_threads": 1,
}
N_TRAIN = 4000


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here on one torch thread."""


@pytest.fixture(scope="module")
def data(rotten_tomatoes):
    return rotten_tomatoes


@pytest.fixture(scope="module")
def fitted(data):
    """(classifier, what fit returned, the classifier's attributes before fit)."""
    with torch_threads(1):
        clf = TextClassifier(**SMALL)
        before = dict(vars(clf))
        returned = clf.fit(
            data.train.texts[:N_TRAIN],
            data.train.labels[:N_TRAIN],
            valid_texts=data.valid.texts,
            valid_labels=data.valid.labels,
        )
    return clf, returned, before


# --------------------------------------------------------------------------- learning


def test_test_accuracy_clearly_beats_the_majority_class(fitted, data):
    clf, _, _ = fitted
    majority = Counter(data.train.labels[:N_TRAIN]).most_common(1)[0][0]
    baseline = float(np.mean([label == majority for label in data.test.labels]))
    accuracy = clf.score(data.test.texts, data.test.labels)
    assert accuracy >= baseline + 0.1, f"accuracy {accuracy:.3f} vs majority {baseline:.3f}"
    history = clf.history_
    assert [r["epoch"] for r in history] == [1, 2]
    assert history[1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["valid_accuracy"] >= baseline + 0.05


# --------------------------------------------------------------------------- the API


def test_fit_returns_self_and_learns_only_trailing_underscore_attributes(fitted):
    clf, returned, before = fitted
    assert returned is clf
    assert before == {"config": None, "_params": SMALL}  # __init__ only stores
    assert clf.get_params() == {"config": None, **SMALL}  # fit keeps what the user passed
    learned = set(vars(clf)) - set(before)
    assert {"tokenizer_", "vocab_", "classes_", "model_", "history_"} <= learned
    assert all(name.endswith("_") for name in learned), sorted(learned)
    assert clf.classes_ == ["neg", "pos"]
    assert clf.config_.model.hidden_size == 32 and clf.config_.train.epochs == 2
    assert clf.config_.data.max_len == 50
    assert not clf.model_.training  # left ready for inference


def test_predict_proba_rows_are_distributions_with_columns_in_classes_order(fitted, data):
    clf, _, _ = fitted
    texts, labels = data.test.texts, data.test.labels
    probs = clf.predict_proba(texts)
    assert probs.shape == (len(texts), len(clf.classes_))
    assert (probs >= 0).all() and (probs <= 1).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # column k is the probability of classes_[k]: it is higher on the texts of that class
    for k, label in enumerate(clf.classes_):
        mine = probs[[y == label for y in labels], k].mean()
        other = probs[[y != label for y in labels], k].mean()
        assert mine > other + 0.1, (label, mine, other)


def test_predict_is_the_argmax_of_predict_proba_in_input_order(fitted, data):
    clf, _, _ = fitted
    texts = data.test.texts[:200]
    probs = clf.predict_proba(texts)
    predicted = clf.predict(texts)
    assert predicted == [clf.classes_[k] for k in probs.argmax(axis=1)]
    # input order, not length order: each text alone gives its own row
    for i in (0, 57, 199):
        np.testing.assert_allclose(clf.predict_proba([texts[i]])[0], probs[i], atol=1e-5)
    reversed_probs = clf.predict_proba(texts[::-1])
    np.testing.assert_allclose(reversed_probs[::-1], probs, atol=1e-5)
    assert clf.predict(texts[0]) == clf.predict([texts[0]])  # one string is one text


def test_score_is_the_accuracy_of_predict_and_agrees_with_evaluate(fitted, data):
    clf, _, _ = fitted
    texts, labels = data.test.texts, data.test.labels
    predicted = clf.predict(texts)
    expected = sum(p == y for p, y in zip(predicted, labels, strict=True)) / len(labels)
    assert clf.score(texts, labels) == pytest.approx(expected)
    metrics = clf.evaluate(texts, labels)
    assert metrics["accuracy"] == pytest.approx(expected, abs=2 / len(texts))
    assert metrics["support_neg"] + metrics["support_pos"] == len(texts)
    assert 0 < metrics["loss"] < np.log(2)  # better than a coin


def test_parameters_resolve_to_their_config_sections():
    config = TextClassifier(lr=0.01, hidden_size=8, max_len=7, **{"train.epochs": 4})
    resolved = config.resolved_config()
    assert resolved.train.lr == 0.01
    assert resolved.model.hidden_size == 8
    assert resolved.data.max_len == 7
    assert resolved.train.epochs == 4
    base = ClassifyRunConfig().merge({"model.cell": "lstm"})
    on_base = TextClassifier(base, hidden_size=8).resolved_config()
    assert on_base.model.cell == "lstm" and on_base.model.hidden_size == 8


# --------------------------------------------------------------------------- errors

TEXTS = ["a fine film", "a dull film", "great fun", "utterly boring"]
LABELS = ["pos", "neg", "pos", "neg"]


def test_unknown_parameter_is_an_error_at_fit():
    clf = TextClassifier(hiden_size=8)  # __init__ only stores, as in scikit-learn
    with pytest.raises(
        ConfigError, match=r"unknown parameter 'hiden_size'; did you mean 'hidden_size'\?"
    ):
        clf.fit(TEXTS, LABELS)
    with pytest.raises(ConfigError, match=r"Unknown config key 'model\.hiden_size'"):
        TextClassifier(**{"model.hiden_size": 8}).fit(TEXTS, LABELS)


def test_bad_parameter_value_names_the_config_key():
    with pytest.raises(ConfigError, match=r"'model\.hidden_size' must be an integer >= 1, got 0"):
        TextClassifier(hidden_size=0).fit(TEXTS, LABELS)


@dataclass(frozen=True)
class TrainWithDropout(TrainConfig):
    """A task's train section that also has a 'dropout' key, as model does."""

    dropout: float = setting(0.0, low=0, below=1)


@dataclass(frozen=True)
class RunWithTwoDropouts(ClassifyRunConfig):
    train: TrainWithDropout = field(default_factory=TrainWithDropout)


def test_a_name_in_two_sections_is_ambiguous_unless_dotted():
    # rnnlab's own sections share no key name; a task config extending one can.
    base = RunWithTwoDropouts()
    with pytest.raises(
        ConfigError,
        match=r"'dropout' is ambiguous; write one of 'model\.dropout', 'train\.dropout'",
    ):
        TextClassifier(base, dropout=0.1).fit(TEXTS, LABELS)
    resolved = TextClassifier(base, **{"train.dropout": 0.2}).resolved_config()
    assert (
        resolved.train.dropout == 0.2
        and resolved.model.dropout == ClassifyRunConfig().model.dropout
    )


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_predict_before_fit(method):
    with pytest.raises(ConfigError, match=r"not fitted yet; call fit\(texts, labels\) first"):
        getattr(TextClassifier(), method)(TEXTS)


def test_evaluate_score_and_save_before_fit(tmp_path):
    clf = TextClassifier()
    with pytest.raises(ConfigError, match="not fitted yet"):
        clf.evaluate(TEXTS, LABELS)
    with pytest.raises(ConfigError, match="not fitted yet"):
        clf.score(TEXTS, LABELS)
    with pytest.raises(ConfigError, match="not fitted yet"):
        clf.save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_a_single_class_cannot_be_learned():
    with pytest.raises(DataError, match=r"at least 2 classes, got only \['pos'\]"):
        TextClassifier(**SMALL).fit(TEXTS, ["pos"] * 4)


def test_texts_and_labels_must_have_the_same_length():
    with pytest.raises(DataError, match="must have the same length, got 4 texts and 3 labels"):
        TextClassifier(**SMALL).fit(TEXTS, LABELS[:3])


def test_unknown_label_at_evaluate(fitted, data):
    clf, _, _ = fitted
    with pytest.raises(DataError, match=r"Label 'meh' was not seen in training.*'neg', 'pos'"):
        clf.evaluate(data.test.texts[:3], ["neg", "meh", "pos"])


def test_unknown_label_in_validation_data_is_caught_before_training():
    with pytest.raises(DataError, match="Label 'meh' was not seen in training"):
        TextClassifier(**SMALL).fit(TEXTS, LABELS, valid_texts=["so so"], valid_labels=["meh"])


def test_text_classifier_is_reachable_from_the_top_level_package():
    import rnnlab
    from rnnlab.tasks.classify.estimator import TextClassifier

    assert rnnlab.TextClassifier is TextClassifier
    with pytest.raises(AttributeError, match="no attribute 'Classifier'"):
        _ = rnnlab.Classifier


def test_validation_texts_without_labels_are_refused():
    with pytest.raises(DataError, match=r"valid_texts and valid_labels go together"):
        TextClassifier(epochs=1).fit(TEXTS, LABELS, valid_texts=TEXTS)


def test_auto_tokenizer_keeps_digits_and_punctuation_of_english_text_unless_told_otherwise():
    review = "Great film, 9/10!"
    config = ClassifyRunConfig()
    resolved = resolve_tokenizer(config, [review])
    assert resolved.data.tokenizer == "english"
    assert resolved.data.tokenizer_options == {"keep_digits": True, "keep_punctuation": True}
    tokenizer = get_tokenizer(resolved.data.tokenizer, **resolved.data.tokenizer_options)
    assert tokenizer(review) == ["great", "film", ",", "9", "/", "10", "!"]
    told = config.merge({"data.tokenizer_options": {"keep_punctuation": False}})
    assert resolve_tokenizer(told, [review]).data.tokenizer_options == {
        "keep_digits": True,
        "keep_punctuation": False,
    }
    classic = config.merge({"data.tokenizer": "english"})  # letters only, as named
    assert resolve_tokenizer(classic, [review]) is classic
    chinese = resolve_tokenizer(config, ["这部电影很好看，九分！"])
    assert (chinese.data.tokenizer, chinese.data.tokenizer_options) == ("chinese", {})


def test_a_fitted_classifier_tokenises_as_auto_resolved(fitted):
    clf, _, _ = fitted
    assert clf.tokenizer_.name == "english"
    assert dict(clf.tokenizer_.options) == {"keep_digits": True, "keep_punctuation": True}
    assert "!" in clf.vocab_.itos and "," in clf.vocab_.itos
