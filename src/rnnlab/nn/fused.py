"""The fused path: PyTorch's own multi-layer kernels (oneDNN/MKL on CPU, cuDNN on GPU).

``torch.nn.GRU/LSTM/RNN`` are thin wrappers over the ``torch._VF`` functions called here; we
call them with our own parameters (after weight dropout, if any) so that the numbers are
exactly PyTorch's. Variable lengths go through ``pack_padded_sequence(enforce_sorted=False)``,
which sorts internally and restores the caller's order afterwards.

``padded_per_layer`` is the variant for graph export (ONNX): packed sequences do not export
with dynamic shapes, so each layer and direction runs unpacked over the padded batch. The
forward direction needs no help (padding comes after the valid steps and cannot affect them);
the backward direction reverses every sequence *within its own length* with a gather, runs
forward, and reverses back. Final states are gathered at each sequence's last valid step.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnlab.nn.stack import run_layers

__all__ = ["fused_forward", "gather_time", "padded_per_layer", "reverse_index"]

_KERNELS = {
    "GRU": torch._VF.gru,
    "LSTM": torch._VF.lstm,
    "RNN_TANH": torch._VF.rnn_tanh,
    "RNN_RELU": torch._VF.rnn_relu,
}


def _run_kernel(
    mode: str,
    data: Tensor,
    batch_sizes: Tensor | None,
    hx: Tensor | tuple[Tensor, Tensor],
    flat_weights: list[Tensor],
    has_bias: bool,
    num_layers: int,
    dropout: float,
    training: bool,
    bidirectional: bool,
    batch_first: bool,
) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
    kernel = _KERNELS[mode]
    if mode == "LSTM":
        if batch_sizes is None:
            out, h, c = kernel(
                data,
                hx,
                flat_weights,
                has_bias,
                num_layers,
                dropout,
                training,
                bidirectional,
                batch_first,
            )
        else:
            out, h, c = kernel(
                data,
                batch_sizes,
                hx,
                flat_weights,
                has_bias,
                num_layers,
                dropout,
                training,
                bidirectional,
            )
        return out, (h, c)
    if batch_sizes is None:
        return kernel(
            data,
            hx,
            flat_weights,
            has_bias,
            num_layers,
            dropout,
            training,
            bidirectional,
            batch_first,
        )
    return kernel(
        data,
        batch_sizes,
        hx,
        flat_weights,
        has_bias,
        num_layers,
        dropout,
        training,
        bidirectional,
    )


def fused_forward(
    mode: str,
    x: Tensor,
    hx: Tensor | tuple[Tensor, Tensor],
    flat_weights: list[Tensor],
    lengths: Tensor | None,
    *,
    has_bias: bool,
    num_layers: int,
    dropout: float,
    training: bool,
    bidirectional: bool,
    batch_first: bool,
) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
    """Run all layers in one kernel call; ``lengths`` (CPU int64) packs the batch."""
    args = (has_bias, num_layers, dropout, training, bidirectional)
    if lengths is None:
        return _run_kernel(mode, x, None, hx, flat_weights, *args, batch_first)
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    order = packed.sorted_indices
    if isinstance(hx, tuple):
        hx_sorted: Tensor | tuple[Tensor, Tensor] = (
            hx[0].index_select(1, order),
            hx[1].index_select(1, order),
        )
    else:
        hx_sorted = hx.index_select(1, order)
    out_data, state = _run_kernel(
        mode, packed.data, packed.batch_sizes, hx_sorted, flat_weights, *args, batch_first
    )
    out_packed = PackedSequence(out_data, packed.batch_sizes, order, packed.unsorted_indices)
    total = x.shape[1] if batch_first else x.shape[0]
    out, _ = pad_packed_sequence(out_packed, batch_first=batch_first, total_length=total)
    restore = packed.unsorted_indices
    if isinstance(state, tuple):
        return out, (state[0].index_select(1, restore), state[1].index_select(1, restore))
    return out, state.index_select(1, restore)


def reverse_index(lengths: Tensor, steps: int) -> Tensor:
    """(B, T) index that reverses each sequence within its length and keeps padding in place."""
    t = torch.arange(steps, device=lengths.device).unsqueeze(0)  # (1, T)
    last = (lengths - 1).unsqueeze(1)  # (B, 1)
    return torch.where(t <= last, last - t, t)


def gather_time(x: Tensor, index: Tensor, time_dim: int = 1) -> Tensor:
    """x (B, T, F) — or (T, B, F) with ``time_dim=0`` and a (T, B) index — gathered along
    time by ``index``."""
    return x.gather(time_dim, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def padded_per_layer(
    mode: str,
    x: Tensor,
    hx: Tensor | tuple[Tensor, Tensor],
    weights: list[list[Tensor]],
    lengths: Tensor,
    *,
    has_bias: bool,
    num_layers: int,
    bidirectional: bool,
) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
    """Inference over a padded, batch-first ``x`` (B, T, F) without packing (exportable)."""
    steps = x.shape[1]
    lengths = lengths.to(x.device)
    valid = (torch.arange(steps, device=x.device).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1)
    reverse = reverse_index(lengths, steps)
    last_index = (lengths - 1).view(-1, 1, 1)
    is_lstm = mode == "LSTM"
    if is_lstm:
        warnings.warn(
            "LSTM export with lengths: c_n is taken at the padded end of each sequence; "
            "outputs and h_n are exact.",
            stacklevel=3,
        )
    directions = 2 if bidirectional else 1

    def run_direction(layer_input: Tensor, layer: int, direction: int, idx: int) -> tuple:
        state = (hx[0][idx : idx + 1], hx[1][idx : idx + 1]) if is_lstm else hx[idx : idx + 1]
        seq = layer_input if direction == 0 else gather_time(layer_input, reverse)
        out, final = _run_kernel(
            mode, seq, None, state, weights[idx], has_bias, 1, 0.0, False, False, True
        )
        if direction == 1:
            out = gather_time(out, reverse)
            h_last = out[:, 0]
        else:
            h_last = out.gather(1, last_index.expand(-1, 1, out.shape[-1])).squeeze(1)
        return out * valid, (h_last, final[1][0] if is_lstm else None)

    layer_input, results = run_layers(x, num_layers, directions, run_direction)
    h_n = [h for h, _ in results]
    c_n = [c for _, c in results]
    h_stack = torch.stack(h_n)
    if is_lstm:
        return layer_input, (h_stack, torch.stack(c_n))
    return layer_input, h_stack
