"""Gates, dropout variants, state dicts, cells, export and CUDA for rnnlab.nn."""

from __future__ import annotations

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.errors import ConfigError
from rnnlab.nn.native_build import native_status
from rnnlab.nn.recurrence import gru_recurrence, lstm_recurrence, rnn_recurrence

from .conftest import make_pair


# --------------------------------------------------------------------------- gates
def test_gru_gates_recomputed_from_weights():
    """r, z, n returned by the layer equal the textbook equations evaluated by hand."""
    gru = rnn.GRU(3, 4, batch_first=True).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    lengths = [5, 3]
    out, h_n, gates = gru(x, lengths=lengths, return_gates=True)
    w_ir, w_iz, w_in = gru.weight_ih_l0.chunk(3)
    w_hr, w_hz, w_hn = gru.weight_hh_l0.chunk(3)
    b_ir, b_iz, b_in = gru.bias_ih_l0.chunk(3)
    b_hr, b_hz, b_hn = gru.bias_hh_l0.chunk(3)
    for b, length in enumerate(lengths):
        h = torch.zeros(4, dtype=torch.float64)
        for t in range(5):
            if t >= length:
                for key in "rzn":
                    assert torch.all(gates[0][key][b, t] == 0)
                assert torch.all(out[b, t] == 0)
                continue
            r = torch.sigmoid(w_ir @ x[b, t] + b_ir + w_hr @ h + b_hr)
            z = torch.sigmoid(w_iz @ x[b, t] + b_iz + w_hz @ h + b_hz)
            n = torch.tanh(w_in @ x[b, t] + b_in + r * (w_hn @ h + b_hn))
            h = (1 - z) * n + z * h
            torch.testing.assert_close(gates[0]["r"][b, t], r.detach())
            torch.testing.assert_close(gates[0]["z"][b, t], z.detach())
            torch.testing.assert_close(gates[0]["n"][b, t], n.detach())
            torch.testing.assert_close(out[b, t], h.detach())
        torch.testing.assert_close(h_n[0, b], h.detach())


def test_lstm_gates_recomputed_from_weights():
    lstm = rnn.LSTM(3, 4, batch_first=True, bidirectional=True).double()
    x = torch.randn(1, 4, 3, dtype=torch.float64)
    _, _, gates = lstm(x, return_gates=True)
    assert [sorted(g) for g in gates] == [sorted("ifgoc")] * 2
    # reverse direction: starts at the last step
    w_i, w_f, w_g, w_o = lstm.weight_ih_l0_reverse.chunk(4)
    u_i, u_f, u_g, u_o = lstm.weight_hh_l0_reverse.chunk(4)
    b = lstm.bias_ih_l0_reverse + lstm.bias_hh_l0_reverse
    b_i, b_f, b_g, b_o = b.chunk(4)
    h = c = torch.zeros(4, dtype=torch.float64)
    for t in (3, 2, 1, 0):
        i = torch.sigmoid(w_i @ x[0, t] + u_i @ h + b_i)
        f = torch.sigmoid(w_f @ x[0, t] + u_f @ h + b_f)
        g = torch.tanh(w_g @ x[0, t] + u_g @ h + b_g)
        o = torch.sigmoid(w_o @ x[0, t] + u_o @ h + b_o)
        c = f * c + i * g
        h = o * torch.tanh(c)
        for key, value in zip("ifgoc", (i, f, g, o, c), strict=True):
            torch.testing.assert_close(gates[1][key][0, t], value.detach())


def test_gates_shape_per_layer_and_direction():
    gru = rnn.GRU(3, 4, num_layers=2, bidirectional=True)
    _, _, gates = gru(torch.randn(6, 2, 3), return_gates=True)  # time-major input
    assert len(gates) == 4
    assert all(g["z"].shape == (2, 6, 4) for g in gates)  # always (batch, time, hidden)
    simple = rnn.RNN(3, 4)
    _, _, gates = simple(torch.randn(6, 2, 3), return_gates=True)
    assert list(gates[0]) == ["h"]


