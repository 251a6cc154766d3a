"""The tagger's pieces: batches, character encoders, the softmax decoder, and CRF vs softmax
on a grammar whose tags only a transition model can get right."""

from __future__ import annotations

import random

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.tasks.tag.config import TagModelConfig
from rnnlab.tasks.tag.data import TagBatches, TagEncoder
from rnnlab.tasks.tag.estimator import SequenceTagger
from rnnlab.tasks.tag.model import CharCNN, CharGRU, SoftmaxDecoder, build_tagger


@pytest.fixture(autouse=True)
def _seed(one_thread):
    torch.manual_seed(0)


SENTENCES = [["EU", "rejects", "German", "call"], ["German", "EU"], ["a"]]
TAGS = [["B-ORG", "O", "B-MISC", "O"], ["B-MISC", "B-ORG"], ["O"]]


def encoder(max_word_len: int = 20) -> TagEncoder:
    return TagEncoder.build(
        SENTENCES, ["B-MISC", "B-ORG", "O"], max_vocab=100, min_count=1, max_word_len=max_word_len
    )


def test_batches_hold_each_form_once_and_map_tokens_to_it():
    enc = encoder(max_word_len=3)
    data = enc.encode(SENTENCES, TAGS)
    (batch,) = TagBatches(data, batch_size=3).batches()
    assert batch.ids.shape == (3, 4) and batch.lengths.tolist() == [4, 2, 1]
    assert batch.chars.shape[0] == 1 + 5  # padding row + EU, rejects, German, call, a
    forms = {}
    for b, sentence in enumerate(SENTENCES):
        for t, token in enumerate(sentence):
            row = int(batch.word_index[b, t])
            assert forms.setdefault(token, row) == row  # one row per form
            n = int(batch.char_lengths[row])
            assert batch.chars[row, :n].tolist() == enc.chars.encode(list(token[:3]))
    assert int(batch.word_index[2, 1]) == 0 and batch.mask().tolist()[2] == [1, 0, 0, 0]
    assert batch.tags[0].tolist() == [enc.tag_index[t] for t in TAGS[0]]


@pytest.mark.parametrize("cls", [CharCNN, CharGRU])
def test_char_encoders_ignore_padding(cls):
    encoder = cls(10, 4, 6).eval()
    chars = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 0, 0, 0]])
    lengths = torch.tensor([3, 2])
    out = encoder(chars, lengths)
    assert out.shape == (2, 6)
    garbage = chars.clone()
    garbage[0, 3:], garbage[1, 2:] = 9, 8  # characters past each word's end must not matter
    torch.testing.assert_close(encoder(garbage, lengths), out)
    alone = encoder(chars[1:, :2], lengths[1:])
    torch.testing.assert_close(alone, out[1:])


def test_softmax_decoder_is_the_sum_of_token_log_probabilities():
    emissions = torch.randn(2, 3, 4, dtype=torch.float64)
    tags = torch.tensor([[1, 2, 3], [0, 3, 0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    logp = torch.log_softmax(emissions, -1)
    expected = torch.stack(
        [logp[0, 0, 1] + logp[0, 1, 2] + logp[0, 2, 3], logp[1, 0, 0] + logp[1, 1, 3]]
    )
    torch.testing.assert_close(SoftmaxDecoder()(emissions, tags, mask), expected)
    best = emissions.argmax(-1).tolist()
    assert SoftmaxDecoder().decode(emissions, mask) == [best[0], best[1][:2]]


@pytest.mark.parametrize(
    ("cell", "decoder", "chars"),
    [(c, d, ch) for d in ("crf", "softmax") for ch in ("cnn", "gru", "none") for c in ("gru",)]
    + [("lstm", "crf", "cnn")],
)
def test_one_training_step_changes_every_parameter(cell, decoder, chars):
    config = TagModelConfig(
        cell=cell, embedding_dim=8, hidden_size=6, char_dim=4, char_hidden=6, decoder=decoder,
        char_encoder=chars, input_dropout=0.0, output_dropout=0.0,
    )  # fmt: skip
    enc = encoder()
    model = build_tagger(config, len(enc.words), len(enc.chars), enc.tags, scheme="bio")
    assert isinstance(model.decoder, rnn.CRF if decoder == "crf" else SoftmaxDecoder)
    (batch,) = TagBatches(enc.encode(SENTENCES, TAGS), batch_size=3).batches()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model.training_step(batch).backward()
    optimizer.step()
    for name, value in model.state_dict().items():
        assert not torch.equal(before[name], value), name
    metrics = model.eval().evaluate([batch])
    assert set(metrics) == {"loss", "accuracy", "precision", "recall", "f1"}


# ----------------------------------------------------------------- CRF vs softmax


def grammar(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """Words a/b at random; 'b' is tagged N, an 'a' is P when the next word is 'b', else Q.

    A left-to-right tagger cannot see the next word, so a per-token softmax must guess P or Q
    for every 'a'; a CRF decodes the whole path, and its transitions (P → N only, Q → never
    N) settle each 'a' once the next word's tag is known.
    """
    rng = random.Random(seed)
    tokens, tags = [], []
    for _ in range(n):
        words = [rng.choice("ab") for _ in range(rng.randrange(4, 12))]
        following = [*words[1:], "."]
        tokens.append(words)
        tags.append(
            [
                "N" if w == "b" else ("P" if nxt == "b" else "Q")
                for w, nxt in zip(words, following, strict=True)
            ]
        )
    return tokens, tags


def fit_grammar(decoder: str) -> SequenceTagger:
    tokens, tags = grammar(300, seed=0)
    return SequenceTagger(
        **{
            "model.decoder": decoder,
            "model.char_encoder": "none",
            "model.bidirectional": False,
            "model.embedding_dim": 8,
            "model.hidden_size": 16,
            "model.input_dropout": 0.0,
            "model.output_dropout": 0.0,
            "data.min_count": 1,
            "train.epochs": 8,
            "train.lr": 0.02,
            "train.device": "cpu",
        }
    ).fit(tokens, tags)


def test_crf_learns_the_transition_constraint_a_softmax_cannot_use():
    tokens, tags = grammar(200, seed=1)
    crf, softmax = fit_grammar("crf"), fit_grammar("softmax")
    crf_accuracy = crf.evaluate(tokens, tags)["accuracy"]
    softmax_accuracy = softmax.evaluate(tokens, tags)["accuracy"]
    assert crf_accuracy > 0.99, crf_accuracy
    assert softmax_accuracy < 0.85, softmax_accuracy  # about 1/4 of tokens are guesses
    index = crf.encoder_.tag_index
    transitions = crf.model_.decoder.transitions.detach()
    p, q, n = index["P"], index["Q"], index["N"]
    assert int(transitions[p].argmax()) == n  # P is always followed by N
    assert int(transitions[:, n].argmax()) == p  # and N never follows Q
    assert transitions[p, n] > transitions[q, n] + 1


@pytest.mark.parametrize("char_min_count", [1, 2, 3])
def test_char_min_count_decides_which_characters_get_an_id(char_min_count):
    """data.char_min_count keeps the characters seen that often (the rest share <unk>)."""
    from collections import Counter

    encoder = TagEncoder.build(
        SENTENCES, ["O"], max_vocab=100, min_count=1, max_word_len=20,
        char_min_count=char_min_count,
    )  # fmt: skip
    counts = Counter(ch for s in SENTENCES for token in s for ch in token)
    expected = {ch for ch, n in counts.items() if n >= char_min_count}
    assert {ch for ch in counts if ch in encoder.chars} == expected
