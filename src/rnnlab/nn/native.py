"""The native path: oneDNN's CPU RNN primitives, one layer and direction per call.

Why: on CPU, PyTorch routes only LSTM to oneDNN; ``torch.nn.GRU`` and ``torch.nn.RNN`` run
ATen's generic per-step loop, and every Python-level loop pays ~20 small dispatches per step.
oneDNN's ``lbr_gru`` ("linear before reset") primitive computes exactly PyTorch's GRU,

    r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),   h' = (1 − z) ⊙ n + z ⊙ h,

with the whole time loop, forward and backward, in JIT-compiled code. Only the layouts differ:
oneDNN wants weights as (input, gate, unit) with gates ordered (z, r, n) for the GRU, and a
bias of four rows (b_iz + b_hz, b_ir + b_hr, b_in, b_hn). The conversion below is ordinary,
differentiable PyTorch, so autograd maps oneDNN's weight gradients back to our parameters.
LSTM (gates i, f, g, o — PyTorch's order) and the tanh/ReLU RNN need no reordering.

Variable lengths without sorting or packing: the forward direction runs over the padded batch
and its outputs at padded steps are set to zero — nothing downstream reads them, so their
gradient is zero and the backward pass through the valid steps is exact; the final state is
the output at each sequence's last valid step. The backward direction reverses every sequence
within its own length (a gather), runs forward, and reverses back. The LSTM's final *cell*
state at a per-sequence length is not observable that way, so LSTM with unequal lengths stays
on the step path (see :mod:`rnnlab.nn.layers`). Input dropout and dropout between layers are
applied here in PyTorch; recurrent (state) dropout and gate recording need the step path.
"""

from __future__ import annotations

import ctypes

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnlab.nn.fused import gather_time, reverse_index
from rnnlab.nn.native_build import native_library
from rnnlab.nn.regularization import variational_mask

__all__ = ["native_forward"]

_KIND = {"RNN_TANH": 0, "RNN_RELU": 1, "LSTM": 2, "GRU": 3}


def _ptr(tensor: Tensor | None) -> ctypes.c_void_p:
    return ctypes.c_void_p(tensor.data_ptr() if tensor is not None else 0)


class _WorkspacePool:
    """Reuses oneDNN's training workspaces (tens of MB) across steps: a fresh allocation of
    that size is a fresh mmap whose page faults cost as much as a layer's forward pass."""

    def __init__(self, keep: int = 8) -> None:
        self._free: list[Tensor] = []
        self._keep = keep

    def take(self, nbytes: int) -> Tensor:
        for i, buffer in enumerate(self._free):
            if buffer.numel() >= nbytes:
                return self._free.pop(i)[:nbytes]
        return torch.empty(nbytes, dtype=torch.uint8)

    def give(self, buffer: Tensor) -> None:
        base = buffer._base if buffer._base is not None else buffer
        if len(self._free) < self._keep:
            self._free.append(base)


_POOL = _WorkspacePool()


def _check(code: int) -> None:
    if code != 0:
        library = native_library()
        message = library.rnnlab_last_error().decode() if library is not None else "unavailable"
        raise RuntimeError(f"native recurrent kernel failed: {message}")


