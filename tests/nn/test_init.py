"""orthogonal_init_ on rnnlab's and torch.nn's recurrent layers, and TextEncoder's init modes."""

from __future__ import annotations

import math

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.tasks.classify.config import ModelConfig
from rnnlab.tasks.encoder import TextEncoder

INPUT, HIDDEN = 7, 6
LAYERS = {
    "rnnlab.GRU": (rnn.GRU, 3, False),
    "rnnlab.LSTM": (rnn.LSTM, 4, True),
    "rnnlab.RNN": (rnn.RNN, 1, False),
    "torch.GRU": (torch.nn.GRU, 3, False),
    "torch.LSTM": (torch.nn.LSTM, 4, True),
}


def is_orthogonal(w: torch.Tensor, atol: float = 1e-5) -> bool:
    eye = torch.eye(w.shape[0], dtype=w.dtype)
    return torch.allclose(w @ w.T, eye, atol=atol) and torch.allclose(w.T @ w, eye, atol=atol)


def glorot_bound(block: torch.Tensor) -> float:
    fan_out, fan_in = block.shape
    return math.sqrt(6.0 / (fan_in + fan_out))


@pytest.fixture(params=sorted(LAYERS))
def initialised(request):
    cls, gates, is_lstm = LAYERS[request.param]
    layer = cls(INPUT, HIDDEN, num_layers=2, bidirectional=True, batch_first=True)
    assert rnn.orthogonal_init_(layer) is layer
    return layer, gates, is_lstm


def test_every_recurrent_gate_block_is_orthogonal(initialised):
    layer, gates, _ = initialised
    names = [n for n, _ in layer.named_parameters() if n.startswith("weight_hh")]
    assert len(names) == 4  # 2 layers x 2 directions
    for name in names:
        weight = getattr(layer, name).detach()
        assert weight.shape == (gates * HIDDEN, HIDDEN)
        blocks = weight.split(HIDDEN)
        assert len(blocks) == gates
        for k, block in enumerate(blocks):
            assert is_orthogonal(block), f"{name} gate block {k} is not orthogonal"
        if gates > 1:  # each gate gets its own matrix, not copies of one
            assert not torch.allclose(blocks[0], blocks[1])


def test_input_weights_are_glorot_uniform_per_gate_block(initialised):
    layer, gates, _ = initialised
    names = [n for n, _ in layer.named_parameters() if n.startswith("weight_ih")]
    assert len(names) == 4
    for name in names:
        weight = getattr(layer, name).detach()
        fan_in = INPUT if "_l0" in name else 2 * HIDDEN  # layer 1 reads both directions
        assert weight.shape == (gates * HIDDEN, fan_in)
        for k, block in enumerate(weight.split(HIDDEN)):
            bound = glorot_bound(block)
            assert block.abs().max() <= bound + 1e-7, f"{name} block {k} exceeds Glorot bound"
            # uniform over the whole range, not squeezed near 0 (torch's default is 1/sqrt(H))
            assert block.abs().max() > 0.6 * bound, f"{name} block {k} does not span U(±bound)"


def test_biases_zero_except_lstm_forget_gate_input_bias(initialised):
    layer, gates, is_lstm = initialised
    names = [n for n, _ in layer.named_parameters() if n.startswith("bias")]
    assert len(names) == 8  # ih and hh for 2 layers x 2 directions
    for name in names:
        bias = getattr(layer, name).detach()
        expected = torch.zeros(gates * HIDDEN)
        if is_lstm and name.startswith("bias_ih"):
            expected[HIDDEN : 2 * HIDDEN] = 1.0  # gate order i, f, g, o
        assert torch.equal(bias, expected), name


def test_layer_still_runs_and_matches_its_torch_twin_after_init():
    """The re-initialised weights are ordinary parameters: state_dict moves them to torch.nn."""
    ours = rnn.orthogonal_init_(rnn.LSTM(INPUT, HIDDEN, batch_first=True).double())
    theirs = torch.nn.LSTM(INPUT, HIDDEN, batch_first=True).double()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(3, 5, INPUT, dtype=torch.float64)
    out_ours, (h_ours, _) = ours(x)
    out_theirs, (h_theirs, _) = theirs(x)
    torch.testing.assert_close(out_ours, out_theirs)
    torch.testing.assert_close(h_ours, h_theirs)


# --------------------------------------------------------------------------- TextEncoder


def encoder_config(init: str, cell: str = "lstm") -> ModelConfig:
    return ModelConfig(cell=cell, embedding_dim=32, hidden_size=HIDDEN, num_layers=1, init=init)


@pytest.mark.parametrize("pad_id", [0, 3])
def test_text_encoder_orthogonal_init(pad_id):
    encoder = TextEncoder(500, encoder_config("orthogonal"), pad_id=pad_id)
    emb = encoder.embedding.weight.detach()
    assert torch.equal(emb[pad_id], torch.zeros(32))
    others = torch.cat([emb[:pad_id], emb[pad_id + 1 :]])
    assert others.abs().max() <= 0.05
    assert others.abs().max() > 0.045  # spans U(±0.05)
    assert abs(float(others.mean())) < 0.005
    assert float(others.std()) == pytest.approx(0.05 / math.sqrt(3), rel=0.05)
    for block in encoder.rnn.weight_hh_l0.detach().split(HIDDEN):
        assert is_orthogonal(block)
    assert torch.equal(encoder.rnn.bias_ih_l0.detach()[HIDDEN : 2 * HIDDEN], torch.ones(HIDDEN))
    assert torch.equal(encoder.rnn.bias_hh_l0.detach(), torch.zeros(4 * HIDDEN))


def test_text_encoder_torch_init_keeps_torch_defaults():
    encoder = TextEncoder(500, encoder_config("torch"), pad_id=0)
    emb = encoder.embedding.weight.detach()
    assert torch.equal(emb[0], torch.zeros(32))  # padding_idx still zeroes the pad row
    assert float(emb[1:].std()) == pytest.approx(1.0, abs=0.05)  # N(0, 1)
    assert emb[1:].abs().max() > 2.0  # far outside the ±0.05 of the orthogonal scheme
    bound = 1.0 / math.sqrt(HIDDEN)
    for name, param in encoder.rnn.named_parameters():
        values = param.detach()
        assert values.abs().max() <= bound + 1e-7, name
        assert values.abs().max() > 0.6 * bound, name
    # not the orthogonal scheme: biases are not zero and W_hh blocks are not orthogonal
    assert encoder.rnn.bias_hh_l0.detach().abs().sum() > 0
    assert not any(is_orthogonal(b) for b in encoder.rnn.weight_hh_l0.detach().split(HIDDEN))


def test_text_encoder_orthogonal_init_for_every_cell():
    for cell, gates in (("gru", 3), ("rnn", 1), ("lstm", 4)):
        encoder = TextEncoder(50, encoder_config("orthogonal", cell), pad_id=0)
        weight = encoder.rnn.weight_hh_l0.detach()
        assert weight.shape == (gates * HIDDEN, HIDDEN)
        assert all(is_orthogonal(b) for b in weight.split(HIDDEN)), cell
