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

Compiled loops: on CPU in float32, where the native library is available
(:mod:`rnnlab.nn.native_build`), the GRU, LSTM and Elman time loops below run in compiled code
(``csrc/step_loops.cpp``: the batch split over threads, one sgemm and one fused pass of gate
math per step) over the very buffers allocated here; everything else — buffers, the input
projections, the weight gradients — stays in this file. The PyTorch loops remain the reference
(float64, GPU, no compiler) and the tests hold the two to each other and to ``torch.nn``.
Only what the backward needs is kept: for the GRU that is r, z, n, the states and
W_hn h̃ + b_hn — not the whole W_hh h̃ — and ∂gh's r, z parts are read from ∂gx, of which they
are a copy.
"""

from __future__ import annotations

import ctypes
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnlab.nn.native_build import native_library

__all__ = ["gru_recurrence", "lstm_recurrence", "rnn_recurrence"]


def _compiled_loops(*tensors: Tensor | None) -> ctypes.CDLL | None:
    """The native library when every given tensor is a CPU float32 tensor, else ``None``."""
    for tensor in tensors:
        if tensor is not None and (tensor.device.type != "cpu" or tensor.dtype != torch.float32):
            return None
    library = native_library()
    if library is not None:
        library.rnnlab_set_threads(torch.get_num_threads())
    return library


def _run(function: Any, *args: Any) -> None:
    """Call a compiled loop; its non-zero status becomes a RuntimeError with its message."""
    if function(*args) != 0:
        message = native_library().rnnlab_last_error().decode("utf-8", "replace")
        raise RuntimeError(f"compiled recurrence {function.__name__} failed: {message}")


def _ptr(tensor: Tensor | None) -> ctypes.c_void_p:
    """Address of a contiguous tensor's data (NULL for ``None``)."""
    return ctypes.c_void_p(tensor.data_ptr() if tensor is not None else 0)


def _loop_inputs(*tensors: Tensor | None) -> tuple[Tensor | None, ...]:
    """The tensors as the compiled loops read them: contiguous, with a (T, B, 1) bool step
    mask as (T, B) bytes (bool is one byte per element). The caller must keep the returned
    tensors alive for the duration of the call: a pointer to a freed temporary is garbage."""
    prepared = []
    for tensor in tensors:
        if tensor is not None and tensor.dtype == torch.bool:
            tensor = tensor.reshape(tensor.shape[:2])
        prepared.append(None if tensor is None else tensor.contiguous())
    return tuple(prepared)


def _output_grad(grad: Tensor | None) -> tuple[Tensor | None, int]:
    """∂out as the compiled backward loops read it, with the distance between its rows: a
    column slice of a wider buffer (one direction's half of a bidirectional layer's output
    gradient) is read in place rather than copied; a null gradient has rows 0 apart."""
    if grad is None:
        return None, 0
    batch, hidden = grad.shape[1], grad.shape[2]
    row = grad.stride(1)
    if grad.stride(2) == 1 and row >= hidden and grad.stride(0) == batch * row:
        return grad, row
    return grad.contiguous(), hidden


