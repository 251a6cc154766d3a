from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.embeddings import Vectors, embedding_matrix
from rnnlab.errors import ShapeError
from rnnlab.text.vocab import Vocab


def test_embedding_matrix_sets_exactly_covered_rows():
    vecs = Vectors(["good", "bad", "film"], np.arange(12, dtype=np.float32).reshape(3, 4) + 1)
    vocab = Vocab(["bad", "movie", "Good", "film"], oov_buckets=2)
    m, covered, coverage = embedding_matrix(vecs, vocab)
    assert m.shape == (len(vocab), 4)
    assert covered.tolist() == [False, False, False, True, False, False, True, False, False]
    assert coverage == pytest.approx(2 / 4)
    assert torch.equal(m[vocab.token_to_id("bad")], torch.tensor(vecs["bad"]))
    assert torch.equal(m[vocab.token_to_id("film")], torch.tensor(vecs["film"]))
    assert torch.count_nonzero(m[0]) == 0  # <pad>
    assert torch.count_nonzero(m[vocab.token_to_id("movie")]) == 4
    m2, _, coverage2 = embedding_matrix(vecs, vocab, lowercase_fallback=True)
    assert torch.equal(m2[vocab.token_to_id("Good")], torch.tensor(vecs["good"]))
    assert coverage2 == pytest.approx(3 / 4)


def test_dimension_mismatch_is_clear():
    vecs = Vectors(["a"], np.ones((1, 5)))
    with pytest.raises(
        ShapeError, match="expects 8-dimensional embeddings, but the vectors have 5"
    ):
        embedding_matrix(vecs, Vocab(["a"]), embedding_dim=8)
