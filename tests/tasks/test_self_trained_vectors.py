"""``model.embeddings = "skipgram"``: skip-gram vectors trained on the run's own training texts
(gensim), the same on every run with the same seed, copied into the embedding layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("gensim", reason="skip-gram vectors are trained with gensim")

from rnnlab.tasks.pretrained import init_embeddings, train_skipgram
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
