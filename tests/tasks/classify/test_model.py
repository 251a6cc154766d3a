"""pool(), RecurrentClassifier and ClassificationBatches: the pieces of the text classifier."""

from __future__ import annotations

import math

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.errors import ConfigError
from rnnlab.tasks.classify.config import ModelConfig
from rnnlab.tasks.classify.data import ClassificationBatches, TextBatch
from rnnlab.tasks.classify.model import RecurrentClassifier
from rnnlab.tasks.encoder import pool
from rnnlab.text.batching import pad_batch, padding_fraction

CELLS = {"gru": rnn.GRU, "lstm": rnn.LSTM, "rnn": rnn.RNN}
HIDDEN = 4


@pytest.fixture(autouse=True)
def _one_thread_and_seed():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(previous)


# --------------------------------------------------------------------------- pool


def brute_force_pool(out: torch.Tensor, method: str, bidirectional: bool) -> torch.Tensor:
    """Pool the outputs (n, D·H) of ONE unpadded sequence, written out the slow way."""
    if method == "concat":
        return torch.cat([brute_force_pool(out, m, bidirectional) for m in ("last", "max", "mean")])
    if method == "last":
        if not bidirectional:
            return out[-1]
        # forward direction ends at the last step, backward direction at the first
        return torch.cat((out[-1, :HIDDEN], out[0, HIDDEN:]))
    if method == "mean":
        return sum(out[t] for t in range(out.shape[0])) / out.shape[0]
    best = out[0].clone()
    for t in range(1, out.shape[0]):
        best = torch.maximum(best, out[t])
    return best