# --------------------------------------------------------------------------- dropout
def _mask_probe(kind: str, **dropouts):
    """An RNN(relu) whose outputs expose the dropout masks: W_ih = I, W_hh = 0 or I, b = 0."""
    layer = rnn.RNN(8, 8, nonlinearity="relu", batch_first=True, **dropouts)
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_()
        if kind == "input":
            layer.weight_ih_l0.copy_(torch.eye(8))
        else:
            layer.weight_hh_l0.copy_(torch.eye(8))
    return layer


def test_input_dropout_mask_fixed_over_time_and_varies_over_sequences():
    layer = _mask_probe("input", input_dropout=0.5).train()
    out, _ = layer(torch.ones(16, 10, 8))
    dropped = out == 0  # (B, T, H): h_t = relu(m ⊙ 1) = m
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped)), "mask changes over time"
    assert len({tuple(row.tolist()) for row in dropped[:, 0]}) > 1, "same mask for every sequence"
    assert 0.2 < dropped.float().mean() < 0.8
    torch.testing.assert_close(out[~dropped], torch.full_like(out[~dropped], 2.0))  # 1/(1-p)


def test_recurrent_dropout_mask_fixed_over_time_and_varies_over_sequences():
    layer = _mask_probe("recurrent", recurrent_dropout=0.5).train()
    h0 = torch.ones(1, 16, 8)
    out, _ = layer(torch.zeros(16, 10, 8), h0)  # h_t = relu(W_hh (m ⊙ h_{t-1})) = m^t
    dropped = out == 0
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped)), "mask changes over time"
    assert len({tuple(row.tolist()) for row in dropped[:, 0]}) > 1
    assert 0.2 < dropped.float().mean() < 0.8


@pytest.mark.parametrize("option", ["input_dropout", "recurrent_dropout", "weight_dropout"])
def test_dropouts_inactive_in_eval_and_active_in_training(option):
    ours, theirs = make_pair("gru", 5, 6, batch_first=True, **{option: 0.5})
    x = torch.randn(3, 7, 5, dtype=torch.float64)
    ours.eval()
    torch.testing.assert_close(ours(x)[0], theirs(x)[0])
    ours.train()
    assert not torch.allclose(ours(x)[0], theirs(x)[0])


def test_weight_dropout_changes_each_forward():
    ours, _ = make_pair("lstm", 5, 6, batch_first=True, weight_dropout=0.5)
    ours.train()
    x = torch.randn(3, 7, 5, dtype=torch.float64)
    x32 = torch.randn(3, 7, 5)
    assert ours._choose_path(False, x, None) == "fused"  # float64: torch's kernels
    compiled = native_status().available
    assert ours.float()._choose_path(False, x32, None) == ("step" if compiled else "fused")
    ours.double()
    a, b = ours(x)[0], ours(x)[0]
    assert not torch.allclose(a, b)
    # gradients reach the raw weight only where the DropConnect mask kept an entry
    ours.zero_grad()
    torch.manual_seed(7)
    ours(x)[0].sum().backward()
    grad = ours.weight_hh_l0.grad
    assert 0.2 < (grad == 0).float().mean() < 0.8


def test_variational_dropout_uses_step_path_only_in_training():
    gru = rnn.GRU(4, 4, recurrent_dropout=0.3)
    x = torch.randn(5, 2, 4, dtype=torch.float64)
    assert gru.double().train()._choose_path(False, x, None) == "step"
    assert gru.eval()._choose_path(False, x, None) == "fused"


