from __future__ import annotations

import pytest

import rnnlab.embeddings as emb
from rnnlab.errors import ConfigError, DataError


def test_skipgram_quality_on_imdb(imdb_file, tmp_path):
    result = emb.train(
        imdb_file, "skipgram", vector_size=50, epochs=3, workers=1, seed=0, out=tmp_path / "sg"
    )
    near = {w for w, _ in emb.load(tmp_path / "sg").most_similar("good", topn=20)}
    assert near & {"great", "excellent", "decent", "nice", "fine"}
    assert result.vectors.metadata["params"]["tokenizer"]["name"] == "english"
    assert result.stats["tokens"] > 400_000


def test_fasttext_gives_unseen_words_vectors(imdb_file, tmp_path):
    result = emb.train(
        imdb_file,
        "fasttext",
        vector_size=20,
        epochs=1,
        workers=1,
        bucket=10_000,
        out=tmp_path / "ft",
    )
    back = emb.load(tmp_path / "ft")
    assert "goodishness" not in back and back["goodishness"].shape == (20,)
    assert (back["goodishness"] == result.vectors["goodishness"]).all()


def test_glove_trains_and_saves(imdb_file, tmp_path):
    result = emb.train(
        imdb_file, "glove", vector_size=20, epochs=2, min_count=20, workers=1, out=tmp_path / "g"
    )
    assert result.model.losses[1] < result.model.losses[0]
    assert emb.load(tmp_path / "g").words == result.vectors.words


def test_chinese_corpus(tmp_path):
    corpus = tmp_path / "zh.txt"
    corpus.write_text("我们喜欢这个电影\n这个电影很好看\n我们不喜欢\n" * 30, encoding="utf-8")
    result = emb.train(corpus, "cbow", vector_size=8, min_count=2, epochs=1, workers=1)
    assert result.vectors.metadata["params"]["tokenizer"]["name"] == "chinese"
    assert "电影" in result.vectors


def test_bad_input(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(DataError, match="got no tokens"):
        emb.train(empty, "skipgram", out=tmp_path / "out")
    small = tmp_path / "small.txt"
    small.write_text("one two three\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"no word of corpus .* occurs 5 times"):
        emb.train(small, "glove", out=tmp_path / "out")
    with pytest.raises(ConfigError, match="method: expected one of"):
        emb.train(small, "lsa")
    with pytest.raises(ConfigError, match="Unknown embedding option 'dims'"):
        emb.train(small, "cbow", dims=3)
    with pytest.raises(ConfigError, match="x_max: not used by --method skipgram"):
        emb.train(small, "skipgram", x_max=10.0)
    assert not (tmp_path / "out").exists()


def test_seeds_report(imdb_file):
    report = emb.train_seeds(
        imdb_file,
        2,
        words=["good", "zzzz"],
        method="cbow",
        vector_size=20,
        epochs=1,
        workers=1,
        min_count=10,
    )
    assert report.seeds == [0, 1]
    assert set(report.summary) == {"analogy", "wordsim353", "simlex999"}
    assert 0.0 <= report.stability["good"] <= 1.0 and report.stability["zzzz"] is None


def test_glove_vectors_are_meaningful_on_real_text(imdb_file, tmp_path):
    """Real IMDB text: GloVe puts related adjectives among the neighbours of 'good'."""
    result = emb.train(
        imdb_file, "glove", vector_size=50, epochs=10, min_count=10, workers=1, out=tmp_path / "g"
    )
    near = {w for w, _ in result.vectors.most_similar("good", topn=20)}
    assert near & {"great", "excellent", "decent", "nice", "fine", "bad"}
