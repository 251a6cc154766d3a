"""Shared helpers for the recurrent-core tests: build an rnnlab layer and its torch twin."""

from __future__ import annotations

import pytest
import torch

import rnnlab.nn as rnn

KINDS = {
    "gru": (rnn.GRU, torch.nn.GRU, {}),
    "lstm": (rnn.LSTM, torch.nn.LSTM, {}),
    "rnn_tanh": (rnn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (rnn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
}


def make_pair(kind: str, input_size: int, hidden: int, dtype=torch.float64, **kwargs):
    """An rnnlab layer and a torch.nn layer with identical weights (copied via state_dict)."""
    ours_cls, torch_cls, extra = KINDS[kind]
    ours = ours_cls(input_size, hidden, **extra, **kwargs).to(dtype)
    theirs_kwargs = {
        k: v
        for k, v in kwargs.items()
        if k not in ("input_dropout", "recurrent_dropout", "weight_dropout")
    }
    theirs = torch_cls(input_size, hidden, **extra, **theirs_kwargs).to(dtype)
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


def torch_reference(layer, x, hx, lengths, batch_first):
    """torch.nn on the padded tensor, or on pack_padded_sequence(enforce_sorted=False)."""
    if lengths is None:
        return layer(x, hx)
    steps = x.shape[1] if batch_first else x.shape[0]
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        x, torch.as_tensor(lengths), batch_first=batch_first, enforce_sorted=False
    )
    out, state = layer(packed, hx)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(
        out, batch_first=batch_first, total_length=steps
    )
    return out, state


def random_problem(
    kind: str, num_layers: int, bidirectional: bool, batch_first: bool, sizes: tuple
) -> tuple:
    """float64 input, initial state and loss weights for one parity case.

    ``sizes`` = (batch, steps, input, hidden). Returns ``(x, hx, out_weight, state_weights)``;
    the loss is Σ out·out_weight + Σ state·state_weight, so every output and state matters.
    """
    batch, steps, inputs, hidden = sizes
    shape = (batch, steps, inputs) if batch_first else (steps, batch, inputs)
    x = torch.randn(*shape, dtype=torch.float64)
    rows = num_layers * (2 if bidirectional else 1)
    h0 = torch.randn(rows, batch, hidden, dtype=torch.float64)
    hx = (h0, torch.randn_like(h0)) if kind == "lstm" else h0
    out_shape = (*shape[:2], hidden * (2 if bidirectional else 1))
    out_weight = torch.randn(out_shape, dtype=torch.float64)
    return x, hx, out_weight, [torch.randn_like(h0), torch.randn_like(h0)]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1234)


def grads_and_outputs(layer, x, hx, lengths, batch_first, ours, weights):
    """Outputs, final states and every gradient of a weighted sum loss, ours or torch.nn's."""
    xi = x.clone().requires_grad_(True)
    hxi = (
        tuple(h.clone().requires_grad_(True) for h in hx)
        if isinstance(hx, tuple)
        else (hx.clone().requires_grad_(True))
    )
    if ours:
        out, state = layer(xi, hxi, lengths=lengths)
    else:
        out, state = torch_reference(layer, xi, hxi, lengths, batch_first)
    states = state if isinstance(state, tuple) else (state,)
    loss = (out * weights[0].to(out.dtype)).sum()
    for s, w in zip(states, weights[1:], strict=False):
        loss = loss + (s * w.to(s.dtype)).sum()
    loss.backward()
    hx_grads = [h.grad for h in hxi] if isinstance(hxi, tuple) else [hxi.grad]
    return [out, *states, xi.grad, *hx_grads, *(p.grad for p in layer.parameters())]