# --------------------------------------------------------------------------- state dicts
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn_tanh"])
def test_state_dict_round_trip_both_ways(kind):
    ours, theirs = make_pair(kind, 5, 6, num_layers=3, bidirectional=True, bias=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, p in theirs.named_parameters():
        assert getattr(ours, name).shape == p.shape
    fresh_torch = type(theirs)(5, 6, num_layers=3, bidirectional=True).double()
    fresh_torch.load_state_dict(ours.state_dict())
    x = torch.randn(7, 2, 5, dtype=torch.float64)
    torch.testing.assert_close(fresh_torch(x)[0], ours(x)[0])


def test_no_bias_layer_has_torch_parameter_names():
    ours, theirs = make_pair("gru", 5, 6, num_layers=2, bias=False)
    assert set(dict(ours.named_parameters())) == set(dict(theirs.named_parameters()))
    x = torch.randn(4, 3, 5, dtype=torch.float64)
    torch.testing.assert_close(ours(x, return_gates=True)[0], theirs(x)[0])


# --------------------------------------------------------------------------- cells
@pytest.mark.parametrize(
    ("ours_cls", "torch_cls", "kwargs"),
    [
        (rnn.GRUCell, torch.nn.GRUCell, {}),
        (rnn.LSTMCell, torch.nn.LSTMCell, {}),
        (rnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
        (rnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    ],
)
def test_cells_match_torch(ours_cls, torch_cls, kwargs):
    ours = ours_cls(5, 6, **kwargs).double()
    theirs = torch_cls(5, 6, **kwargs).double()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    xt = x.detach().clone().requires_grad_(True)
    a, b = ours(x), theirs(xt)
    a = a[0] + a[1] if isinstance(a, tuple) else a
    b = b[0] + b[1] if isinstance(b, tuple) else b
    torch.testing.assert_close(a, b)
    a.sum().backward()
    b.sum().backward()
    torch.testing.assert_close(x.grad, xt.grad)
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, dict(theirs.named_parameters())[name].grad)


# --------------------------------------------------------------------------- gradcheck
def _gradcheck_inputs(gates: int, steps=4, batch=3, hidden=2):
    gx = torch.randn(steps, batch, gates * hidden, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(batch, hidden, dtype=torch.float64, requires_grad=True)
    w = torch.randn(gates * hidden, hidden, dtype=torch.float64, requires_grad=True)
    b = torch.randn(gates * hidden, dtype=torch.float64, requires_grad=True)
    mask = (torch.arange(steps).unsqueeze(1) < torch.tensor([4, 1, 3])).unsqueeze(-1)
    rec = torch.tensor([[2.0, 0.0], [2.0, 2.0], [0.0, 2.0]], dtype=torch.float64)
    return gx, h0, w, b, mask, rec


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_recurrences_pass_gradcheck(reverse, masked):
    gx, h0, w, b, mask, rec = _gradcheck_inputs(3)
    mask = mask if masked else None
    b_ih = torch.randn_like(b, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda gx, h0, w, b, b_ih: gru_recurrence(gx, h0, w, b, mask, rec, reverse, b_ih)[:2],
        (gx, h0, w, b, b_ih),
    )
    gx, h0, w, b, mask, rec = _gradcheck_inputs(4)
    c0 = torch.randn_like(h0, requires_grad=True)
    mask = mask if masked else None
    assert torch.autograd.gradcheck(
        lambda gx, h0, c0, w, b: lstm_recurrence(gx, h0, c0, w, b, mask, rec, reverse)[:3],
        (gx, h0, c0, w, b),
    )
    gx, h0, w, b, mask, rec = _gradcheck_inputs(1)
    mask = mask if masked else None
    for relu in (False, True):
        assert torch.autograd.gradcheck(
            lambda *a, relu=relu: rnn_recurrence(*a, mask, rec, reverse, relu)[:2],
            (gx, h0, w, b),
        )


# --------------------------------------------------------------------------- export
def test_onnx_export_with_lengths_generalises_to_other_lengths(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    pytest.importorskip("onnx", reason="onnx is not installed")

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = rnn.GRU(5, 6, num_layers=2, bidirectional=True, batch_first=True)

        def forward(self, x, lengths):
            out, h_n = self.gru(x, lengths=lengths)
            return out, h_n

    model = Encoder().eval()
    example = (torch.randn(2, 4, 5), torch.tensor([4, 2]))
    path = tmp_path / "gru.onnx"
    torch.onnx.export(
        model,
        example,
        str(path),
        input_names=["x", "lengths"],
        output_names=["out", "h_n"],
        dynamic_axes={
            "x": {0: "batch", 1: "time"},
            "lengths": {0: "batch"},
            "out": {0: "batch", 1: "time"},
            "h_n": {1: "batch"},
        },
        dynamo=False,
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.randn(5, 9, 5)
    lengths = torch.tensor([3, 9, 1, 6, 2])
    out_ort, h_ort = session.run(None, {"x": x.numpy(), "lengths": lengths.numpy()})
    with torch.no_grad():
        out_pt, h_pt = model(x, lengths)
    torch.testing.assert_close(torch.from_numpy(out_ort), out_pt, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(torch.from_numpy(h_ort), h_pt, atol=1e-5, rtol=1e-4)


# --------------------------------------------------------------------------- CUDA
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device; none is present")
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn_tanh"])
def test_cuda_matches_torch_on_both_paths(kind):
    ours, theirs = make_pair(
        kind, 5, 6, dtype=torch.float32, num_layers=2, bidirectional=True, batch_first=True
    )
    ours, theirs = ours.cuda(), theirs.cuda()
    x = torch.randn(4, 7, 5, device="cuda")
    lengths = torch.tensor([3, 7, 1, 5], device="cuda")
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        x, lengths.cpu(), batch_first=True, enforce_sorted=False
    )
    ref, _ = torch.nn.utils.rnn.pad_packed_sequence(
        theirs(packed)[0], batch_first=True, total_length=7
    )
    for step_path in (False, True):
        out = ours(x, lengths=lengths, return_gates=step_path)[0]
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)


def test_auto_path_without_native_trains_variable_lengths_on_the_step_path_on_cpu():
    """Without the native path (float64 here), CPU training with lengths takes the step path
    (packed CPU kernels are 2–5× slower); inference, full-length batches and forced paths take
    what they ask for."""
    gru = rnn.GRU(4, 5, num_layers=2, batch_first=True).double()
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    assert gru._choose_path(False, x, lengths) == "step"
    assert gru._choose_path(False, x, None) == "fused"
    with torch.no_grad():
        assert gru._choose_path(False, x, lengths) == "fused"
    gru.path = "fused"
    assert gru._choose_path(False, x, lengths) == "fused"
    gru.path = "step"
    assert gru._choose_path(False, x, None) == "step"


def test_forced_fused_path_refuses_features_it_cannot_compute():
    gru = rnn.GRU(4, 5, recurrent_dropout=0.2, path="fused")
    with pytest.raises(ConfigError, match=r"path='fused' cannot record gates"):
        gru(torch.randn(6, 2, 4))
    with pytest.raises(ConfigError, match=r"path must be one of"):
        rnn.GRU(4, 5, path="cudnn")


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn_tanh"])
def test_auto_path_gives_the_fused_paths_numbers(kind):
    """Whatever auto picks, training outputs and gradients equal the packed fused kernel's."""
    ours, _ = make_pair(kind, 5, 6, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(4, 7, 5, dtype=torch.float64)
    lengths = torch.tensor([7, 3, 1, 5])
    results = []
    for path in ("auto", "fused"):
        ours.path = path
        xi = x.clone().requires_grad_(True)
        out = ours(xi, lengths=lengths)[0]
        out.square().sum().backward()
        results.append((out.detach(), xi.grad, ours.weight_hh_l1.grad.clone()))
        ours.zero_grad()
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


@pytest.mark.skipif(not native_status().available, reason="needs the compiled step loops")
def test_auto_leaves_whole_sequence_lstm_inference_to_torch_kernels():
    """bench_recurrent.py: oneDNN's LSTM inference kernel keeps up with or beats the compiled
    loops over whole sequences, so auto takes it there and the compiled loops elsewhere."""
    x, lengths = torch.randn(4, 9, 5), torch.tensor([9, 5, 7, 2])
    lstm, gru = rnn.LSTM(5, 6, batch_first=True).eval(), rnn.GRU(5, 6, batch_first=True).eval()
    with torch.no_grad():
        assert lstm._choose_path(False, x, None) == "fused"
        assert lstm._choose_path(False, x, lengths) == "step"  # packed kernels are slow
        assert lstm._choose_path(True, x, None) == "step"  # gates are recorded on the step path
        assert gru._choose_path(False, x, None) == "step"
    assert lstm._choose_path(False, x, None) == "step"  # recording a graph: training