@pytest.mark.parametrize("method", ["last", "mean", "max", "concat"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_pool_matches_each_sequence_run_alone(cell, bidirectional, method):
    steps = 7
    lengths = torch.tensor([3, steps, 1, 5, steps, 2])  # mixed, including 1 and T
    layer = CELLS[cell](5, HIDDEN, num_layers=2, bidirectional=bidirectional, batch_first=True)
    layer = layer.double().eval()
    x = torch.randn(len(lengths), steps, 5, dtype=torch.float64)
    for b, n in enumerate(lengths.tolist()):
        x[b, n:] = 1e3  # garbage at padded steps must not reach the pooled vector
    with torch.no_grad():
        outputs, state = layer(x, lengths=lengths)
        h_n = state[0] if isinstance(state, tuple) else state
        pooled = pool(outputs, h_n, lengths, method, bidirectional)
        width = HIDDEN * (2 if bidirectional else 1) * (3 if method == "concat" else 1)
        assert pooled.shape == (len(lengths), width)
        for b, n in enumerate(lengths.tolist()):
            alone, _ = layer(x[b : b + 1, :n])  # no padding, no lengths
            expected = brute_force_pool(alone[0], method, bidirectional)
            torch.testing.assert_close(pooled[b], expected, msg=f"sequence {b} (length {n})")


@pytest.mark.parametrize("method", ["mean", "max"])
def test_pool_ignores_whatever_lies_at_padded_steps(method):
    """mean/max must mask padded steps themselves, not rely on the layer zeroing them."""
    lengths = torch.tensor([1, 4, 2])
    outputs = torch.randn(3, 4, 6, dtype=torch.float64)
    outputs[0, 1:] = 50.0  # a positive value that an unmasked max or mean would pick up
    outputs[2, 2:] = -50.0
    pooled = pool(outputs, torch.zeros(1, 3, 6), lengths, method, False)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(pooled[b], brute_force_pool(outputs[b, :n], method, False))


def test_pool_max_of_all_negative_outputs_is_not_zero():
    """Padded outputs are exactly zero; max pooling must not return them for negative runs."""
    lengths = torch.tensor([2, 3])
    outputs = -torch.rand(2, 3, 5) - 0.1
    outputs[0, 2:] = 0.0  # as rnnlab's layers leave padded steps
    pooled = pool(outputs, torch.zeros(1, 2, 5), lengths, "max", False)
    assert (pooled < 0).all()
    torch.testing.assert_close(pooled[0], outputs[0, :2].amax(0))


def test_pool_rejects_an_unknown_method():
    with pytest.raises(ConfigError, match=r"model\.pooling must be one of last, mean, max, concat"):
        pool(torch.zeros(1, 2, 3), torch.zeros(1, 1, 3), torch.tensor([2]), "sum", False)


# --------------------------------------------------------------------------- the model


NO_DROPOUT = {
    "dropout": 0.0,
    "input_dropout": 0.0,
    "recurrent_dropout": 0.0,
    "weight_dropout": 0.0,
    "embedding_dropout": 0.0,
}


def make_model(vocab: int = 12, labels=("a", "b", "c"), **config) -> RecurrentClassifier:
    """A small classifier without dropout, so that its outputs are a function of its inputs."""
    settings = {"embedding_dim": 8, "hidden_size": 8, "num_layers": 2, **NO_DROPOUT, **config}
    return RecurrentClassifier(vocab, list(labels), ModelConfig(**settings), pad_id=0)


def random_batch(n: int, vocab: int, max_len: int, classes: int, min_len: int = 1) -> TextBatch:
    lengths = torch.randint(min_len, max_len + 1, (n,)).tolist()
    seqs = [torch.randint(1, vocab, (k,)).tolist() for k in lengths]
    ids, lens = pad_batch(seqs, pad_id=0)
    return TextBatch(ids, lens, torch.randint(0, classes, (n,)), torch.arange(n))


@pytest.mark.parametrize(
    "config",
    [
        {"cell": "gru"},
        {"cell": "lstm", "bidirectional": True},
        {"cell": "rnn", "pooling": "mean"},
        {"cell": "lstm", "pooling": "max", "bidirectional": True, "num_layers": 1},
    ],
    ids=lambda c: "-".join(str(v) for v in c.values()),
)
def test_logits_have_shape_batch_by_classes(config):
    model = make_model(labels=["x", "y", "z", "w"], **config).eval()
    batch = random_batch(5, 12, 9, 4)
    logits = model(batch.ids, batch.lengths)
    assert logits.shape == (5, 4)
    assert torch.isfinite(logits).all()
    probs, index = model.predict_batches([batch])
    assert probs.shape == (5, 4)
    assert probs.sum(axis=1) == pytest.approx([1.0] * 5, abs=1e-6)
    assert index.tolist() == list(range(5))


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_one_adam_step_changes_every_parameter_but_the_padding_row(cell):
    vocab = 12
    model = make_model(vocab, cell=cell, bidirectional=True, pooling="last").train()
    seqs = [list(range(1, vocab)), [5, 3, 1], [2], list(range(vocab - 1, 0, -1))[:6]]
    ids, lengths = pad_batch(seqs, pad_id=0)  # every non-pad token id occurs
    batch = TextBatch(ids, lengths, torch.tensor([0, 1, 2, 1]), torch.arange(4))
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    assert torch.equal(before["encoder.embedding.weight"][0], torch.zeros(8))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss = model.training_step(batch)
    assert loss.ndim == 0 and math.isfinite(float(loss.detach()))
    loss.backward()
    optimizer.step()
    for name, param in model.named_parameters():
        after = param.detach()
        if name == "encoder.embedding.weight":
            assert torch.equal(after[0], torch.zeros(8)), "the padding row must stay zero"
            assert (after[1:] != before[name][1:]).all(), "every used token row must move"
        else:
            assert (after != before[name]).all(), f"{name} did not change everywhere"


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_a_tiny_batch_can_be_overfit(cell):
    model = make_model(20, labels=["a", "b", "c"], cell=cell, num_layers=1).train()
    batch = random_batch(12, 20, 8, 3, min_len=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    first = float(model.training_step(batch).detach())
    losses = []
    for _ in range(200):
        optimizer.zero_grad()
        loss = model.training_step(batch)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if losses[-1] < 0.02:
            break
    assert first > 0.5  # about log(3) before training
    assert losses[-1] < 0.02, f"loss only fell from {first:.3f} to {losses[-1]:.3f}"
    model.eval()
    metrics = model.evaluate([batch])
    assert metrics["accuracy"] == 1.0
    assert metrics["loss"] < 0.05


@pytest.mark.parametrize("full", [False, True], ids=["mixed-lengths", "all-full"])
@pytest.mark.parametrize("mode", ["eval", "train-grad"])
@pytest.mark.parametrize(
    "config",
    [
        {"cell": "gru"},
        {"cell": "lstm", "bidirectional": True},
        {"cell": "rnn", "pooling": "mean"},
        {"cell": "gru", "pooling": "max", "bidirectional": True},
    ],
    ids=lambda c: "-".join(str(v) for v in c.values()),
)
def test_extra_padding_does_not_change_logits(config, mode, full):
    model = make_model(15, **config).double()
    batch = random_batch(6, 15, 7, 3, min_len=7 if full else 1)
    wider = torch.cat([batch.ids, torch.zeros(6, 5, dtype=torch.long)], dim=1)
    model.train(mode != "eval")
    with torch.set_grad_enabled(mode == "train-grad"):
        reference = model(batch.ids, batch.lengths)
        padded = model(wider, batch.lengths)
    torch.testing.assert_close(padded, reference)


def test_evaluate_reports_loss_accuracy_and_per_class_scores():
    model = make_model(labels=["neg", "pos"]).eval()
    batches = [random_batch(4, 12, 5, 2), random_batch(3, 12, 5, 2)]
    metrics = model.evaluate(batches)
    with torch.no_grad():
        logits = torch.cat([model(b.ids, b.lengths) for b in batches])
    labels = torch.cat([b.labels for b in batches])
    expected_loss = float(torch.nn.functional.cross_entropy(logits, labels))
    expected_acc = float((logits.argmax(-1) == labels).double().mean())
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert metrics["accuracy"] == pytest.approx(expected_acc)
    assert {"macro_f1", "f1_neg", "f1_pos", "support_pos"} <= set(metrics)
    assert "confusion_matrix" not in metrics  # only flat numbers go to the history
    assert metrics["support_neg"] + metrics["support_pos"] == 7


# --------------------------------------------------------------------------- batches


def sequences_and_labels(n: int = 203):
    g = torch.Generator().manual_seed(7)
    lengths = torch.randint(1, 60, (n,), generator=g).tolist()
    seqs = [[(i * 7 + t) % 50 + 1 for t in range(k)] for i, k in enumerate(lengths)]
    return seqs, [i % 3 for i in range(n)]


def epoch_order(batches: ClassificationBatches, epoch: int) -> list[list[int]]:
    return [b.index.tolist() for b in batches.batches(epoch)]


def test_same_epoch_same_order_other_epoch_other_order_each_index_once():
    seqs, labels = sequences_and_labels()
    make = lambda seed: ClassificationBatches(seqs, labels, 8, shuffle=True, seed=seed)  # noqa: E731
    batches = make(3)
    first = epoch_order(batches, 0)
    assert epoch_order(batches, 0) == first  # replayable
    assert epoch_order(make(3), 0) == first  # a function of (seed, epoch) only
    epochs = [epoch_order(batches, e) for e in range(4)]
    assert len({str(e) for e in epochs}) == 4  # every epoch its own order
    assert epoch_order(make(4), 0) != first  # another seed, another order
    for order in epochs:
        flat = [i for batch in order for i in batch]
        assert sorted(flat) == list(range(len(seqs)))  # every index exactly once
        assert all(1 <= len(batch) <= 8 for batch in order)
    assert batches.num_batches(2) == math.ceil(len(seqs) / 8) == len(epochs[2])
    assert flat != sorted(flat)


def test_batches_carry_the_padded_sequences_and_labels_of_their_indices():
    seqs, labels = sequences_and_labels(57)
    batches = ClassificationBatches(seqs, labels, 8, shuffle=True, seed=1, pad_id=0)
    seen = 0
    for batch in batches.batches(1):
        assert batch.ids.shape == (len(batch.index), int(batch.lengths.max()))
        for row, i in enumerate(batch.index.tolist()):
            n = len(seqs[i])
            assert batch.lengths[row] == n
            assert batch.ids[row, :n].tolist() == seqs[i]
            assert (batch.ids[row, n:] == 0).all()
            assert batch.labels[row] == labels[i]
        assert batch.num_tokens == sum(len(seqs[i]) for i in batch.index.tolist())
        seen += len(batch.index)
    assert seen == len(batches) == 57


def test_unshuffled_batches_keep_the_data_order_in_every_epoch():
    seqs, _ = sequences_and_labels(30)
    batches = ClassificationBatches(seqs, None, 8)
    order = epoch_order(batches, 0)
    assert order == [list(range(i, min(i + 8, 30))) for i in range(0, 30, 8)]
    assert epoch_order(batches, 5) == order
    assert all(b.labels is None for b in batches.batches())


def test_bucketing_cuts_padding_compared_with_random_batches():
    seqs, labels = sequences_and_labels(400)
    lengths = [len(s) for s in seqs]
    fractions = {}
    for bucketing in (True, False):
        batches = ClassificationBatches(seqs, labels, 16, shuffle=True, bucketing=bucketing)
        fractions[bucketing] = padding_fraction(lengths, epoch_order(batches, 0))
    assert fractions[True] < 0.5 * fractions[False]
