"""Deduplication and the stratified split, on small hand-made corpora."""

from __future__ import annotations

from collections import Counter

import pytest

from rnnlab.data import deduplicate, stratified_split
from rnnlab.data.splits import fraction_sizes
from rnnlab.errors import ValueRangeError


def test_deduplicate_keeps_first_copy_and_drops_conflicts():
    texts = ["a", "b", "a", "c", "b", "a", "d"]
    labels = [1, 0, 1, 1, 1, 1, 0]  # "b" appears with labels 0 and 1
    result = deduplicate(texts, labels)
    assert result.indices == [0, 3, 6]
    assert result.duplicates == 2  # two extra copies of "a"
    assert result.conflicting == 1


def test_split_sizes_are_exact_and_stratified():
    labels = ["pos"] * 70 + ["neg"] * 30
    train, valid, test = stratified_split(labels, 10, 20, seed=3)
    assert (len(train), len(valid), len(test)) == (70, 10, 20)
    assert Counter(labels[i] for i in valid) == {"pos": 7, "neg": 3}
    assert Counter(labels[i] for i in test) == {"pos": 14, "neg": 6}
    assert sorted(train + valid + test) == list(range(100))


def test_split_rounds_by_largest_remainder():
    labels = ["a"] * 5 + ["b"] * 3 + ["c"] * 2
    _, valid, _ = stratified_split(labels, 3, 0, seed=0)
    # quotas 1.5, 0.9, 0.6: floors 1, 0, 0 and the two largest remainders get one more
    assert Counter(labels[i] for i in valid) == {"a": 1, "b": 1, "c": 1}


def test_split_is_deterministic_per_seed():
    labels = [i % 3 for i in range(300)]
    assert stratified_split(labels, 30, 30, seed=1) == stratified_split(labels, 30, 30, seed=1)
    assert stratified_split(labels, 30, 30, seed=1) != stratified_split(labels, 30, 30, seed=2)


def test_split_too_large():
    with pytest.raises(ValueRangeError, match=r"cannot take 6 validation and 5 test items from 10"):
        stratified_split([0, 1] * 5, 6, 5)


def test_fraction_sizes():
    assert fraction_sizes(8530, 0.1, 0.1) == (853, 853)
    with pytest.raises(ValueRangeError, match=r"must leave some training data"):
        fraction_sizes(10, 0.5, 0.5)
    with pytest.raises(ValueRangeError, match=r"test fraction must lie in \[0, 1\), got -0.1"):
        fraction_sizes(10, 0.1, -0.1)
