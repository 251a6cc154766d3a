"""Greedy and beam search: memorised pairs come back, beam 1 is greedy, padding changes
nothing, beam search never scores below greedy, results are deterministic."""

from __future__ import annotations

import pytest
import torch

from rnnlab.tasks.translate.config import TranslateModelConfig
from rnnlab.tasks.translate.data import make_batch
from rnnlab.tasks.translate.decode import beam_search, greedy, length_penalty
from rnnlab.tasks.translate.model import Seq2Seq
from rnnlab.threads import torch_threads

from .conftest import TEN_PAIRS


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def random_model(seed: int = 0, **overrides) -> Seq2Seq:
    torch.manual_seed(seed)
    config = TranslateModelConfig(hidden_size=16, embedding_dim=12, **overrides)
    return Seq2Seq(40, 30, config, eos_id=3).eval()


def source_batch(sources):
    return make_batch(sources, None, list(range(len(sources))), eos_id=3, sos_id=1)


SOURCES = [[5, 6, 7], [8, 9, 10, 11, 12, 13, 14], [15], [16, 17, 18, 19]]


@pytest.mark.parametrize("beam", [1, 4])
def test_a_model_that_memorised_ten_pairs_reproduces_them(memorised, beam):
    sources = [s for s, _ in TEN_PAIRS]
    assert memorised.translate(sources, beam=beam) == [t for _, t in TEN_PAIRS]


@pytest.mark.parametrize("overrides", [{}, {"attention": "additive", "input_feeding": True}])
def test_beam_one_is_greedy(overrides):
    model = random_model(**overrides)
    batch = source_batch(SOURCES)
    found = greedy(model, batch.src, batch.src_lengths)
    beamed = beam_search(model, batch.src, batch.src_lengths, beam=1)
    for g, (b,) in zip(found, beamed, strict=True):
        assert g.tokens == b.tokens
        assert g.logprob == pytest.approx(b.logprob, abs=1e-5)


@pytest.mark.parametrize("beam", [1, 3])
def test_padding_a_batch_with_longer_sentences_changes_no_translation(beam):
    model = random_model(1)
    short = source_batch([SOURCES[0]])
    padded = source_batch([SOURCES[0], [20] * 25, [21] * 40])
    alone = beam_search(model, short.src, short.src_lengths, beam=beam)[0][0]
    together = beam_search(model, padded.src, padded.src_lengths, beam=beam)[0][0]
    assert alone.tokens == together.tokens
    assert alone.score == pytest.approx(together.score, abs=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_beam_search_never_scores_below_greedy(seed):
    model = random_model(seed, cell="lstm")
    batch = source_batch(SOURCES)
    greedy_hyps = greedy(model, batch.src, batch.src_lengths, alpha=0.6)
    beamed = beam_search(model, batch.src, batch.src_lengths, beam=4, nbest=3, alpha=0.6)
    for g, hyps in zip(greedy_hyps, beamed, strict=True):
        assert hyps[0].score >= g.score - 1e-9
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
        for h in hyps:  # the score is the length-normalised log-probability
            assert h.score == pytest.approx(h.logprob / length_penalty(len(h.tokens) + 1, 0.6))


def test_decoding_is_deterministic_and_bounded_by_the_source_length():
    model = random_model(2)
    batch = source_batch(SOURCES)
    first = beam_search(model, batch.src, batch.src_lengths, beam=3, max_ratio=1.0, max_extra=2)
    again = beam_search(model, batch.src, batch.src_lengths, beam=3, max_ratio=1.0, max_extra=2)
    assert [[h.tokens for h in hs] for hs in first] == [[h.tokens for h in hs] for hs in again]
    for source, (hyp,) in zip(SOURCES, first, strict=True):
        assert len(hyp.tokens) <= len(source) + 2
        assert not {0, 1} & set(hyp.tokens)  # never <pad> or <sos>


def test_attention_rows_are_distributions_over_the_real_source(memorised):
    shown = memorised.attention("Ein Hund rennt.")
    assert shown.translation == "A dog runs."
    assert len(shown.weights) == len(shown.target_tokens)
    for row in shown.weights:
        assert len(row) == len(shown.source_tokens)
        assert sum(row) == pytest.approx(1.0, abs=1e-5)


def test_surprisal_of_the_memorised_reference_is_low(memorised):
    (found,) = memorised.surprisal(["Ein Hund rennt."], ["A dog runs."])
    assert found.tokens[-1] == "</s>" and len(found.bits) == len(found.tokens)
    (other,) = memorised.surprisal(["Ein Hund rennt."], ["The girl reads a book."])
    assert found.total_bits < other.total_bits