def _time_steps(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def _last_step(steps: int, reverse: bool) -> int:
    return 0 if reverse else steps - 1


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


def _state_index(steps: int, reverse: bool):
    """Slots of the (T+1, B, H) state buffer S: step t reads S[prev(t)] and writes S[next(t)].

    Forward: prev = t, next = t + 1 (S[0] = h0).  Reverse: prev = t + 1, next = t (S[T] = h0).
    The states *before* each step are then S[:-1] (forward) or S[1:] (reverse), and the states
    *after* each step S[1:] or S[:-1], without copying.
    """
    if reverse:
        return steps, (lambda t: (t + 1, t)), slice(1, None), slice(None, -1)
    return 0, (lambda t: (t, t + 1)), slice(None, -1), slice(1, None)


def _masked_outputs(states_after: Tensor, step_mask: Tensor | None) -> Tensor:
    """Outputs are the states after each step, exactly zero at padded steps."""
    return states_after if step_mask is None else states_after * step_mask


class _GRURecurrence(torch.autograd.Function):
    r"""GRU over time (PyTorch's formulation, gate order r, z, n).

    Forward:
        r_t = σ(gx_r + W_hr h̃ + b_hr),  z_t = σ(gx_z + W_hz h̃ + b_hz)
        n_t = tanh(gx_n + r_t ⊙ ghn_t),  ghn_t = W_hn h̃ + b_hn
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
    with h̃ = h_{t−1} ⊙ m (recurrent-dropout mask m, or 1).

    Backward, for δ = ∂L/∂h_t:
        δn̂ = δ ⊙ (1 − z)(1 − n²)                       (pre-activation of n)
        δr̂ = δn̂ ⊙ ghn ⊙ r(1 − r),  δẑ = δ ⊙ (h_{t−1} − n) ⊙ z(1 − z)
        ∂gx = [δr̂, δẑ, δn̂],  ∂gh = [δr̂, δẑ, δn̂ ⊙ r]
        ∂h_{t−1} = δ ⊙ z + (∂gh W_hh) ⊙ m
    The step-independent factors are computed for all steps at once before the loop, leaving
    six small ops and one GEMM per step. ``gx`` is W_i x + b_i, or W_i x with ``b_ih`` given
    separately and added here (∂b_ih = Σ ∂gx).
    """

    @staticmethod
    def forward(ctx, gx, h0, w_hh, b_hh, step_mask, rec_mask, reverse, b_ih):  # type: ignore[override]
        steps, batch, three_h = gx.shape
        hidden = three_h // 3
        w_t = w_hh.t()
        rz = gx.new_empty(steps, batch, 2 * hidden)
        n = gx.new_empty(steps, batch, hidden)
        states = gx.new_empty(steps + 1, batch, hidden)
        first, slots, _, after = _state_index(steps, reverse)
        states[first] = h0
        compiled = _compiled_loops(gx, h0, w_hh, b_hh, rec_mask, b_ih)
        if compiled is not None:
            ghn = gx.new_empty(steps, batch, hidden)  # the only part of W_hh h̃ + b_hh kept
            # every argument bound to a name: a temporary would be freed before the call
            args = _loop_inputs(gx, b_ih, w_t, b_hh, step_mask, rec_mask)
            _run(
                compiled.rnnlab_gru_steps_forward,
                steps, batch, hidden, int(reverse), *map(_ptr, args),
                _ptr(rz), _ptr(n), _ptr(ghn), _ptr(states),
            )  # fmt: skip
        else:
            gh = gx.new_empty(steps, batch, 3 * hidden)
            ghn = gh[..., 2 * hidden :]
            gx = gx if b_ih is None else gx + b_ih
        for t in _time_steps(steps, reverse) if compiled is None else ():
            prev, nxt = slots(t)
            h = states[prev]
            h_in = _hidden_input(h, rec_mask)
            if b_hh is not None:
                torch.addmm(b_hh, h_in, w_t, out=gh[t])
            else:
                torch.mm(h_in, w_t, out=gh[t])
            torch.sigmoid(gx[t, :, : 2 * hidden] + gh[t, :, : 2 * hidden], out=rz[t])
            torch.tanh(
                torch.addcmul(gx[t, :, 2 * hidden :], rz[t, :, :hidden], gh[t, :, 2 * hidden :]),
                out=n[t],
            )
            if step_mask is None:
                torch.lerp(n[t], h, rz[t, :, hidden:], out=states[nxt])  # n + z ⊙ (h − n)
            else:
                h_new = torch.lerp(n[t], h, rz[t, :, hidden:])
                torch.where(step_mask[t], h_new, h, out=states[nxt])
        out = _masked_outputs(states[after], step_mask)
        ctx.save_for_backward(rz, n, ghn, states, w_hh, step_mask, rec_mask)
        ctx.has_bias = b_hh is not None
        ctx.reverse = reverse
        ctx.mark_non_differentiable(rz, n)
        ctx.set_materialize_grads(False)  # no zero tensors for the unused gate outputs
        return out, states[slots(_last_step(steps, reverse))[1]], rz, n

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_h_n, _grad_rz, _grad_n):  # type: ignore[override]
        rz, n, ghn, states, w_hh, step_mask, rec_mask = ctx.saved_tensors
        steps, batch, hidden = n.shape
        _, _, before, _ = _state_index(steps, ctx.reverse)
        h_prev = states[before]
        compiled = _compiled_loops(rz, grad_out, grad_h_n)
        if compiled is not None:
            d_gx = rz.new_empty(steps, batch, 3 * hidden)
            d_hn = rz.new_empty(steps, batch, hidden)
            grad_h = (
                rz.new_zeros(batch, hidden)
                if grad_h_n is None
                else grad_h_n.clone(memory_format=torch.contiguous_format)
            )
            ghn_c, w_hh_c, step_mask_c, rec_mask_c = _loop_inputs(ghn, w_hh, step_mask, rec_mask)
            grad_rows, row_stride = _output_grad(grad_out)
            wants_bias = ctx.has_bias or ctx.needs_input_grad[7]
            bias_grads = rz.new_empty(6 * hidden) if wants_bias else None  # [∂b_ih, ∂b_hh]
            _run(
                compiled.rnnlab_gru_steps_backward,
                steps, batch, hidden, int(ctx.reverse), _ptr(grad_rows), row_stride,
                _ptr(rz), _ptr(n), _ptr(ghn_c), _ptr(states), _ptr(w_hh_c),
                _ptr(step_mask_c), _ptr(rec_mask_c),
                _ptr(d_gx), _ptr(d_hn), _ptr(grad_h), _ptr(bias_grads),
            )  # fmt: skip
            d_rz = d_gx[..., : 2 * hidden]  # ∂gh's r, z parts are ∂gx's
            return _GRURecurrence._gradients(
                ctx, d_gx, d_rz, d_hn, grad_h, h_prev, rec_mask, bias_grads
            )
        r, z = rz[..., :hidden], rz[..., hidden:]
        rz_slope = rz * (1 - rz)
        # per-step factors: ∂gh = [δn̂, δ, δn̂] ⊙ coef,  δn̂ = δ ⊙ n_slope
        coef = torch.cat(
            (
                ghn * rz_slope[..., :hidden],
                (h_prev - n) * rz_slope[..., hidden:],
                r,
            ),
            dim=-1,
        )
        n_slope = (1 - z) * (1 - n * n)
        d_gh = rz.new_empty(steps, batch, 3 * hidden)
        d_n_hat = rz.new_empty(steps, batch, hidden)
        grad_h = grad_h_n if grad_h_n is not None else rz.new_zeros(batch, hidden)
        if grad_out is None:
            grad_out = rz.new_zeros(steps, batch, hidden)
        for t in _time_steps(steps, not ctx.reverse):
            delta = grad_out[t] + grad_h
            if step_mask is not None:
                valid = step_mask[t]
                carry = torch.where(valid, 0.0, grad_h)
                delta = torch.where(valid, delta, 0.0)
            dn = torch.mul(delta, n_slope[t], out=d_n_hat[t])
            torch.mul(torch.cat((dn, delta, dn), dim=1), coef[t], out=d_gh[t])
            through_gates = d_gh[t].mm(w_hh)
            if rec_mask is not None:
                through_gates = through_gates * rec_mask
            grad_h = torch.addcmul(through_gates, delta, z[t])
            if step_mask is not None:
                grad_h = grad_h + carry
        d_gx = torch.cat((d_gh[..., : 2 * hidden], d_n_hat), dim=-1)
        d_rz, d_hn = d_gh[..., : 2 * hidden], d_gh[..., 2 * hidden :]
        return _GRURecurrence._gradients(ctx, d_gx, d_rz, d_hn, grad_h, h_prev, rec_mask)

    @staticmethod
    def _gradients(  # type: ignore[no-untyped-def]
        ctx, d_gx, d_rz, d_hn, grad_h, h_prev, rec_mask, bias_grads=None
    ):
        """W_hh's gradient from ∂gh = [d_rz, d_hn] as GEMMs over all steps after the loop;
        ∂b_ih = Σ ∂gx, and ∂b_hh = [Σ d_rz, Σ d_hn] whose first part is ∂b_ih's — or both
        from ``bias_grads`` = [∂b_ih, ∂b_hh], summed by the compiled loop as it went."""
        h_in = h_prev if rec_mask is None else h_prev * rec_mask
        grad_w = None
        if ctx.needs_input_grad[2]:
            w_rz, _ = _weight_grads(d_rz, h_in, True, False)
            w_n, _ = _weight_grads(d_hn, h_in, True, False)
            grad_w = torch.cat((w_rz, w_n))
        three_h = d_gx.shape[-1]
        if bias_grads is not None:
            grad_b_ih, grad_b = bias_grads[:three_h], bias_grads[three_h:]
        else:
            grad_b_ih = d_gx.sum((0, 1))
            grad_b = torch.cat((grad_b_ih[: d_rz.shape[-1]], d_hn.sum((0, 1))))
        return (
            d_gx,
            grad_h,
            grad_w,
            grad_b if ctx.has_bias else None,
            None,
            None,
            None,
            grad_b_ih if ctx.needs_input_grad[7] else None,
        )


