"""The step path's compiled time loops (``csrc/step_loops.cpp``) equal torch.nn and the
PyTorch loops they replace: outputs, final states and every gradient, in float32 against a
float64 reference (1e-5), with lengths, both directions, stacking and recurrent dropout."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnlab.nn import recurrence
from rnnlab.nn.native_build import native_status

from .conftest import grads_and_outputs, make_pair, random_problem

needs_compiled = pytest.mark.skipif(
    not native_status().available,
    reason=f"compiled step loops unavailable here: {native_status().reason}",
)

BATCH, STEPS, INPUT, HIDDEN = 5, 9, 6, 7
MIXED_LENGTHS = [3, STEPS, 1, 6, 2]


@pytest.fixture
def loop_calls(monkeypatch):
    """Counts the compiled loops actually taken, so a silent fallback fails the test."""
    calls: list[str] = []
    original = recurrence._compiled_loops

    def counting(*tensors):
        library = original(*tensors)
        calls.append("compiled" if library is not None else "python")
        return library

    monkeypatch.setattr(recurrence, "_compiled_loops", counting)
    return calls


def _assert_step_path_matches_torch(kind: str, lengths, **layer_args) -> None:
    """float32 step path vs float64 torch.nn: outputs, final states and every gradient."""
    ours, theirs = make_pair(kind, INPUT, HIDDEN, dtype=torch.float32, **layer_args)
    ours.path = "step"
    theirs.double()
    x, hx, out_weight, state_weights = random_problem(
        kind,
        layer_args.get("num_layers", 1),
        layer_args.get("bidirectional", False),
        False,
        (BATCH, STEPS, INPUT, HIDDEN),
    )
    weights = [out_weight, *state_weights]
    hx32 = tuple(h.float() for h in hx) if kind == "lstm" else hx.float()
    got = grads_and_outputs(ours, x.float(), hx32, lengths, False, True, weights)
    want = grads_and_outputs(theirs, x, hx, lengths, False, False, weights)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g.double(), w, atol=1e-5, rtol=1e-4)


@needs_compiled
@pytest.mark.parametrize(
    ("kind", "num_layers", "bidirectional", "lengths"),
    list(
        itertools.product(
            ["gru", "lstm", "rnn_tanh", "rnn_relu"], [1, 2], [False, True], [None, MIXED_LENGTHS]
        )
    ),
)
def test_compiled_step_loops_match_torch(kind, num_layers, bidirectional, lengths, loop_calls):
    _assert_step_path_matches_torch(
        kind, lengths, num_layers=num_layers, bidirectional=bidirectional
    )
    directions = num_layers * (2 if bidirectional else 1)
    assert loop_calls == ["compiled"] * (2 * directions)  # forward and backward of each


def _run(kind: str, lengths, compiled: bool, monkeypatch) -> list[torch.Tensor]:
    """One training step with recurrent dropout; the same seed gives the same masks."""
    ours, _ = make_pair(
        kind, INPUT, HIDDEN, dtype=torch.float32, num_layers=2, bidirectional=True,
        recurrent_dropout=0.3,
    )  # fmt: skip
    ours.path = "step"
    ours.train()
    if not compiled:
        monkeypatch.setattr(recurrence, "_compiled_loops", lambda *tensors: None)
    x, hx, out_weight, state_weights = random_problem(
        kind, 2, True, False, (BATCH, STEPS, INPUT, HIDDEN)
    )
    hx32 = tuple(h.float() for h in hx) if kind == "lstm" else hx.float()
    torch.manual_seed(7)
    result = grads_and_outputs(
        ours, x.float(), hx32, lengths, False, True, [out_weight, *state_weights]
    )
    monkeypatch.undo()
    return result


@needs_compiled
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn_tanh"])
@pytest.mark.parametrize("lengths", [None, MIXED_LENGTHS])
def test_recurrent_dropout_compiled_equals_the_pytorch_loop(kind, lengths, monkeypatch):
    """Recurrent dropout (no torch.nn twin): the compiled loops give the PyTorch loops'
    numbers, which the float64 feature tests check against a step-by-step cell reference."""
    torch.manual_seed(11)
    compiled = _run(kind, lengths, True, monkeypatch)
    torch.manual_seed(11)
    reference = _run(kind, lengths, False, monkeypatch)
    for a, b in zip(compiled, reference, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@needs_compiled
def test_float64_and_no_library_take_the_pytorch_loops(loop_calls):
    """Only CPU float32 runs compiled; float64 (the reference precision) stays in PyTorch."""
    ours, _ = make_pair("gru", INPUT, HIDDEN, dtype=torch.float64)
    ours.path = "step"
    ours(torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64))
    assert loop_calls == ["python"]


@needs_compiled
def test_gate_saturation_stays_finite():
    """Pre-activations far beyond exp's float range saturate the gates instead of overflowing."""
    ours, theirs = make_pair("lstm", INPUT, HIDDEN, dtype=torch.float32)
    ours.path = "step"
    with torch.no_grad():
        for p in ours.parameters():
            p.mul_(400.0)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(STEPS, BATCH, INPUT) * 10
    got, want = ours(x)[0], theirs(x)[0]
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


