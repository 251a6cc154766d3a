"""Splits of a user's own file that do not flatter: copies stay on one side, and small or
leaky validation and test sets are named (issue: 300 rows with 30 copies scored 1.00)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from rnnlab.data.splits import duplicate_groups, grouped_holdout, holdout, normalized_text
from rnnlab.evaluate.comparison import caution_sentences
from rnnlab.tasks.classify.config import DataConfig
from rnnlab.tasks.classify.data import SMALL_SPLIT, load_splits
from rnnlab.tasks.repeats import stratified_folds


def _write_csv(path: Path, texts: list[str], labels: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return path


def _with_copies(rotten_tomatoes, n: int = 270, copies: int = 30) -> tuple[list[str], list]:
    """``n`` real reviews plus ``copies`` re-typed copies of some of them (case, spacing)."""
    texts = list(rotten_tomatoes.train.texts[:n])
    labels = list(rotten_tomatoes.train.labels[:n])
    for i in range(copies):
        j = (i * 7) % n
        texts.append("  " + texts[j].upper().replace(" ", "   ") + " ")
        labels.append(labels[j])
    return texts, [str(label) for label in labels]


def test_normalized_text_folds_case_and_spacing():
    assert normalized_text("  A  good\tfilm \n") == normalized_text("a good film")
    assert normalized_text("a good film") != normalized_text("a good film!")


def test_copies_never_straddle_the_holdout(rotten_tomatoes):
    texts, labels = _with_copies(rotten_tomatoes)
    split = grouped_holdout(labels, texts, 0.1, seed=3)
    assert split.duplicates == 30
    assert sorted(split.kept + split.held) == list(range(len(texts)))
    kept = {normalized_text(texts[i]) for i in split.kept}
    assert not any(normalized_text(texts[i]) in kept for i in split.held)
    # the plain holdout, which this replaces, lets copies straddle on the same data
    plain_kept, plain_held = holdout(labels, 0.1, seed=3)
    plain = {normalized_text(texts[i]) for i in plain_kept}
    assert any(normalized_text(texts[i]) in plain for i in plain_held)


def test_without_copies_the_split_is_unchanged(rotten_tomatoes):
    texts = list(rotten_tomatoes.train.texts[:500])
    labels = list(rotten_tomatoes.train.labels[:500])
    split = grouped_holdout(labels, texts, 0.1, seed=1)
    assert (split.kept, split.held) == holdout(labels, 0.1, seed=1)
    assert stratified_folds(labels, 5, 1, texts) == stratified_folds(labels, 5, 1)


def test_folds_keep_copies_together_and_stay_stratified(rotten_tomatoes):
    texts, labels = _with_copies(rotten_tomatoes)
    folds = stratified_folds(labels, 5, seed=0, texts=texts)
    where = {i: k for k, fold in enumerate(folds) for i in fold}
    groups = duplicate_groups(texts)
    for group in groups:
        assert len({where[i] for i in group}) == 1
    sizes = [len(fold) for fold in folds]  # groups dealt evenly; a group holds ≤ 2 texts
    assert max(sizes) - min(sizes) <= 2 * max(len(g) for g in groups)
    shares = [Counter(labels[i] for i in fold)["1"] / len(fold) for fold in folds]
    assert max(shares) - min(shares) < 0.1


def test_load_splits_names_copies_and_small_sets(tmp_path, rotten_tomatoes):
    texts, labels = _with_copies(rotten_tomatoes)
    path = _write_csv(tmp_path / "opinions.csv", texts, labels)
    splits = load_splits(DataConfig(data=str(path)), seed=0)
    train = {normalized_text(t) for t in splits.train.texts}
    assert not any(normalized_text(t) in train for t in splits.valid.texts)
    assert len(splits.valid) < SMALL_SPLIT
    notes = " ".join(splits.notes)
    assert "30 texts of" in notes and "kept in one split" in notes
    assert f"the validation set holds only {len(splits.valid)} texts" in notes
    assert "--folds 5" in notes


def test_texts_shared_between_given_files_are_named(tmp_path, rotten_tomatoes):
    texts = list(rotten_tomatoes.train.texts[:200])
    labels = [str(label) for label in rotten_tomatoes.train.labels[:200]]
    train = _write_csv(tmp_path / "train.csv", texts, labels)
    valid = _write_csv(
        tmp_path / "valid.csv", texts[:5] + texts[-55:-5], labels[:5] + labels[-55:-5]
    )
    fresh = list(rotten_tomatoes.valid.texts[:60])
    test = _write_csv(
        tmp_path / "test.csv", fresh, [str(x) for x in rotten_tomatoes.valid.labels[:60]]
    )
    splits = load_splits(DataConfig(data=str(train), valid=str(valid), test=str(test)), seed=0)
    assert len(splits.notes) == 1, splits.notes
    assert splits.notes[0].startswith("55 of the 55 validation texts")


def test_a_class_too_small_to_score_is_named(tmp_path, rotten_tomatoes):
    texts = list(rotten_tomatoes.valid.texts[:100])
    labels = ["common"] * 97 + ["rare"] * 3
    train = _write_csv(tmp_path / "train.csv", list(rotten_tomatoes.train.texts[:300]),
                       ["common", "rare"] * 150)  # fmt: skip
    test = _write_csv(tmp_path / "test.csv", texts, labels)
    splits = load_splits(DataConfig(data=str(train), test=str(test)), seed=0)
    assert any("test set holds only 100 texts; class 'rare' has 3" in n for n in splits.notes)


def test_a_model_no_better_than_the_majority_class_says_so():
    metrics = {
        "accuracy": 0.6,
        "baseline_majority_accuracy": 0.6,
        "baseline_majority_label": "pos",
        "data_notes": ["the test set holds only 9 texts"],
    }
    sentences = caution_sentences(metrics)
    assert sentences[0] == "The test set holds only 9 texts"
    assert "no better than always answering 'pos'" in sentences[1]
    assert caution_sentences({**metrics, "accuracy": 0.61, "data_notes": []}) == []
