"""``model.embeddings = "skipgram"``: skip-gram vectors trained on the run's own training texts
(gensim), the same on every run with the same seed, copied into the embedding layer."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("gensim", reason="skip-gram vectors are trained with gensim")

from rnnlab.tasks.pretrained import init_embeddings, train_skipgram, vectors_source
from rnnlab.text.tokenize import Tokenizer
from rnnlab.text.vocab import Vocab

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(rotten_tomatoes):
    tokens = Tokenizer("english").tokenize_many(rotten_tomatoes.train.texts[:3000])
    return tokens, Vocab.build(tokens, min_count=2)


def test_vectors_equal_gensim_word2vec_and_are_the_same_in_another_process(corpus, tmp_path):
    from gensim.models import Word2Vec

    from rnnlab.tasks.pretrained import _stable_hash

    tokens, vocab = corpus
    vectors = train_skipgram(tokens, 24, vocab, seed=3)
    known = set(vocab.itos)
    reference = Word2Vec(
        sentences=[s for s in ([t for t in d if t in known] for d in tokens) if s],
        vector_size=24, window=5, min_count=1, sg=1, negative=5, epochs=5, workers=1, seed=3,
        hashfxn=_stable_hash,
    )  # fmt: skip
    assert vectors.words == list(reference.wv.index_to_key)
    np.testing.assert_array_equal(vectors.matrix, reference.wv.vectors)
    # Python's str hash changes between processes; the vectors must not.
    code = (
        "import sys, numpy as np\n"
        "from rnnlab.data import datasets\n"
        "from rnnlab.tasks.pretrained import train_skipgram\n"
        "from rnnlab.text.tokenize import Tokenizer\n"
        "from rnnlab.text.vocab import Vocab\n"
        "t = Tokenizer('english').tokenize_many(datasets.load('rotten_tomatoes', seed=0)"
        ".train.texts[:3000])\n"
        "v = train_skipgram(t, 24, Vocab.build(t, min_count=2), seed=3)\n"
        "np.save(sys.argv[1], v.matrix)\n"
    )
    out = tmp_path / "m.npy"
    subprocess.run([sys.executable, "-c", code, str(out)], cwd=ROOT, check=True)
    np.testing.assert_array_equal(np.load(out), vectors.matrix)


def test_init_copies_the_trained_vectors_into_the_layer(corpus):
    tokens, vocab = corpus
    layer = torch.nn.Embedding(len(vocab), 24, padding_idx=vocab.pad_id)
    coverage = init_embeddings(layer, "skipgram", vocab, freeze=False, seed=3, corpus=tokens)
    vectors = train_skipgram(tokens, 24, vocab, seed=3)
    assert coverage > 0.99  # every vocabulary word occurs in the training texts
    row = vocab.token_to_id("film")
    np.testing.assert_allclose(
        layer.weight[row].detach().numpy(), vectors.matrix[vectors.words.index("film")]
    )
    assert torch.all(layer.weight[vocab.pad_id] == 0)


def test_auto_is_skipgram_with_gensim_and_a_random_start_without(monkeypatch, caplog):
    from rnnlab.tasks.classify.config import ClassifyRunConfig
    from rnnlab.tasks.tag.config import TagRunConfig

    assert ClassifyRunConfig().model.embeddings == "auto"  # the classifier's default
    assert TagRunConfig().model.embeddings == ""  # not measured for tagging: opt-in there
    assert vectors_source("auto") == "skipgram"
    assert vectors_source("none") == vectors_source("") == ""
    assert vectors_source("glove-6b-50d") == "glove-6b-50d"
    monkeypatch.setitem(sys.modules, "gensim", None)  # as if it were not installed
    with caplog.at_level(logging.WARNING, logger="rnnlab"):
        assert vectors_source("auto") == ""
    assert "gensim is not installed" in caplog.text


def test_the_default_classifier_starts_from_skipgram_vectors_and_none_from_random(
    rotten_tomatoes,
):
    from rnnlab.tasks.classify.estimator import TextClassifier

    texts, labels = rotten_tomatoes.train.texts[:600], rotten_tomatoes.train.labels[:600]
    small = {"embedding_dim": 16, "hidden_size": 8, "num_layers": 1, "epochs": 1,
             "max_len": 30, "device": "cpu", "num_threads": 1}  # fmt: skip
    default = TextClassifier(**small, freeze_embeddings=True).fit(texts, labels)
    assert default.embedding_coverage_ > 0.99 and default.embedding_source_ == "skipgram"
    tokens = default.tokenizer_.tokenize_many(texts)
    vectors = train_skipgram(tokens, 16, default.vocab_, seed=default.config_.train.seed)
    row = default.vocab_.token_to_id("film")
    weight = default.model_.encoder.embedding.weight.detach().numpy()
    # Frozen: the layer still holds the vectors it started from.
    np.testing.assert_allclose(weight[row], vectors.matrix[vectors.words.index("film")])
    random_start = TextClassifier(**small, embeddings="none").fit(texts, labels)
    assert random_start.embedding_coverage_ is None and random_start.embedding_source_ is None
    other = random_start.model_.encoder.embedding.weight.detach().numpy()[row]
    assert not np.allclose(other, vectors.matrix[vectors.words.index("film")], atol=1e-2)


def test_a_resumed_run_does_not_train_the_vectors_again(rotten_tomatoes, tmp_path, monkeypatch):
    import rnnlab.tasks.pretrained as pretrained
    from rnnlab.tasks.classify.estimator import TextClassifier

    texts, labels = rotten_tomatoes.train.texts[:400], rotten_tomatoes.train.labels[:400]
    small = {"embedding_dim": 16, "hidden_size": 8, "num_layers": 1, "epochs": 1,
             "max_len": 30, "device": "cpu", "num_threads": 1,
             "freeze_embeddings": True}  # fmt: skip
    first = TextClassifier(**small).fit(texts, labels, run_dir=tmp_path)
    weights = first.model_.encoder.embedding.weight.detach().clone()

    def refuse(*args, **kwargs):
        raise AssertionError("the vectors were trained again on resume")

    monkeypatch.setattr(pretrained, "train_skipgram", refuse)
    again = TextClassifier(**small).fit(texts, labels, run_dir=tmp_path, resume=True)
    assert again.embedding_coverage_ == first.embedding_coverage_ > 0.99
    assert again.embedding_source_ == "skipgram"
    assert not again.model_.encoder.embedding.weight.requires_grad  # still frozen
    assert torch.equal(again.model_.encoder.embedding.weight, weights)
    # A run started afresh in the same place trains them (and so calls gensim) again.
    with pytest.raises(AssertionError, match="trained again"):
        TextClassifier(**small).fit(texts, labels, run_dir=tmp_path)


def test_a_corpus_without_vocabulary_words_leaves_the_random_start(corpus):
    _, vocab = corpus
    layer = torch.nn.Embedding(len(vocab), 8, padding_idx=vocab.pad_id)
    before = layer.weight.detach().clone()
    coverage = init_embeddings(layer, "skipgram", vocab, freeze=False, corpus=[["zzqx"], []])
    assert coverage == 0.0
    assert torch.equal(layer.weight, before)
