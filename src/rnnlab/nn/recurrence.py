"""The step path: one layer, one direction, run step by step with a hand-written backward.

Why hand-written: a Python loop of per-step autograd ops records ~20 graph nodes per step and
replays them one by one in backward; at batch 32 × hidden 128 each op is cheaper than its
dispatch, so autograd bookkeeping dominates and worsens with length. Here each recurrence is
one ``torch.autograd.Function``: the forward loop runs under ``no_grad`` writing gate
activations into preallocated (T, B, ·) buffers, and the backward walks time in reverse with
the derivative formulas below, leaving the weight gradients to two batched GEMMs after the
loop. The input projection ``W_i x_t + b_i`` for all steps is done by the caller in one
matmul (with ordinary autograd), so these functions receive it precomputed as ``gx``.

Conventions (all time-major):
    gx         (T, B, G·H)   input projections, G = 3 (GRU), 4 (LSTM), 1 (RNN)
    h0, c0     (B, H)        initial state
    w_hh       (G·H, H)      hidden-to-hidden weights (after DropConnect, if any)
    b_hh       (G·H,) | None
    step_mask  (T, B, 1) bool | None   True at valid steps; padded steps keep the state
                                        and output exactly zero
    rec_mask   (B, H) | None  variational recurrent-dropout mask, multiplies h_{t-1} in the
                              gate pre-activations only
    reverse    bool           walk t = T-1 … 0 (the backward direction of a bidirectional layer)

Masked steps leave the state untouched, so in reverse the recurrence effectively starts at each
sequence's own last valid step — what PyTorch's packed sequences compute, without sorting.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["gru_recurrence", "lstm_recurrence", "rnn_recurrence"]


def _time_steps(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def _hidden_input(h: Tensor, rec_mask: Tensor | None) -> Tensor:
    return h if rec_mask is None else h * rec_mask


def _weight_grads(
    d_gh: Tensor, h_in: Tensor, need_w: bool, need_b: bool
) -> tuple[Tensor | None, Tensor | None]:
    """dL/dW_hh = Σ_t dgh_tᵀ h_in,t and dL/db_hh = Σ_t dgh_t, as one GEMM over all steps."""
    flat = d_gh.reshape(-1, d_gh.shape[-1])
    grad_w = flat.t().mm(h_in.reshape(-1, h_in.shape[-1])) if need_w else None
    grad_b = flat.sum(0) if need_b else None
    return grad_w, grad_b


class _GRURecurrence(torch.autograd.Function):
    r"""GRU over time (PyTorch's formulation, gate order r, z, n).

    Forward:
        r_t = σ(gx_r + W_hr h̃ + b_hr),  z_t = σ(gx_z + W_hz h̃ + b_hz)
        n_t = tanh(gx_n + r_t ⊙ (W_hn h̃ + b_hn)),  h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
    with h̃ = h_{t−1} ⊙ m (recurrent-dropout mask m, or 1).

    Backward, for δ = ∂L/∂h_t:
        δz = δ ⊙ (h_{t−1} − n),  δn = δ ⊙ (1 − z),  δn̂ = δn ⊙ (1 − n²)
        δr̂ = δn̂ ⊙ ghn ⊙ r(1 − r),  δẑ = δz ⊙ z(1 − z)
        ∂gx = [δr̂, δẑ, δn̂],  ∂gh = [δr̂, δẑ, δn̂ ⊙ r]
        ∂h_{t−1} = δ ⊙ z + (∂gh W_hh) ⊙ m
    """

    @staticmethod
    def forward(ctx, gx, h0, w_hh, b_hh, step_mask, rec_mask, reverse):  # type: ignore[override]
        steps, batch, three_h = gx.shape
        hidden = three_h // 3
        w_t = w_hh.t()
        rz = gx.new_empty(steps, batch, 2 * hidden)
        n = gx.new_empty(steps, batch, hidden)
        ghn = gx.new_empty(steps, batch, hidden)
        h_prev_all = gx.new_empty(steps, batch, hidden)
        out = (
            gx.new_zeros(steps, batch, hidden)
            if step_mask is not None
            else gx.new_empty(steps, batch, hidden)
        )
        h = h0
        for t in _time_steps(steps, reverse):
            h_prev_all[t] = h
            h_in = _hidden_input(h, rec_mask)
            gh = torch.addmm(b_hh, h_in, w_t) if b_hh is not None else h_in.mm(w_t)
            torch.sigmoid(gx[t, :, : 2 * hidden] + gh[:, : 2 * hidden], out=rz[t])
            ghn[t] = gh[:, 2 * hidden :]
            torch.tanh(torch.addcmul(gx[t, :, 2 * hidden :], rz[t, :, :hidden], ghn[t]), out=n[t])
            h_new = torch.lerp(n[t], h, rz[t, :, hidden:])  # n + z ⊙ (h − n)
            if step_mask is None:
                out[t] = h_new
                h = h_new
            else:
                valid = step_mask[t]
                out[t] = torch.where(valid, h_new, 0.0)
                h = torch.where(valid, h_new, h)
        ctx.save_for_backward(rz, n, ghn, h_prev_all, w_hh, step_mask, rec_mask)
        ctx.has_bias = b_hh is not None
        ctx.reverse = reverse
        ctx.mark_non_differentiable(rz, n)
        return out, h, rz, n

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_h_n, _grad_rz, _grad_n):  # type: ignore[override]
        rz, n, ghn, h_prev_all, w_hh, step_mask, rec_mask = ctx.saved_tensors
        steps, batch, hidden = n.shape
        d_gx = rz.new_empty(steps, batch, 3 * hidden)
        d_gh = rz.new_empty(steps, batch, 3 * hidden)
        grad_h = grad_h_n if grad_h_n is not None else rz.new_zeros(batch, hidden)
        if grad_out is None:
            grad_out = rz.new_zeros(steps, batch, hidden)
        for t in _time_steps(steps, not ctx.reverse):
            delta = grad_out[t] + grad_h
            if step_mask is not None:
                valid = step_mask[t]
                carry = torch.where(valid, 0.0, grad_h)
                delta = torch.where(valid, delta, 0.0)
            r, z = rz[t, :, :hidden], rz[t, :, hidden:]
            d_n_hat = delta * (1 - z) * (1 - n[t] * n[t])
            d_rz = torch.cat((d_n_hat * ghn[t], delta * (h_prev_all[t] - n[t])), dim=1)
            d_rz_hat = d_rz * rz[t] * (1 - rz[t])
            d_gx[t, :, : 2 * hidden] = d_rz_hat
            d_gx[t, :, 2 * hidden :] = d_n_hat
            d_gh[t, :, : 2 * hidden] = d_rz_hat
            torch.mul(d_n_hat, r, out=d_gh[t, :, 2 * hidden :])
            through_gates = d_gh[t].mm(w_hh)
            if rec_mask is not None:
                through_gates = through_gates * rec_mask
            grad_h = torch.addcmul(through_gates, delta, z)
            if step_mask is not None:
                grad_h = grad_h + carry
        h_in = h_prev_all if rec_mask is None else h_prev_all * rec_mask
        grad_w, grad_b = _weight_grads(d_gh, h_in, ctx.needs_input_grad[2], ctx.has_bias)
        return d_gx, grad_h, grad_w, grad_b, None, None, None


class _LSTMRecurrence(torch.autograd.Function):
    r"""LSTM over time (gate order i, f, g, o as PyTorch).

    Forward: [î, f̂, ĝ, ô] = gx + W_hh h̃ + b_hh;  i, f, o = σ(·), g = tanh(ĝ)
        c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
    Backward, for δh = ∂L/∂h_t and δc_in = ∂L/∂c_t from step t+1:
        δo = δh ⊙ tanh(c_t),  δc = δc_in + δh ⊙ o ⊙ (1 − tanh²c_t)
        δi = δc ⊙ g,  δf = δc ⊙ c_{t−1},  δg = δc ⊙ i,  ∂c_{t−1} = δc ⊙ f
        pre-activation gradients: δ· ⊙ σ'(·) for i, f, o and δg ⊙ (1 − g²)
        ∂h_{t−1} = (∂pre W_hh) ⊙ m
    """

    @staticmethod
    def forward(ctx, gx, h0, c0, w_hh, b_hh, step_mask, rec_mask, reverse):  # type: ignore[override]
        steps, batch, four_h = gx.shape
        hidden = four_h // 4
        w_t = w_hh.t()
        acts = gx.new_empty(steps, batch, 4 * hidden)
        cells = gx.new_empty(steps, batch, hidden)
        tanh_c = gx.new_empty(steps, batch, hidden)
        h_prev_all = gx.new_empty(steps, batch, hidden)
        c_prev_all = gx.new_empty(steps, batch, hidden)
        out = (
            gx.new_zeros(steps, batch, hidden)
            if step_mask is not None
            else gx.new_empty(steps, batch, hidden)
        )
        h, c = h0, c0
        for t in _time_steps(steps, reverse):
            h_prev_all[t] = h
            c_prev_all[t] = c
            h_in = _hidden_input(h, rec_mask)
            pre = torch.addmm(b_hh, h_in, w_t) if b_hh is not None else h_in.mm(w_t)
            pre += gx[t]
            a = acts[t]
            torch.sigmoid(pre, out=a)
            a[:, 2 * hidden : 3 * hidden] = torch.tanh(pre[:, 2 * hidden : 3 * hidden])
            i, f, g, o = a.chunk(4, dim=1)
            torch.addcmul(f * c, i, g, out=cells[t])
            torch.tanh(cells[t], out=tanh_c[t])
            h_new = o * tanh_c[t]
            if step_mask is None:
                out[t] = h_new
                h, c = h_new, cells[t]
            else:
                valid = step_mask[t]
                out[t] = torch.where(valid, h_new, 0.0)
                h = torch.where(valid, h_new, h)
                c = torch.where(valid, cells[t], c)
        ctx.save_for_backward(
            acts, cells, tanh_c, h_prev_all, c_prev_all, w_hh, step_mask, rec_mask
        )
        ctx.has_bias = b_hh is not None
        ctx.reverse = reverse
        ctx.mark_non_differentiable(acts, cells)
        return out, h, c, acts, cells

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_h_n, grad_c_n, _grad_acts, _grad_cells):  # type: ignore[override]
        acts, cells, tanh_c, h_prev_all, c_prev_all, w_hh, step_mask, rec_mask = ctx.saved_tensors
        steps, batch, hidden = cells.shape
        d_pre = acts.new_empty(steps, batch, 4 * hidden)
        grad_h = grad_h_n if grad_h_n is not None else acts.new_zeros(batch, hidden)
        grad_c = grad_c_n if grad_c_n is not None else acts.new_zeros(batch, hidden)
        if grad_out is None:
            grad_out = acts.new_zeros(steps, batch, hidden)
        for t in _time_steps(steps, not ctx.reverse):
            delta_h = grad_out[t] + grad_h
            delta_c_in = grad_c
            if step_mask is not None:
                valid = step_mask[t]
                carry_h = torch.where(valid, 0.0, grad_h)
                carry_c = torch.where(valid, 0.0, grad_c)
                delta_h = torch.where(valid, delta_h, 0.0)
                delta_c_in = torch.where(valid, delta_c_in, 0.0)
            a = acts[t]
            i, f, g, o = a.chunk(4, dim=1)
            tc = tanh_c[t]
            delta_c = delta_c_in + delta_h * o * (1 - tc * tc)
            d_act = torch.cat((delta_c * g, delta_c * c_prev_all[t], delta_c * i, delta_h * tc), 1)
            d = d_pre[t]
            torch.mul(d_act, a * (1 - a), out=d)
            d[:, 2 * hidden : 3 * hidden] = d_act[:, 2 * hidden : 3 * hidden] * (1 - g * g)
            grad_h = d.mm(w_hh)
            if rec_mask is not None:
                grad_h = grad_h * rec_mask
            grad_c = delta_c * f
            if step_mask is not None:
                grad_h = grad_h + carry_h
                grad_c = grad_c + carry_c
        h_in = h_prev_all if rec_mask is None else h_prev_all * rec_mask
        grad_w, grad_b = _weight_grads(d_pre, h_in, ctx.needs_input_grad[3], ctx.has_bias)
        return d_pre, grad_h, grad_c, grad_w, grad_b, None, None, None


class _RNNRecurrence(torch.autograd.Function):
    r"""Elman RNN over time: h_t = act(gx_t + W_hh h̃ + b_hh), act = tanh or relu.

    Backward: δ̂ = δ ⊙ (1 − h_t²) (tanh) or δ ⊙ 1[h_t > 0] (relu); ∂h_{t−1} = (δ̂ W_hh) ⊙ m.
    """

    @staticmethod
    def forward(ctx, gx, h0, w_hh, b_hh, step_mask, rec_mask, reverse, relu):  # type: ignore[override]
        steps, batch, hidden = gx.shape
        w_t = w_hh.t()
        states = gx.new_empty(steps, batch, hidden)
        h_prev_all = gx.new_empty(steps, batch, hidden)
        out = (
            gx.new_zeros(steps, batch, hidden)
            if step_mask is not None
            else gx.new_empty(steps, batch, hidden)
        )
        activation = torch.relu if relu else torch.tanh
        h = h0
        for t in _time_steps(steps, reverse):
            h_prev_all[t] = h
            h_in = _hidden_input(h, rec_mask)
            pre = torch.addmm(b_hh, h_in, w_t) if b_hh is not None else h_in.mm(w_t)
            states[t] = activation(pre + gx[t])
            if step_mask is None:
                out[t] = states[t]
                h = states[t]
            else:
                valid = step_mask[t]
                out[t] = torch.where(valid, states[t], 0.0)
                h = torch.where(valid, states[t], h)
        ctx.save_for_backward(states, h_prev_all, w_hh, step_mask, rec_mask)
        ctx.has_bias = b_hh is not None
        ctx.reverse = reverse
        ctx.relu = relu
        ctx.mark_non_differentiable(states)
        return out, h, states

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_h_n, _grad_states):  # type: ignore[override]
        states, h_prev_all, w_hh, step_mask, rec_mask = ctx.saved_tensors
        steps, batch, hidden = states.shape
        d_pre = states.new_empty(steps, batch, hidden)
        grad_h = grad_h_n if grad_h_n is not None else states.new_zeros(batch, hidden)
        if grad_out is None:
            grad_out = states.new_zeros(steps, batch, hidden)
        for t in _time_steps(steps, not ctx.reverse):
            delta = grad_out[t] + grad_h
            if step_mask is not None:
                valid = step_mask[t]
                carry = torch.where(valid, 0.0, grad_h)
                delta = torch.where(valid, delta, 0.0)
            s = states[t]
            if ctx.relu:
                torch.mul(delta, s > 0, out=d_pre[t])
            else:
                torch.mul(delta, 1 - s * s, out=d_pre[t])
            grad_h = d_pre[t].mm(w_hh)
            if rec_mask is not None:
                grad_h = grad_h * rec_mask
            if step_mask is not None:
                grad_h = grad_h + carry
        h_in = h_prev_all if rec_mask is None else h_prev_all * rec_mask
        grad_w, grad_b = _weight_grads(d_pre, h_in, ctx.needs_input_grad[2], ctx.has_bias)
        return d_pre, grad_h, grad_w, grad_b, None, None, None, None


def gru_recurrence(
    gx: Tensor,
    h0: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    step_mask: Tensor | None = None,
    rec_mask: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """Run a GRU direction over ``gx``; returns (output (T,B,H), h_n (B,H), gates r, z, n)."""
    out, h_n, rz, n = _GRURecurrence.apply(gx, h0, w_hh, b_hh, step_mask, rec_mask, reverse)
    hidden = n.shape[-1]
    return out, h_n, {"r": rz[..., :hidden], "z": rz[..., hidden:], "n": n}


def lstm_recurrence(
    gx: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    step_mask: Tensor | None = None,
    rec_mask: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
    """Run an LSTM direction; returns (output, h_n, c_n, gates i, f, g, o, c)."""
    out, h_n, c_n, acts, cells = _LSTMRecurrence.apply(
        gx, h0, c0, w_hh, b_hh, step_mask, rec_mask, reverse
    )
    i, f, g, o = acts.chunk(4, dim=-1)
    return out, h_n, c_n, {"i": i, "f": f, "g": g, "o": o, "c": cells}


def rnn_recurrence(
    gx: Tensor,
    h0: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    step_mask: Tensor | None = None,
    rec_mask: Tensor | None = None,
    reverse: bool = False,
    relu: bool = False,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """Run an Elman RNN direction; returns (output, h_n, gates {"h": states})."""
    out, h_n, states = _RNNRecurrence.apply(gx, h0, w_hh, b_hh, step_mask, rec_mask, reverse, relu)
    return out, h_n, {"h": states}
