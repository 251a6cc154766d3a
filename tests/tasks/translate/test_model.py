"""The sequence-to-sequence model against hand-written formulas and PyTorch's own losses."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from rnnlab.tasks.translate.config import TranslateModelConfig
from rnnlab.tasks.translate.data import make_batch
from rnnlab.tasks.translate.model import Attention, Seq2Seq
from rnnlab.threads import torch_threads


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        torch.manual_seed(0)
        yield


def small(**overrides) -> Seq2Seq:
    config = TranslateModelConfig(
        hidden_size=16, embedding_dim=12, input_dropout=0.0, output_dropout=0.0, **overrides
    )
    return Seq2Seq(30, 25, config, eos_id=3).eval()


def batch_of(sources, targets):
    return make_batch(sources, targets, list(range(len(sources))), eos_id=3, sos_id=1)


SOURCES = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14]]
TARGETS = [[4, 5, 6], [7, 8, 9, 10, 11], [12]]


@pytest.mark.parametrize("kind", ["general", "dot", "additive"])
def test_attention_matches_the_formula_and_ignores_masked_positions(kind):
    attention = Attention(kind, 6)
    q, m = torch.randn(2, 3, 6), torch.randn(2, 4, 6)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    with torch.no_grad():
        context, weights = attention(q, attention.keys(m), m, mask)
    for b in range(2):
        n = int(mask[b].sum())
        for t in range(3):
            if kind == "dot":
                s = torch.stack([q[b, t] @ m[b, j] for j in range(n)]) / 6**0.5
            elif kind == "general":
                s = (
                    torch.stack([q[b, t] @ attention.W_a.weight @ m[b, j] for j in range(n)])
                    / 6**0.5
                )
            else:
                s = torch.stack([
                    attention.v.weight[0] @ torch.tanh(attention.W_q.weight @ q[b, t]
                                                       + attention.U_a.weight @ m[b, j]
                                                       + attention.U_a.bias)
                    for j in range(n)
                ])  # fmt: skip
            alpha = torch.softmax(s, dim=0)
            torch.testing.assert_close(weights[b, t, :n], alpha, rtol=1e-5, atol=1e-6)
            assert float(weights[b, t, n:].abs().sum()) == 0.0
            torch.testing.assert_close(context[b, t], alpha @ m[b, :n], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_loss_is_cross_entropy_with_label_smoothing(smoothing):
    model = small(label_smoothing=smoothing)
    batch = batch_of(SOURCES, TARGETS)
    attentional, _ = model.teacher_forced(batch)
    logits = model.output(attentional)  # (B, T, V)
    expected = F.cross_entropy(logits.reshape(-1, 25), batch.tgt_out.reshape(-1),
                               ignore_index=0, label_smoothing=smoothing)  # fmt: skip
    torch.testing.assert_close(model.training_step(batch), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "overrides",
    [{"attention": "general"}, {"attention": "dot", "cell": "lstm"}, {"attention": "additive"},
     {"attention": "general", "input_feeding": True}, {"num_layers": 2, "tie_embeddings": True}],
    ids=["general", "dot-lstm", "additive", "input-feeding", "two-layers-tied"],
)  # fmt: skip
def test_teacher_forcing_equals_decoding_step_by_step(overrides):
    """The fast path (whole target through the recurrent layer, batched attention) gives
    the log-probabilities that the one-step decoder gives, token by token."""
    model = small(**overrides)
    batch = batch_of(SOURCES, TARGETS)
    attentional, weights = model.teacher_forced(batch)
    logits = model.output(attentional)
    logits[..., :2] = float("-inf")  # decoding never produces <pad> or <sos>
    full = torch.log_softmax(logits, dim=-1)
    memory, state = model.encode(batch.src, batch.src_lengths)
    feed = model.initial_feed(3, memory.values)
    for t in range(batch.tgt_in.shape[1]):
        logits_step, state, feed, w = model.decode_step(batch.tgt_in[:, t], state, feed, memory)
        for b in range(3):
            if t < int(batch.tgt_lengths[b]):
                gold = batch.tgt_out[b, t]
                torch.testing.assert_close(logits_step[b, gold], full[b, t, gold],
                                           rtol=1e-4, atol=1e-5)  # fmt: skip
                torch.testing.assert_close(w[b], weights[b, t], rtol=1e-4, atol=1e-5)


def test_padding_the_source_changes_nothing_a_sentence_sees():
    model = small()
    alone = batch_of([SOURCES[1]], [TARGETS[1]])
    padded = batch_of(SOURCES, TARGETS)
    a, _wa = model.teacher_forced(alone)
    p, wp = model.teacher_forced(padded)
    n = alone.tgt_in.shape[1]
    torch.testing.assert_close(p[1, :n], a[0], rtol=1e-5, atol=1e-6)
    assert float(wp[1, :, 2:].detach().abs().sum()) == 0.0  # padding positions get no attention


def test_tied_output_layer_is_the_target_embedding():
    model = small(tie_embeddings=True)
    assert model.output.weight is model.tgt_embedding.weight
    stored = model.file_tensors()
    assert "output.weight" not in stored
    other = small(tie_embeddings=True)
    other.load_file_tensors(stored)
    assert torch.equal(other.output.weight, model.tgt_embedding.weight)


def test_one_step_changes_every_parameter_and_eight_pairs_can_be_overfit():
    model = small(cell="lstm", attention="additive", input_feeding=True).train()
    batch = batch_of(SOURCES * 3, TARGETS * 3)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = model.training_step(batch)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if len(losses) == 1:
            same = [n for n, p in model.named_parameters() if torch.equal(p, before[n])]
            assert not same
    model_smoothed_floor = 0.1 * losses[0]
    assert min(losses[-5:]) < model_smoothed_floor + 0.5  # label smoothing keeps a floor


def test_dropout_makes_training_steps_differ_but_not_evaluation():
    config = TranslateModelConfig(hidden_size=16, embedding_dim=12)
    model = Seq2Seq(30, 25, config, eos_id=3)
    batch = batch_of(SOURCES, TARGETS)
    model.train()
    assert model.training_step(batch).item() != model.training_step(batch).item()
    model.eval()
    copy_ = copy.deepcopy(model)
    assert model.evaluate([batch]) == copy_.evaluate([batch])
