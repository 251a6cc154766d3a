"""The native path (oneDNN RNN primitives) equals torch.nn: outputs, final states and every
gradient, in float32 against a float64 torch.nn reference (1e-5); it is chosen on its own on
the CPU, and without oneDNN or a compiler everything falls back to the pure-PyTorch paths."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.errors import ConfigError
from rnnlab.nn import native, native_build
from rnnlab.nn.native_build import native_status

from .conftest import make_pair, random_problem, torch_reference

needs_native = pytest.mark.skipif(
    not native_status().available,
    reason=f"native path unavailable here: {native_status().reason}",
)

BATCH, STEPS, INPUT, HIDDEN = 4, 7, 5, 6
MIXED_LENGTHS = [3, STEPS, 1, 5]

CASES = [
    case
    for case in itertools.product(
        ["gru", "lstm", "rnn_tanh", "rnn_relu"],
        [1, 2, 3],
        [False, True],  # bidirectional
        [False, True],  # batch_first
        [None, MIXED_LENGTHS],
    )
    if not (case[0] == "lstm" and case[4] is not None)  # LSTM + lengths: step path (c_n)
]


def _grads_and_outputs(layer, x, hx, lengths, batch_first, ours, weights):
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


@needs_native
@pytest.mark.parametrize(("kind", "num_layers", "bidirectional", "batch_first", "lengths"), CASES)
def test_native_matches_torch_forward_and_gradients(
    kind, num_layers, bidirectional, batch_first, lengths
):
    ours, theirs = make_pair(
        kind,
        INPUT,
        HIDDEN,
        dtype=torch.float32,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
    )
    ours.path = "native"
    theirs.double()
    x, hx, out_weight, state_weights = random_problem(
        kind, num_layers, bidirectional, batch_first, (BATCH, STEPS, INPUT, HIDDEN)
    )
    weights = [out_weight, *state_weights]
    hx32 = tuple(h.float() for h in hx) if kind == "lstm" else hx.float()
    got = _grads_and_outputs(ours, x.float(), hx32, lengths, batch_first, True, weights)
    want = _grads_and_outputs(theirs, x, hx, lengths, batch_first, False, weights)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g.double(), w, atol=1e-5, rtol=1e-4)


@needs_native
@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_long_sequences_run_as_a_chain_of_chunks_with_the_same_numbers(kind, monkeypatch):
    """Sequences longer than a chunk run as consecutive calls; outputs and gradients match."""
    calls = []
    original = native._NativeLayer.apply

    def counting(*args):
        calls.append(args[2].shape[0])
        return original(*args)

    monkeypatch.setattr(native, "_chunk_steps", lambda batch, hidden: 3)
    monkeypatch.setattr(native._NativeLayer, "apply", counting)
    test_native_matches_torch_forward_and_gradients(kind, 2, True, True, None)
    assert calls == [3, 3, 1] * 4  # 7 steps = 3 + 3 + 1, for 2 layers × 2 directions
    if kind == "gru":
        calls.clear()
        test_native_matches_torch_forward_and_gradients(kind, 2, True, False, MIXED_LENGTHS)
        assert calls == [3, 3, 1] * 4


@needs_native
def test_native_input_and_weight_dropout_train_and_leave_eval_exact():
    """Input dropout and DropConnect run on the native path; in eval they change nothing."""
    ours, theirs = make_pair(
        "gru", INPUT, HIDDEN, dtype=torch.float32, num_layers=2, batch_first=True,
        input_dropout=0.3, weight_dropout=0.3, dropout=0.3,
    )  # fmt: skip
    x = torch.randn(BATCH, STEPS, INPUT)
    ours.path = "native"
    assert ours.train()._choose_path(False, x, None) == "native"
    torch.manual_seed(3)
    a = ours(x)[0]
    torch.manual_seed(4)
    b = ours(x)[0]
    assert not torch.allclose(a, b)
    a.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in ours.parameters())
    ours.eval()
    torch.testing.assert_close(ours(x)[0], theirs.eval()(x)[0], atol=1e-5, rtol=1e-4)


@needs_native
def test_auto_runs_the_compiled_step_loops_on_cpu_float32_and_native_on_request():
    """With the native library built, auto takes the step path (its compiled loops) for every
    CPU float32 call: they beat oneDNN's primitives and torch's kernels in every row of
    benchmarks/bench_recurrent.py. Other dtypes stay on torch's kernels; native on request."""
    x = torch.randn(BATCH, STEPS, INPUT)
    lengths = torch.tensor(MIXED_LENGTHS)
    for layer in (
        rnn.GRU(INPUT, HIDDEN, num_layers=2, batch_first=True),
        rnn.LSTM(INPUT, HIDDEN, batch_first=True, bidirectional=True),
        rnn.RNN(INPUT, HIDDEN, batch_first=True, input_dropout=0.2),
    ):
        for training in (True, False):
            for lens in (None, lengths):
                assert layer.train(training)._choose_path(False, x, lens) == "step"
        assert layer._choose_path(False, x.double(), None) == "fused"
    gru = rnn.GRU(INPUT, HIDDEN, batch_first=True, path="native")
    assert gru._choose_path(False, x, lengths) == "native"
    gru.recurrent_dropout = 0.2
    gru.train()
    with pytest.raises(ConfigError, match=r"path='native' cannot run this call: recurrent_dropout"):
        gru(x)