class _NativeLayer(torch.autograd.Function):
    """One layer, one direction: (x, h0, c0, W_ih, W_hh, bias) in oneDNN layouts → (y, h_T, c_T).

    ``training`` keeps oneDNN's workspace (the gate activations) for the backward pass.
    """

    @staticmethod
    def forward(ctx, kind: int, training: bool, x, h0, c0, w_ih, w_hh, bias):  # type: ignore[override]
        library = native_library()
        steps, batch, inputs = x.shape
        hidden = h0.shape[-1]
        x, h0, w_ih, w_hh, bias = (t.contiguous() for t in (x, h0, w_ih, w_hh, bias))
        c0 = c0.contiguous() if c0 is not None else None
        y = x.new_empty(steps, batch, hidden)
        h_t = x.new_empty(batch, hidden)
        c_t = x.new_empty(batch, hidden) if kind == 2 else None
        workspace = None
        if training:
            nbytes = library.rnnlab_workspace_bytes(kind, steps, batch, inputs, hidden)
            _check(int(nbytes < 0))
            workspace = _POOL.take(nbytes)
        library.rnnlab_set_threads(torch.get_num_threads())
        _check(
            library.rnnlab_forward(
                kind, int(training), steps, batch, inputs, hidden,
                _ptr(x), _ptr(h0), _ptr(c0), _ptr(w_ih), _ptr(w_hh), _ptr(bias),
                _ptr(y), _ptr(h_t), _ptr(c_t), _ptr(workspace),
            )
        )  # fmt: skip
        if training:
            ctx.kind = kind
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, bias, y, h_t, c_t, workspace)
        return y, h_t, c_t

    @staticmethod
    @once_differentiable
    def backward(ctx, d_y, d_h, d_c):  # type: ignore[override]
        x, h0, c0, w_ih, w_hh, bias, y, h_t, c_t, workspace = ctx.saved_tensors
        kind = ctx.kind
        steps, batch, inputs = x.shape
        hidden = h0.shape[-1]
        d_y = torch.zeros_like(y) if d_y is None else d_y.contiguous()
        d_h = torch.zeros_like(h_t) if d_h is None else d_h.contiguous()
        if kind == 2:
            d_c = torch.zeros_like(c_t) if d_c is None else d_c.contiguous()
        d_x, d_h0 = torch.empty_like(x), torch.empty_like(h0)
        d_c0 = torch.empty_like(c0) if kind == 2 else None
        d_wih, d_whh, d_bias = (
            torch.empty_like(w_ih),
            torch.empty_like(w_hh),
            torch.empty_like(bias),
        )
        library = native_library()
        library.rnnlab_set_threads(torch.get_num_threads())
        _check(
            library.rnnlab_backward(
                kind, steps, batch, inputs, hidden,
                _ptr(x), _ptr(h0), _ptr(c0), _ptr(w_ih), _ptr(w_hh), _ptr(bias),
                _ptr(y), _ptr(h_t), _ptr(c_t), _ptr(d_y), _ptr(d_h), _ptr(d_c),
                _ptr(workspace), _ptr(d_x), _ptr(d_h0), _ptr(d_c0),
                _ptr(d_wih), _ptr(d_whh), _ptr(d_bias),
            )
        )  # fmt: skip
        _POOL.give(workspace)
        return None, None, d_x, d_h0, d_c0, d_wih, d_whh, d_bias