class _LSTMRecurrence(torch.autograd.Function):
    r"""LSTM over time (gate order i, f, g, o as PyTorch).

    Forward: [î, f̂, ĝ, ô] = gx + W_hh h̃ + b_hh;  i, f, o = σ(·), g = tanh(ĝ)
        c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
    The candidate uses tanh(x) = 2σ(2x) − 1, so one sigmoid over all four gates serves:
    with s_g = σ(2ĝ), g = 2 s_g − 1 and dg/dĝ = 1 − g² = 4 s_g (1 − s_g).
    Backward, for δh = ∂L/∂h_t and δc_in = ∂L/∂c_t from step t+1:
        δc = δc_in + δh ⊙ o ⊙ (1 − tanh²c_t)
        ∂pre = [δc ⊙ g, δc ⊙ c_{t−1}, 4 δc ⊙ i, δh ⊙ tanh c_t] ⊙ s(1 − s)   (s = the sigmoids)
        ∂c_{t−1} = δc ⊙ f,  ∂h_{t−1} = (∂pre W_hh) ⊙ m
    """

    @staticmethod
    def forward(ctx, gx, h0, c0, w_hh, b_hh, step_mask, rec_mask, reverse):  # type: ignore[override]
        steps, batch, four_h = gx.shape
        hidden = four_h // 4
        g_rows = slice(2 * hidden, 3 * hidden)
        scale = torch.ones(four_h, 1, dtype=gx.dtype, device=gx.device)
        scale[g_rows] = 2.0
        w_t = (w_hh * scale).t()  # candidate rows doubled: σ(2ĝ)
        b_scaled = None if b_hh is None else b_hh * scale.squeeze(1)
        sig = gx.new_empty(steps, batch, 4 * hidden)  # σ(i), σ(f), σ(2ĝ), σ(o)
        cand = gx.new_empty(steps, batch, hidden)  # g
        tanh_c = gx.new_empty(steps, batch, hidden)
        h_states = gx.new_empty(steps + 1, batch, hidden)
        c_states = gx.new_empty(steps + 1, batch, hidden)
        first, slots, _, after = _state_index(steps, reverse)
        h_states[first] = h0
        c_states[first] = c0
        compiled = _compiled_loops(gx, h0, c0, w_hh, b_hh, rec_mask)
        if compiled is not None:
            args = _loop_inputs(gx, w_t, b_scaled, step_mask, rec_mask)
            _run(
                compiled.rnnlab_lstm_steps_forward,
                steps, batch, hidden, int(reverse), *map(_ptr, args),
                _ptr(sig), _ptr(cand), _ptr(tanh_c), _ptr(h_states), _ptr(c_states),
            )  # fmt: skip
        for t in _time_steps(steps, reverse) if compiled is None else ():
            prev, nxt = slots(t)
            h, c = h_states[prev], c_states[prev]
            h_in = _hidden_input(h, rec_mask)
            pre = torch.addmm(b_scaled, h_in, w_t) if b_scaled is not None else h_in.mm(w_t)
            pre += gx[t]
            pre[:, g_rows] += gx[t, :, g_rows]
            a = torch.sigmoid(pre, out=sig[t])
            i, f, s_g, o = a.chunk(4, dim=1)
            g = torch.mul(s_g, 2.0, out=cand[t]).sub_(1.0)
            c_new = torch.addcmul(f * c, i, g, out=None if step_mask is not None else c_states[nxt])
            torch.tanh(c_new, out=tanh_c[t])
            if step_mask is None:
                torch.mul(o, tanh_c[t], out=h_states[nxt])
            else:
                valid = step_mask[t]
                torch.where(valid, o * tanh_c[t], h, out=h_states[nxt])
                torch.where(valid, c_new, c, out=c_states[nxt])
        out = _masked_outputs(h_states[after], step_mask)
        last = slots(_last_step(steps, reverse))[1]
        ctx.save_for_backward(sig, cand, tanh_c, c_states, h_states, w_hh, step_mask, rec_mask)
        ctx.has_bias = b_hh is not None
        ctx.reverse = reverse
        cells = c_states[after]
        ctx.mark_non_differentiable(sig, cand, cells)
        ctx.set_materialize_grads(False)  # no zero tensors for the unused gate outputs
        return out, h_states[last], c_states[last], sig, cand, cells

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_h_n, grad_c_n, *_unused):  # type: ignore[override]
        sig, cand, tanh_c, c_states, h_states, w_hh, step_mask, rec_mask = ctx.saved_tensors
        steps, batch, hidden = tanh_c.shape
        _, slots, before, _ = _state_index(steps, ctx.reverse)
        d_pre = sig.new_empty(steps, batch, 4 * hidden)
        grad_h = grad_h_n if grad_h_n is not None else sig.new_zeros(batch, hidden)
        grad_c = grad_c_n if grad_c_n is not None else sig.new_zeros(batch, hidden)
        compiled = _compiled_loops(sig, grad_out, grad_h, grad_c)
        if compiled is not None:
            grad_h, grad_c = (  # updated in place
                g.clone(memory_format=torch.contiguous_format) for g in (grad_h, grad_c)
            )
            w_hh_c, step_mask_c, rec_mask_c = _loop_inputs(w_hh, step_mask, rec_mask)
            grad_rows, row_stride = _output_grad(grad_out)
            _run(
                compiled.rnnlab_lstm_steps_backward,
                steps, batch, hidden, int(ctx.reverse), _ptr(grad_rows), row_stride,
                _ptr(sig), _ptr(cand), _ptr(tanh_c), _ptr(c_states), _ptr(w_hh_c),
                _ptr(step_mask_c), _ptr(rec_mask_c),
                _ptr(d_pre), _ptr(grad_h), _ptr(grad_c),
            )  # fmt: skip
        elif grad_out is None:
            grad_out = sig.new_zeros(steps, batch, hidden)
        for t in _time_steps(steps, not ctx.reverse) if compiled is None else ():
            delta_h = grad_out[t] + grad_h
            delta_c_in = grad_c
            if step_mask is not None:
                valid = step_mask[t]
                carry_h = torch.where(valid, 0.0, grad_h)
                carry_c = torch.where(valid, 0.0, grad_c)
                delta_h = torch.where(valid, delta_h, 0.0)
                delta_c_in = torch.where(valid, delta_c_in, 0.0)
            a = sig[t]
            i, f, _, o = a.chunk(4, dim=1)
            tc = tanh_c[t]
            delta_c = torch.addcmul(delta_c_in, delta_h * o, 1 - tc * tc)
            d_act = torch.cat(
                (
                    delta_c * cand[t],
                    delta_c * c_states[slots(t)[0]],
                    delta_c * i * 4.0,
                    delta_h * tc,
                ),
                dim=1,
            )
            torch.mul(d_act, a * (1 - a), out=d_pre[t])
            grad_h = d_pre[t].mm(w_hh)
            if rec_mask is not None:
                grad_h = grad_h * rec_mask
            grad_c = delta_c * f
            if step_mask is not None:
                grad_h = grad_h + carry_h
                grad_c = grad_c + carry_c
        h_prev = h_states[before]
        h_in = h_prev if rec_mask is None else h_prev * rec_mask
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
        compiled = _compiled_loops(gx, h0, w_hh, b_hh, rec_mask)
        if compiled is not None:
            h = h0.clone(memory_format=torch.contiguous_format)  # updated in place to h_n
            args = _loop_inputs(gx, w_t, b_hh, step_mask, rec_mask)
            _run(
                compiled.rnnlab_rnn_steps_forward,
                steps, batch, hidden, int(reverse), int(relu), *map(_ptr, args),
                _ptr(states), _ptr(h_prev_all), _ptr(out), _ptr(h),
            )  # fmt: skip
        for t in _time_steps(steps, reverse) if compiled is None else ():
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
        ctx.set_materialize_grads(False)  # no zero tensors for the unused gate outputs
        return out, h, states

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_h_n, _grad_states):  # type: ignore[override]
        states, h_prev_all, w_hh, step_mask, rec_mask = ctx.saved_tensors
        steps, batch, hidden = states.shape
        d_pre = states.new_empty(steps, batch, hidden)
        grad_h = grad_h_n if grad_h_n is not None else states.new_zeros(batch, hidden)
        compiled = _compiled_loops(states, grad_out, grad_h)
        if compiled is not None:
            grad_h = grad_h.clone(memory_format=torch.contiguous_format)  # updated in place
            w_hh_c, step_mask_c, rec_mask_c = _loop_inputs(w_hh, step_mask, rec_mask)
            grad_rows, row_stride = _output_grad(grad_out)
            _run(
                compiled.rnnlab_rnn_steps_backward,
                steps, batch, hidden, int(ctx.reverse), int(ctx.relu), _ptr(grad_rows), row_stride,
                _ptr(states), _ptr(w_hh_c), _ptr(step_mask_c), _ptr(rec_mask_c),
                _ptr(d_pre), _ptr(grad_h),
            )  # fmt: skip
        elif grad_out is None:
            grad_out = states.new_zeros(steps, batch, hidden)
        for t in _time_steps(steps, not ctx.reverse) if compiled is None else ():
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
    b_ih: Tensor | None = None,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """Run a GRU direction over ``gx``; returns (output (T,B,H), h_n (B,H), gates r, z, n).

    ``b_ih``, when given, is added to ``gx`` inside the recurrence (so the caller's input
    projection can skip the bias: PyTorch's addmm broadcasts it into the whole output first)."""
    out, h_n, rz, n = _GRURecurrence.apply(gx, h0, w_hh, b_hh, step_mask, rec_mask, reverse, b_ih)
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
    out, h_n, c_n, sig, cand, cells = _LSTMRecurrence.apply(
        gx, h0, c0, w_hh, b_hh, step_mask, rec_mask, reverse
    )
    i, f, _, o = sig.chunk(4, dim=-1)
    g = cand
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
