from __future__ import annotations

import numpy as np
import pytest

import rnnlab.embeddings as emb
from rnnlab.errors import DataError, RnnlabFileNotFoundError


@pytest.mark.parametrize("fmt", ["rnnlab", "word2vec", "word2vec-binary", "glove"])
def test_round_trip_all_formats(tmp_path, small_vectors, fmt):
    path = tmp_path / ("vecs" if fmt == "rnnlab" else f"vecs.{fmt}")
    emb.save(small_vectors, path, fmt)
    assert emb.detect_format(path) == fmt
    back = emb.load(path)
    assert back.words == small_vectors.words
    np.testing.assert_allclose(back.matrix, small_vectors.matrix, rtol=1e-5, atol=1e-6)
    if fmt == "rnnlab":
        assert back.counts.tolist() == small_vectors.counts.tolist()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


@pytest.mark.parametrize("fmt,binary", [("word2vec", False), ("word2vec-binary", True)])
def test_files_interoperate_with_gensim(tmp_path, small_vectors, fmt, binary):
    from gensim.models import KeyedVectors

    ours = tmp_path / "ours"
    emb.save(small_vectors, ours, fmt)
    kv = KeyedVectors.load_word2vec_format(str(ours), binary=binary)
    assert list(kv.index_to_key) == small_vectors.words
    np.testing.assert_allclose(kv.vectors, small_vectors.matrix, rtol=1e-5, atol=1e-6)
    theirs = tmp_path / "theirs"
    small_vectors.to_gensim().save_word2vec_format(str(theirs), binary=binary)
    back = emb.load(theirs)
    assert back.words == small_vectors.words
    np.testing.assert_allclose(back.matrix, small_vectors.matrix, rtol=1e-5, atol=1e-6)


def test_malformed_line_is_named(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2 3\nb 1 2\nc 1 2 3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt line 2: expected a word and 3 numbers"):
        emb.load(bad)
    bad.write_text("2 2\na 1 2\nb 1 x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 3: expected 2 numbers .* got 'x'"):
        emb.load(bad)
    with pytest.raises(RnnlabFileNotFoundError):
        emb.load(tmp_path / "missing.txt")


def test_pretrained_glove_by_name():
    vecs = emb.load("glove-6b-50d")
    assert len(vecs) == 400_000 and vecs.dim == 50
    assert vecs.words[:3] == ["the", ",", "."]
    assert "queen" in {w for w, _ in vecs.most_similar("king", topn=10)}
