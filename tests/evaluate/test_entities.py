"""Entity precision / recall / F1 against seqeval (conlleval's rules) and token accuracy."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from rnnlab.errors import ShapeError
from rnnlab.evaluate.entities import (
    entities,
    entity_metrics,
    sentence_counts,
    tagging_intervals,
    token_accuracy,
)

seqeval_metrics = pytest.importorskip("seqeval.metrics")
from seqeval.metrics.sequence_labeling import get_entities  # noqa: E402

TAGS = ["O", "O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "I-X"]


def seqeval_numbers(y_true, y_pred) -> dict:
    """seqeval's overall (micro) and per-type numbers, in entity_metrics' keys."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined-metric and "not a NE tag" warnings
        report = seqeval_metrics.classification_report(
            y_true, y_pred, output_dict=True, zero_division=0
        )
        out = {
            "precision": seqeval_metrics.precision_score(y_true, y_pred, zero_division=0),
            "recall": seqeval_metrics.recall_score(y_true, y_pred, zero_division=0),
            "f1": seqeval_metrics.f1_score(y_true, y_pred, zero_division=0),
        }
    for kind, row in report.items():
        if kind.endswith(" avg"):
            continue
        out[f"precision_{kind}"] = row["precision"]
        out[f"recall_{kind}"] = row["recall"]
        out[f"f1_{kind}"] = row["f1-score"]
        out[f"support_{kind}"] = row["support"]
    return out


def assert_same_as_seqeval(y_true, y_pred) -> None:
    ours = entity_metrics(y_true, y_pred)
    theirs = seqeval_numbers(y_true, y_pred)
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, abs=1e-12), key
    per_type = {k for k in ours if k.startswith(("precision_", "recall_", "f1_", "support_"))}
    assert per_type == {k for k in theirs if "_" in k}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert entities(y_true) == get_entities([list(s) for s in y_true])


def random_sentences(rng: random.Random, n: int) -> list[list[str]]:
    return [[rng.choice(TAGS) for _ in range(rng.randrange(0, 8))] for _ in range(n)]


@pytest.mark.parametrize("seed", range(30))
def test_random_tags_match_seqeval(seed):
    """Arbitrary (often malformed) BIO/BIOES mixtures, as a weak tagger produces."""
    rng = random.Random(seed)
    y_true = random_sentences(rng, rng.randrange(1, 12))
    y_pred = [[rng.choice(TAGS) for _ in s] for s in y_true]
    assert_same_as_seqeval(y_true, y_pred)


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        ([["O", "O"]], [["O", "O"]]),  # no entities anywhere: all zeros
        ([["B-PER", "I-PER"]], [["O", "O"]]),  # the all-O baseline
        ([["O", "O"]], [["B-PER", "O"]]),  # only false positives
        ([["B-PER", "I-PER"]], [["B-PER", "I-PER"]]),  # perfect
        ([["B-PER", "I-PER"]], [["B-PER", "B-PER"]]),  # split entity
        ([["I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]]),  # I- after O starts one
        ([["B-PER", "I-LOC"]], [["B-PER", "B-LOC"]]),  # change of type ends one
        ([["B-PER"], ["I-PER"]], [["B-PER"], ["B-PER"]]),  # no entity crosses sentences
        ([["S-PER", "E-PER"]], [["B-PER", "E-PER"]]),  # BIOES oddities
        ([["B", "I", "O"]], [["B", "O", "I"]]),  # bare prefixes: type '_'
        ([["B-geo-loc", "I-geo-loc"]], [["B-geo-loc", "I-geo-loc"]]),  # '-' inside a type
        ([[]], [[]]),
    ],
)
def test_edge_cases_match_seqeval(y_true, y_pred):
    assert_same_as_seqeval(y_true, y_pred)


def test_counts_and_the_worked_example():
    y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG"]]
    y_pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG"]]
    m = entity_metrics(y_true, y_pred)
    assert (m["num_true"], m["num_predicted"], m["num_correct"]) == (3, 3, 2)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["recall_LOC"] == 0.0 and m["support_LOC"] == 1
    assert m["precision_ORG"] == 0.5 and m["recall_ORG"] == 1.0


def test_token_accuracy():
    assert token_accuracy([["a", "b"], ["c"]], [["a", "x"], ["c"]]) == pytest.approx(2 / 3)
    assert token_accuracy([], []) == 0.0


def test_misaligned_predictions_are_refused():
    with pytest.raises(ShapeError, match=r"sentence 1: 2 true tags but 1 predicted"):
        entity_metrics([["O", "O"]], [["O"]])
    with pytest.raises(ShapeError, match=r"same number of sentences, got 1 and 2"):
        token_accuracy([["O"]], [["O"], ["O"]])


@pytest.mark.parametrize("seed", range(5))
def test_sentence_counts_add_up_to_the_corpus_metrics(seed):
    rng = random.Random(seed)
    y_true = random_sentences(rng, 15)
    y_pred = [[rng.choice(["O", "B-PER", "I-PER", "B-LOC"]) for _ in s] for s in y_true]
    counts = sentence_counts(y_true, y_pred)
    overall = entity_metrics(y_true, y_pred)
    correct, predicted, true, right, tokens = counts.sum(axis=0)
    assert (int(predicted), int(true)) == (overall["num_predicted"], overall["num_true"])
    f1 = 2 * correct / (predicted + true) if predicted + true else 0.0
    assert f1 == pytest.approx(overall["f1"])
    assert right / tokens == pytest.approx(token_accuracy(y_true, y_pred))


def test_tagging_intervals_resample_sentences_like_a_direct_bootstrap():
    """Reference: resample whole sentences with the same generator, rescore with
    entity_metrics / token_accuracy on the resampled corpus, take percentiles."""
    rng = random.Random(3)
    y_true = random_sentences(rng, 40)
    y_pred = [[t if rng.random() < 0.8 else "O" for t in s] for s in y_true]
    got = tagging_intervals(y_true, y_pred, n_resamples=200, seed=5)
    draws = np.random.default_rng(5).integers(0, len(y_true), (200, len(y_true)))
    f1s, accs = [], []
    for row in draws:
        true = [y_true[i] for i in row]
        pred = [y_pred[i] for i in row]
        f1s.append(entity_metrics(true, pred)["f1"])
        accs.append(token_accuracy(true, pred))
    for name, values in (("f1", f1s), ("accuracy", accs)):
        low, high = np.quantile(values, [0.025, 0.975])
        assert got[name].low == pytest.approx(low) and got[name].high == pytest.approx(high)
    assert got["f1"].estimate == pytest.approx(entity_metrics(y_true, y_pred)["f1"])
