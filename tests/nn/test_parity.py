"""rnnlab layers equal torch.nn layers: outputs, final states and every gradient (1e-5).

Both of rnnlab's paths are checked: the fused path (PyTorch's kernels) and the step path
(hand-written backward through time, forced here with ``return_gates=True``). The reference
for variable lengths is ``pack_padded_sequence(..., enforce_sorted=False)``.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from .conftest import make_pair, random_problem, torch_reference

TOL = 1e-5
BATCH, STEPS, INPUT, HIDDEN = 4, 7, 5, 6
MIXED_LENGTHS = [3, STEPS, 1, 5]  # unsorted, includes 1 and T

CASES = list(
    itertools.product(
        ["gru", "lstm", "rnn_tanh", "rnn_relu"],  # kind
        [1, 2, 3],  # num_layers
        [False, True],  # bidirectional
        [False, True],  # batch_first
        [None, MIXED_LENGTHS],  # lengths
    )
)


def _loss(out, state, out_weight, state_weights):
    states = state if isinstance(state, tuple) else (state,)
    loss = (out * out_weight).sum()
    for s, w in zip(states, state_weights[: len(states)], strict=True):
        loss = loss + (s * w).sum()
    return loss


def _run(layer, x, hx, lengths, batch_first, ours: bool, step_path: bool):
    if ours:
        layer.path = "step" if step_path else "fused"
        result = layer(x, hx, lengths=lengths, return_gates=step_path)
        return result[0], result[1]
    return torch_reference(layer, x, hx, lengths, batch_first)


@pytest.mark.parametrize("step_path", [False, True], ids=["fused", "step"])
@pytest.mark.parametrize(("kind", "num_layers", "bidirectional", "batch_first", "lengths"), CASES)
def test_forward_and_gradients_match_torch(
    kind, num_layers, bidirectional, batch_first, lengths, step_path
):
    ours, theirs = make_pair(
        kind,
        INPUT,
        HIDDEN,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
    )
    x, hx, out_weight, state_weights = random_problem(
        kind, num_layers, bidirectional, batch_first, (BATCH, STEPS, INPUT, HIDDEN)
    )

    results = []
    for layer, is_ours in ((ours, True), (theirs, False)):
        xi = x.clone().requires_grad_(True)
        hxi = (
            tuple(h.clone().requires_grad_(True) for h in hx)
            if kind == "lstm"
            else hx.clone().requires_grad_(True)
        )
        out, state = _run(layer, xi, hxi, lengths, batch_first, is_ours, step_path)
        _loss(out, state, out_weight, state_weights).backward()
        hx_grads = [h.grad for h in hxi] if kind == "lstm" else [hxi.grad]
        param_grads = {n: p.grad.clone() for n, p in layer.named_parameters()}
        layer.zero_grad()
        results.append((out.detach(), state, xi.grad, hx_grads, param_grads))

    (o1, s1, gx1, gh1, gp1), (o2, s2, gx2, gh2, gp2) = results
    torch.testing.assert_close(o1, o2, atol=TOL, rtol=0)
    states1 = s1 if isinstance(s1, tuple) else (s1,)
    states2 = s2 if isinstance(s2, tuple) else (s2,)
    for a, b in zip(states1, states2, strict=True):
        torch.testing.assert_close(a.detach(), b.detach(), atol=TOL, rtol=0)
    torch.testing.assert_close(gx1, gx2, atol=TOL, rtol=0)
    for a, b in zip(gh1, gh2, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    assert gp1.keys() == gp2.keys()
    for name in gp1:
        torch.testing.assert_close(gp1[name], gp2[name], atol=TOL, rtol=0, msg=name)
    if lengths is not None:
        padded = torch.arange(STEPS).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)  # (B, T)
        o_bt = o1 if batch_first else o1.transpose(0, 1)
        assert torch.all(o_bt[padded] == 0), "outputs at padded steps must be exactly zero"


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn_tanh"])
def test_float32_paths_agree(kind):
    """The two paths agree in float32 too, on a bigger layer, forward and backward."""
    ours, _ = make_pair(
        kind, 16, 32, dtype=torch.float32, num_layers=2, bidirectional=True, batch_first=True
    )
    x = torch.randn(8, 20, 16)
    lengths = torch.randint(1, 21, (8,))
    grads = []
    for step_path in (False, True):
        xi = x.clone().requires_grad_(True)
        ours.path = "step" if step_path else "fused"
        out, state = ours(xi, lengths=lengths, return_gates=step_path)[:2]
        h = state[0] if isinstance(state, tuple) else state
        (out.square().sum() + h.sum()).backward()
        grads.append(
            (out.detach(), xi.grad, {n: p.grad.clone() for n, p in ours.named_parameters()})
        )
        ours.zero_grad()
    (o1, g1, p1), (o2, g2, p2) = grads
    torch.testing.assert_close(o1, o2, atol=TOL, rtol=1e-5)
    torch.testing.assert_close(g1, g2, atol=TOL, rtol=1e-5)
    for name in p1:
        torch.testing.assert_close(p1[name], p2[name], atol=1e-4, rtol=1e-4, msg=name)


def test_lengths_accept_list_tensor_and_any_order():
    ours, _ = make_pair("gru", INPUT, HIDDEN, batch_first=True)
    x = torch.randn(3, 6, INPUT, dtype=torch.float64)
    out_list, h_list = ours(x, lengths=[2, 6, 4])
    out_tensor, h_tensor = ours(x, lengths=torch.tensor([2, 6, 4], dtype=torch.int32))
    torch.testing.assert_close(out_list, out_tensor)
    torch.testing.assert_close(h_list, h_tensor)
    # A sequence's result does not depend on its neighbours or its position in the batch.
    out_single, h_single = ours(x[1:2, :6])
    torch.testing.assert_close(out_list[1:2], out_single)
    torch.testing.assert_close(h_list[:, 1:2], h_single)


def test_unbatched_input_matches_torch():
    ours, theirs = make_pair("lstm", INPUT, HIDDEN, num_layers=2)
    x = torch.randn(STEPS, INPUT, dtype=torch.float64)
    out1, (h1, c1) = ours(x)
    out2, (h2, c2) = theirs(x)
    torch.testing.assert_close(out1, out2)
    torch.testing.assert_close(h1, h2)
    torch.testing.assert_close(c1, c2)