@needs_compiled
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn_relu"])
def test_any_split_of_the_batch_over_threads_gives_the_same_numbers(kind):
    """Each thread runs the time loop for its own block of batch rows: with 1, 2 or 3 threads
    and batches smaller than, equal to and larger than the team, every output and gradient
    is the single-thread result."""
    threads = torch.get_num_threads()
    try:
        for batch in (1, 2, 5):
            ours, _ = make_pair(kind, INPUT, HIDDEN, dtype=torch.float32, num_layers=2)
            ours.path = "step"
            x, hx, out_weight, state_weights = random_problem(
                kind, 2, False, False, (batch, STEPS, INPUT, HIDDEN)
            )
            hx32 = tuple(h.float() for h in hx) if kind == "lstm" else hx.float()
            lengths = [max(1, STEPS - 2 * i) for i in range(batch)]
            results = []
            for count in (1, 2, 3):
                torch.set_num_threads(count)
                ours.zero_grad()
                weights = [out_weight, *state_weights]
                results.append(
                    grads_and_outputs(ours, x.float(), hx32, lengths, False, True, weights)
                )
            for other in results[1:]:
                for a, b in zip(results[0], other, strict=True):
                    torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
    finally:
        torch.set_num_threads(threads)


@needs_compiled
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn_tanh"])
def test_compiled_step_loops_without_biases_match_torch(kind, loop_calls):
    """bias=False: no bias is added, and the compiled GRU backward sums no bias gradient."""
    _assert_step_path_matches_torch(kind, MIXED_LENGTHS, bias=False)
    assert loop_calls == ["compiled", "compiled"]


@needs_compiled
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn_relu"])
def test_compiled_backward_with_a_loss_on_the_final_state_only(kind, loop_calls):
    """No gradient reaches the outputs (the loss reads h_n alone): the compiled backward reads
    a row of zeros for ∂out and still matches torch.nn."""
    ours, theirs = make_pair(kind, INPUT, HIDDEN, dtype=torch.float32, bidirectional=True)
    ours.path = "step"
    theirs.double()
    x = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    results = []
    for layer, inputs in ((ours, x.float().requires_grad_()), (theirs, x.requires_grad_())):
        _, state = layer(inputs)
        h_n = state[0] if kind == "lstm" else state
        (h_n * torch.arange(1, h_n.numel() + 1).reshape(h_n.shape)).sum().backward()
        results.append([inputs.grad, *(p.grad for p in layer.parameters())])
    for got, want in zip(*results, strict=True):
        torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-4)
    assert loop_calls == ["compiled"] * 4
