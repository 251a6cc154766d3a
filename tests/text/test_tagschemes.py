"""BIO / BIOES / plain tag schemes: spans, conversions both ways, repair of stray I- tags."""

from __future__ import annotations

import random

import pytest

from rnnlab.errors import DataError
from rnnlab.text.tagschemes import (
    bio_to_bioes,
    bioes_to_bio,
    convert,
    detect_scheme,
    repair_bio,
    spans,
    spans_to_tags,
    split_tag,
)

BIO = ["O", "B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "I-LOC", "B-ORG"]
BIOES = ["O", "B-PER", "E-PER", "O", "S-LOC", "B-LOC", "I-LOC", "E-LOC", "S-ORG"]
SPANS = [("PER", 1, 2), ("LOC", 4, 4), ("LOC", 5, 7), ("ORG", 8, 8)]


def random_spans(rng: random.Random, length: int) -> list[tuple[str, int, int]]:
    """Non-overlapping entities, adjacent ones included, of random types and lengths."""
    found, i = [], 0
    while i < length:
        if rng.random() < 0.5:
            end = min(length - 1, i + rng.randrange(3))
            found.append((rng.choice(["PER", "LOC", "B-X"]), i, end))
            i = end + 1
        else:
            i += 1
    return found


def test_split_tag():
    assert split_tag("B-PER") == ("B", "PER")
    assert split_tag("I-geo-loc") == ("I", "geo-loc")
    assert split_tag("O") == ("O", "")
    assert split_tag("NN") == ("", "NN")
    assert split_tag("B") == ("", "B")


def test_the_worked_example_both_ways():
    assert spans(BIO) == SPANS
    assert spans(BIOES) == SPANS
    assert bio_to_bioes(BIO) == BIOES
    assert bioes_to_bio(BIOES) == BIO


@pytest.mark.parametrize("seed", range(20))
def test_random_round_trips_keep_every_span(seed):
    rng = random.Random(seed)
    length = rng.randrange(0, 15)
    truth = random_spans(rng, length)
    bio = spans_to_tags(length, truth, "bio")
    bioes = bio_to_bioes(bio)
    assert spans(bio) == truth and spans(bioes) == truth
    assert bioes_to_bio(bioes) == bio
    assert bio_to_bioes(bioes_to_bio(bioes)) == bioes
    assert convert(bio, "bio", "bioes") == bioes and convert(bioes, "bioes", "bio") == bio


def test_repair_bio_reads_stray_i_tags_as_starts():
    tags = ["I-PER", "I-PER", "O", "I-LOC", "B-PER", "I-LOC", "I-LOC"]
    fixed, where = repair_bio(tags)
    assert fixed == ["B-PER", "I-PER", "O", "B-LOC", "B-PER", "B-LOC", "I-LOC"]
    assert where == [0, 3, 5]
    assert repair_bio(fixed) == (fixed, [])
    assert spans(fixed) == spans(tags)  # the repair is the reading conlleval gives


def test_iob1_converts_to_bioes_as_repaired():
    assert bio_to_bioes(["O", "I-PER", "I-PER", "O"]) == ["O", "B-PER", "E-PER", "O"]


@pytest.mark.parametrize(
    ("tags", "scheme"),
    [
        ([["O", "B-PER"], ["I-PER"]], "bio"),
        ([["S-PER", "O"], ["B-LOC", "E-LOC"]], "bioes"),
        ([["NN", "VB"]], "plain"),
        ([["O", "O"]], "plain"),
        ([["B-PER", "NN"]], "plain"),
    ],
)
def test_detect_scheme(tags, scheme):
    assert detect_scheme(tags) == scheme


def test_plain_tags_do_not_convert_to_spans():
    with pytest.raises(DataError, match=r"cannot convert 'plain' tags to 'bio': plain tags"):
        convert(["NN"], "plain", "bio")
    assert convert(["NN", "VB"], "plain", "plain") == ["NN", "VB"]


def test_a_bioes_tag_in_bio_input_is_refused():
    with pytest.raises(DataError, match=r"tag 'E-PER' at position 1 is not a BIO tag"):
        bio_to_bioes(["B-PER", "E-PER"])
    with pytest.raises(DataError, match=r"tag 'NN' at position 0 is not a BIO/BIOES tag"):
        spans(["NN"])
