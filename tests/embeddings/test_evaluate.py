from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gensim.test.utils import datapath

import rnnlab.embeddings as emb


@pytest.fixture(scope="module")
def glove():
    full = emb.load("glove-6b-50d")
    return emb.Vectors(full.words[:40_000], full.matrix[:40_000])


def test_analogies_match_gensim(glove, tmp_path):
    # every 10th question of each section: gensim answers one question at a time (slow)
    lines = Path(datapath("questions-words.txt")).read_text(encoding="utf-8").splitlines()
    sample = [x for i, x in enumerate(lines) if x.startswith(": ") or i % 10 == 0]
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(sample) + "\n", encoding="utf-8")
    ours = emb.evaluate_analogies(glove, questions, restrict_vocab=30_000)
    score, sections = glove.to_gensim().evaluate_word_analogies(
        str(questions), restrict_vocab=30_000
    )
    assert ours.accuracy == pytest.approx(score, abs=1e-12)
    theirs = {
        s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"]))
        for s in sections
        if s["section"] != "Total accuracy"
    }
    assert ours.sections == theirs
    assert ours.accuracy > 0.4


@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
def test_similarity_matches_gensim(glove, name):
    ours = emb.evaluate_similarity(glove, datapath(name))
    _, spearman, oov = glove.to_gensim().evaluate_word_pairs(datapath(name))
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-6)
    assert 100 * ours.oov_ratio == pytest.approx(oov, abs=1e-9)


def test_weat_constructed_effect():
    rng = np.random.default_rng(0)
    dim = 20
    pleasant, unpleasant = np.eye(dim)[0], np.eye(dim)[1]
    words, rows = [], []
    for name, base in [("x", pleasant), ("y", unpleasant), ("a", pleasant), ("b", unpleasant)]:
        for i in range(6):
            words.append(f"{name}{i}")
            rows.append(base + 0.3 * rng.normal(size=dim))
    vecs = emb.Vectors(words, np.array(rows))
    sets = [[f"{n}{i}" for i in range(6)] for n in "xyab"]
    res = emb.weat(vecs, *sets)
    assert res.effect_size > 1.5 and res.exact and res.p_value < 0.01
    assert res.permutations == 924
    flipped = emb.weat(vecs, sets[1], sets[0], sets[2], sets[3])
    assert flipped.effect_size == pytest.approx(-res.effect_size)
    assert flipped.p_value > 0.99
    null = emb.weat(vecs, sets[0][:3] + sets[1][:3], sets[0][3:] + sets[1][3:], *sets[2:])
    assert abs(null.effect_size) < 1.0 and null.p_value > 0.05