def _onednn_weights(
    mode: str, hidden: int, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    """PyTorch's (G·H, I) weights and two biases → oneDNN's (I, G, H) weights and bias rows."""
    gates = w_ih.shape[0] // hidden

    def layout(w: Tensor) -> Tensor:
        if mode == "GRU":  # (r, z, n) → (z, r, n); slices and cat keep the backward cheap
            w = torch.cat([w[hidden : 2 * hidden], w[:hidden], w[2 * hidden :]])
        return w.view(gates, hidden, w.shape[1]).permute(2, 0, 1)

    if b_ih is None or b_hh is None:
        zeros = w_ih.new_zeros(gates, hidden)
        b_ih_g, b_hh_g = zeros, zeros
    else:
        b_ih_g, b_hh_g = b_ih.view(gates, hidden), b_hh.view(gates, hidden)
    if mode == "GRU":
        bias = torch.stack([b_ih_g[1] + b_hh_g[1], b_ih_g[0] + b_hh_g[0], b_ih_g[2], b_hh_g[2]])
    else:
        bias = b_ih_g + b_hh_g
    return layout(w_ih), layout(w_hh), bias


def _chunk_steps(batch: int, hidden: int) -> int:
    """Steps per primitive call: about 2¹⁸ state values (64 steps at batch 32 × 128 units).

    oneDNN keeps every step's gates in one workspace; past ~100 steps at this size it outgrows
    the caches and the same layer ran 20–25 % slower per token (measured: 2-layer GRU(128),
    batch 32: 161k tokens/s at 64 steps, 125k at 256), so long sequences run as a chain of
    chunks, each starting from the previous one's final state — the same recurrence."""
    return max(8, 262_144 // max(1, batch * hidden))


def _run_in_chunks(
    kind: int,
    record: bool,
    x: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    packed: tuple[Tensor, Tensor, Tensor],
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One layer and direction over time, as consecutive native calls (see _chunk_steps)."""
    chunk = _chunk_steps(x.shape[1], h0.shape[-1])
    if x.shape[0] <= chunk:
        return _NativeLayer.apply(kind, record, x, h0, c0, *packed)
    outputs = []
    h, c = h0, c0
    for part in x.split(chunk):
        y, h, c = _NativeLayer.apply(kind, record, part, h, c, *packed)
        outputs.append(y)
    return torch.cat(outputs), h, c


def native_forward(
    mode: str,
    x: Tensor,
    state: Tensor | tuple[Tensor, Tensor],
    weights: list[list[Tensor]],
    lengths: Tensor | None,
    *,
    hidden_size: int,
    num_layers: int,
    bidirectional: bool,
    input_dropout: float,
    dropout: float,
    training: bool,
) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
    """All layers over time-major ``x`` (T, B, F); returns (output (T, B, D·H), final state).

    ``lengths`` (CPU int64, or ``None`` for full-length batches) must be ``None`` for LSTM.
    """
    kind = _KIND[mode]
    is_lstm = mode == "LSTM"
    steps, batch = x.shape[0], x.shape[1]
    h0, c0 = state if is_lstm else (state, None)
    directions = 2 if bidirectional else 1
    valid = reverse = last = None
    if lengths is not None:
        valid = (torch.arange(steps).unsqueeze(1) < lengths.unsqueeze(0)).unsqueeze(-1)
        reverse = reverse_index(lengths, steps).t()  # (T, B)
        last = (lengths - 1).view(1, -1, 1).expand(1, batch, hidden_size)
    h_n: list[Tensor] = []
    c_n: list[Tensor] = []
    layer_input = x
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            idx = layer * directions + direction
            w_ih, w_hh, *biases = weights[idx]
            b_ih, b_hh = biases if biases else (None, None)
            inp = layer_input
            if training and input_dropout > 0:
                inp = inp * variational_mask(batch, inp.shape[-1], input_dropout, inp)
            if direction == 1:
                inp = inp.flip(0) if reverse is None else gather_time(inp, reverse, time_dim=0)
            packed = _onednn_weights(mode, hidden_size, w_ih, w_hh, b_ih, b_hh)
            initial = (h0[idx], c0[idx] if is_lstm else None)
            record = torch.is_grad_enabled() and any(
                t is not None and t.requires_grad for t in (inp, *initial, *packed)
            )
            y, h_t, c_t = _run_in_chunks(kind, record, inp, *initial, packed)
            if lengths is not None:
                h_t = y.gather(0, last).squeeze(0)
                y = y * valid
            if direction == 1:
                y = y.flip(0) if reverse is None else gather_time(y, reverse, time_dim=0)
            outputs.append(y)
            h_n.append(h_t)
            if is_lstm:
                c_n.append(c_t)
        layer_input = torch.cat(outputs, dim=-1) if directions == 2 else outputs[0]
        if training and dropout > 0 and layer < num_layers - 1:
            layer_input = torch.nn.functional.dropout(layer_input, dropout, True)
    final = (torch.stack(h_n), torch.stack(c_n)) if is_lstm else torch.stack(h_n)
    return layer_input, final