@needs_native
def test_native_path_refuses_float64_with_a_reason():
    gru = rnn.GRU(INPUT, HIDDEN, path="native").double()
    with pytest.raises(ConfigError, match=r"float32 on the CPU only, got torch.float64"):
        gru(torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64))


def test_missing_onednn_gives_one_sentence_and_layers_still_run(monkeypatch):
    monkeypatch.setattr(native_build, "_find_onednn", lambda: None)
    native_build._load.cache_clear()
    try:
        status = native_status()
        assert not status.available
        assert status.reason == 'oneDNN is not installed; `pip install "rnnlab[fast]"` installs it.'
        gru = rnn.GRU(INPUT, HIDDEN, batch_first=True)
        x = torch.randn(BATCH, STEPS, INPUT)
        assert gru._choose_path(False, x, torch.tensor(MIXED_LENGTHS)) == "step"
        gru(x, lengths=MIXED_LENGTHS)[0].sum().backward()
        gru.path = "native"
        with pytest.raises(ConfigError, match=r"oneDNN is not installed"):
            gru(x)
    finally:
        native_build._load.cache_clear()


def test_no_compiler_falls_back_cleanly_in_a_fresh_process(tmp_path):
    """A machine without g++: the build is skipped, the reason is one sentence, training works."""
    code = (
        "import torch, rnnlab.nn as rnn\n"
        "from rnnlab.nn.native_build import native_status\n"
        "s = native_status()\n"
        "gru = rnn.GRU(5, 6, batch_first=True)\n"
        "x = torch.randn(4, 7, 5)\n"
        "gru(x, lengths=[3, 7, 1, 5])[0].sum().backward()\n"
        "print(s.available, '|', s.reason)\n"
    )
    env = {
        **os.environ,
        "RNNLAB_CXX": str(tmp_path / "no-such-compiler"),
        "CXX": "",
        "RNNLAB_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    available, reason = result.stdout.strip().split(" | ")
    if "oneDNN is not installed" in reason:
        pytest.skip("oneDNN is not installed here, so the compiler is never looked for")
    assert available == "False"
    assert reason == "no C++ compiler (g++ or $CXX) was found to build the native path."


@needs_native
def test_build_is_cached_and_reused(tmp_path, monkeypatch):
    """A second load in a fresh cache builds once; the library lands atomically (no temp files)."""
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path))
    native_build._load.cache_clear()
    try:
        first = native_status()
        assert first.available and first.library is not None
        assert first.library.parent == tmp_path
        stamp = first.library.stat().st_mtime_ns
        native_build._load.cache_clear()
        second = native_status()
        assert second.library == first.library
        assert second.library.stat().st_mtime_ns == stamp
        assert [p.name for p in tmp_path.iterdir()] == [first.library.name]
    finally:
        native_build._load.cache_clear()
