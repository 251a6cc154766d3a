"""Label-set checks: at least two classes to train, no unseen labels to evaluate."""

from __future__ import annotations

import pytest

from rnnlab.data import check_classes, check_known_labels
from rnnlab.data.labels import sorted_labels
from rnnlab.errors import DataError


def test_check_classes_returns_sorted_classes():
    assert check_classes(["pos", "neg", "pos"], "a.csv") == ["neg", "pos"]
    assert check_classes([2, 0, 1, 0], "a.csv") == [0, 1, 2]


def test_single_class():
    with pytest.raises(
        DataError,
        match=r"train\.csv: all 3 rows have the label 'pos', but a classifier needs at least 2 "
        r"classes; check --label-col, or add examples of the other classes",
    ):
        check_classes(["pos", "pos", "pos"], "train.csv")


def test_no_labels():
    with pytest.raises(DataError, match=r"a\.csv: no labelled rows"):
        check_classes([], "a.csv")


def test_known_labels_pass():
    check_known_labels(["neg", "pos"], ["pos", "neg", "neutral"], "test.csv")


def test_unknown_label_names_label_row_and_known_set():
    with pytest.raises(
        DataError,
        match=r"test\.csv row 12: label 'neutral' is not one the model was trained on "
        r"\(known: 'neg', 'pos'\); 2 rows carry unknown labels 'meh', 'neutral' "
        r"\(rows 12 and 14\) — evaluate on data with the model's label set, or check --label-col",
    ):
        check_known_labels(
            ["pos", "neutral", "neg", "meh"], {"neg", "pos"}, "test.csv", [11, 12, 13, 14]
        )


def test_unknown_label_default_rows_count_from_one():
    with pytest.raises(DataError, match=r"t\.csv row 2: label 'x'"):
        check_known_labels(["a", "x"], ["a"], "t.csv")


def test_unknown_label_int_versus_text_hint():
    with pytest.raises(
        DataError,
        match=r"label '1' is not one .*\(known: 0, 1\) \(it is written as str here but the "
        r"model's labels are int\)",
    ):
        check_known_labels(["1"], [0, 1], "t.jsonl")


def test_sorted_labels_mixed_types():
    assert sorted_labels(["b", 2, "a", 1, 2]) == [1, 2, "a", "b"]
