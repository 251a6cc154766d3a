"""Multi-layer, optionally bidirectional ``RNN``, ``LSTM`` and ``GRU`` layers.

Drop-in for ``torch.nn.RNN/LSTM/GRU``: the same constructor arguments and defaults, parameter
names (``weight_ih_l0``, ``bias_hh_l1_reverse``, …), shapes, gate order and initialisation, so
``load_state_dict`` works in both directions. On top of that:

* ``forward(input, hx=None, lengths=None, return_gates=False)`` takes per-sequence lengths in
  any order (no sorting, no packing by the caller): outputs at padded steps are exactly zero,
  final states are taken at each sequence's last valid step, and the backward direction
  starts there — the numbers of ``pack_padded_sequence(..., enforce_sorted=False)``.
* ``input_dropout`` and ``recurrent_dropout``: variational (one mask per sequence, layer and
  direction, shared over time); ``weight_dropout``: DropConnect on W_hh (AWD-LSTM).
* ``return_gates=True`` also returns the gate activations over time for inspection.

Two paths compute the same function and agree to float precision in outputs and gradients.

* The **step path** (:mod:`rnnlab.nn.recurrence`: one autograd function per layer direction
  with a hand-written backward through time; the input projections and the weight gradients
  are single large GEMMs over all steps). On the CPU in float32, with ``rnnlab[fast]`` and a
  C++ compiler, its time loops run compiled (``csrc/step_loops.cpp``): the batch is split into
  one block of rows per thread and each thread runs the whole sequence for its rows — one
  sgemm and one fused pass of gate math per step, no synchronisation between threads. That is
  what ``path="auto"`` (the default) runs for every CPU float32 call where it is available —
  plain layers, variable lengths, bidirectional, all dropouts, gate recording, training and
  inference — but LSTM inference over whole (unpadded) sequences, where torch's oneDNN kernel
  is as fast or faster; it beats torch's own CPU kernels for training in every case benchmarked
  (``benchmarks/bench_recurrent.py`` measures it; the README keeps the tables, with the machine
  they came from). Without the compiled loops
  (float64, GPU, no compiler) the same functions run as PyTorch loops, the reference the tests
  hold the compiled ones to; ``auto`` then takes it only where torch's kernels cannot do the
  call (gates, input or recurrent dropout) or are slower: CPU training with variable lengths
  (torch's packed CPU kernels re-materialise the sequence at every step).
* The **fused path** (PyTorch's kernels: oneDNN/MKL on CPU, cuDNN on GPU) runs everywhere
  else: on GPUs, for float64, for graph export.

Under ``torch.autocast`` (mixed-precision training, :mod:`rnnlab.train.precision`) the input
projection ``W_ih x`` of all steps runs in the autocast dtype — a large GEMM that bfloat16
speeds up — and everything else in float32: the recurrences (a small GEMM per step that
bfloat16 does not speed up, on a state that accumulates rounding), the states and the
outputs. So the compiled loops run under autocast too.

``path="fused"`` or ``"step"`` forces one (benchmarks, tests); a forced path that cannot
compute the call raises :class:`~rnnlab.errors.ConfigError` saying why. (An earlier path on
oneDNN's RNN primitives was removed once the compiled step loops beat it in every case.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnlab.errors import ConfigError, ShapeError, ValueRangeError
from rnnlab.nn.fused import fused_forward, padded_per_layer
from rnnlab.nn.native_build import native_status
from rnnlab.nn.recurrence import gru_recurrence, lstm_recurrence, rnn_recurrence
from rnnlab.nn.regularization import variational_mask, weight_dropout
from rnnlab.nn.stack import run_layers

__all__ = ["GRU", "LSTM", "RNN"]

_PATHS = ("auto", "fused", "step")
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
Lengths = Tensor | Sequence[int]
State = Tensor | tuple[Tensor, Tensor]


def _exporting() -> bool:
    """True while a graph is traced for export (TorchScript tracing, ONNX, torch.export)."""
    compiler = getattr(torch, "compiler", None)
    is_exporting = getattr(compiler, "is_exporting", None)
    return bool(
        torch.jit.is_tracing()
        or torch.onnx.is_in_onnx_export()
        or (is_exporting is not None and is_exporting())
    )


def _autocast_enabled(device_type: str) -> bool:
    """Whether ``torch.autocast`` is on for ``device_type`` (the query's spelling changed in
    torch 2.4)."""
    try:
        return bool(torch.is_autocast_enabled(device_type))
    except TypeError:  # torch < 2.4: no argument, CUDA only; the CPU has its own query
        if device_type == "cpu":
            return bool(torch.is_autocast_cpu_enabled())
        return bool(torch.is_autocast_enabled())


class _RecurrentBase(nn.Module):
    """Parameters, validation and the choice of path, shared by RNN, LSTM and GRU."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        input_dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        weight_dropout: float = 0.0,
        path: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for arg, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueRangeError(f"{name}: {arg} must be a positive integer, got {value!r}.")
        for arg, value in (
            ("dropout", dropout),
            ("input_dropout", input_dropout),
            ("recurrent_dropout", recurrent_dropout),
            ("weight_dropout", weight_dropout),
        ):
            if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueRangeError(
                    f"{name}: {arg} must be a probability in [0, 1), got {value!r}."
                )
        if path not in _PATHS:
            raise ConfigError(f"{name}: path must be one of {_PATHS}, got {path!r}.")
        self.path = path
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.input_dropout = float(input_dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.weight_dropout = float(weight_dropout)
        self._param_names: list[list[str]] = []
        gate_size = _GATES[mode] * hidden_size
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            for direction in range(self.num_directions):
                layer_input = input_size if layer == 0 else hidden_size * self.num_directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [(gate_size, layer_input), (gate_size, hidden_size)]
                names = [f"weight_ih{suffix}", f"weight_hh{suffix}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += [f"bias_ih{suffix}", f"bias_hh{suffix}"]
                for pname, shape in zip(names, shapes, strict=True):
                    setattr(self, pname, nn.Parameter(torch.empty(shape, **factory)))
                self._param_names.append(names)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every parameter, as ``torch.nn``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.mode == "RNN_RELU":
            parts.append("nonlinearity='relu'")
        for key, default in (
            ("num_layers", 1),
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
            ("input_dropout", 0.0),
            ("recurrent_dropout", 0.0),
            ("weight_dropout", 0.0),
            ("path", "auto"),
        ):
            value = getattr(self, key)
            if value != default:
                parts.append(f"{key}={value}")
        return ", ".join(parts)

    # ----------------------------------------------------------------- validation
    def _check_input(self, x: Tensor) -> tuple[Tensor, bool]:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise ShapeError(f"{name}: input must be a tensor, got {type(x).__name__}.")
        if x.dim() not in (2, 3):
            layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
            raise ShapeError(
                f"{name}: input must be 3-D {layout} or 2-D (time, features), "
                f"got a {x.dim()}-D tensor of shape {tuple(x.shape)}."
            )
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input.size(-1) must equal input_size={self.input_size}, "
                f"got {x.shape[-1]}."
            )
        if x.dim() == 2:
            return x.unsqueeze(0 if self.batch_first else 1), False
        return x, True

    def _check_lengths(self, lengths: Lengths | None, batch: int, steps: int) -> Tensor | None:
        if lengths is None:
            return None
        name = type(self).__name__
        lengths_t = torch.as_tensor(lengths).detach()
        if lengths_t.dim() == 0:
            lengths_t = lengths_t.reshape(1)
        if lengths_t.dim() != 1 or lengths_t.dtype.is_floating_point or lengths_t.is_complex():
            raise ShapeError(
                f"{name}: lengths must be a 1-D sequence of integers, got "
                f"{tuple(lengths_t.shape)} of {lengths_t.dtype}."
            )
        if lengths_t.numel() != batch:
            raise ShapeError(
                f"{name}: lengths must have one entry per sequence (batch size {batch}), "
                f"got {lengths_t.numel()}."
            )
        lengths_t = lengths_t.to("cpu", torch.int64)
        if _exporting():
            return lengths_t  # values are symbolic while tracing; checked at run time instead
        low, high = int(lengths_t.min()), int(lengths_t.max())
        if low < 1 or high > steps:
            bad = int((lengths_t < 1).nonzero()[0]) if low < 1 else int(lengths_t.argmax())
            raise ValueRangeError(
                f"{name}: every length must lie in [1, {steps}] (the time axis of input), "
                f"got {int(lengths_t[bad])} at batch index {bad}."
            )
        return lengths_t

    def _check_state(self, state: Tensor, batch: int, what: str, batched: bool) -> Tensor:
        rows = self.num_layers * self.num_directions
        expected = (rows, batch, self.hidden_size) if batched else (rows, self.hidden_size)
        if not isinstance(state, Tensor) or tuple(state.shape) != expected:
            got = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
            raise ShapeError(
                f"{type(self).__name__}: {what} must have shape (num_layers * num_directions, "
                f"batch, hidden_size) = {expected}, got {got}."
            )
        return state if batched else state.unsqueeze(1)

    def _initial_state(self, hx: State | None, x: Tensor, batch: int, batched: bool) -> State:
        rows = self.num_layers * self.num_directions
        if self.mode == "LSTM":
            if hx is None:
                zeros = x.new_zeros(rows, batch, self.hidden_size)
                return zeros, zeros
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ShapeError(f"LSTM: hx must be a pair (h_0, c_0), got {type(hx).__name__}.")
            return (
                self._check_state(hx[0], batch, "hx[0] (h_0)", batched),
                self._check_state(hx[1], batch, "hx[1] (c_0)", batched),
            )
        if hx is None:
            return x.new_zeros(rows, batch, self.hidden_size)
        if isinstance(hx, (tuple, list)):
            raise ShapeError(
                f"{type(self).__name__}: hx must be a tensor, got a {type(hx).__name__}."
            )
        return self._check_state(hx, batch, "hx", batched)

    # ------------------------------------------------------------------- weights
    def _layer_weights(self) -> list[list[Tensor]]:
        """Per (layer, direction): [w_ih, w_hh(, b_ih, b_hh)], W_hh after DropConnect."""
        weights = []
        for names in self._param_names:
            params = [getattr(self, n) for n in names]
            params[1] = weight_dropout(params[1], self.weight_dropout, self.training)
            weights.append(params)
        return weights

    def _choose_path(self, return_gates: bool, x: Tensor, lengths: Tensor | None) -> str:
        """ "fused" or "step" for this call: see the module docstring for the rule."""
        name = type(self).__name__
        recurrent = self.training and self.recurrent_dropout > 0
        variational = recurrent or (self.training and self.input_dropout > 0)
        if self.path == "fused":
            if return_gates or variational:
                raise ConfigError(
                    f"{name}: path='fused' cannot record gates or apply "
                    "input/recurrent dropout; use path='auto' or 'step'."
                )
            return "fused"
        if self.path == "step" or return_gates or variational:
            return "step"
        records_graph = torch.is_grad_enabled() and (
            x.requires_grad or any(p.requires_grad for p in self.parameters())
        )
        if self._compiled_loops_run(x):
            # oneDNN's LSTM inference kernel over whole sequences keeps up with the compiled
            # loops or beats them (bench_recurrent.py); everything else runs faster compiled.
            lstm_inference = self.mode == "LSTM" and not records_graph and lengths is None
            return "fused" if lstm_inference else "step"
        on_cpu_training = x.device.type == "cpu" and records_graph and not _exporting()
        return "step" if lengths is not None and on_cpu_training else "fused"

    @staticmethod
    def _compiled_loops_run(x: Tensor) -> bool:
        """Whether the step path runs its compiled time loops for this input: CPU float32 with
        the native library built (the same condition as :func:`rnnlab.nn.recurrence`'s)."""
        return (
            x.device.type == "cpu"
            and x.dtype == torch.float32
            and not _exporting()
            and native_status().available
        )

    # ------------------------------------------------------------------- forward
    def _forward(
        self, input: Tensor, hx: State | None, lengths: Lengths | None, return_gates: bool
    ) -> tuple[Tensor, State, list[dict[str, Tensor]] | None]:
        x, batched = self._check_input(input)
        mixed = _autocast_enabled(x.device.type)
        if mixed and x.dtype in (torch.bfloat16, torch.float16):
            x = x.float()  # an autocast product upstream; the layer's state and output are fp32
        batch_dim, time_dim = (0, 1) if self.batch_first else (1, 0)
        batch, steps = x.shape[batch_dim], x.shape[time_dim]
        lengths_t = self._check_lengths(lengths, batch, steps)
        state = self._initial_state(hx, x, batch, batched)
        weights = self._layer_weights()
        exporting = _exporting()
        if lengths_t is not None and not exporting and bool((lengths_t == steps).all()):
            lengths_t = None  # every sequence is full: packing would change nothing
        gates = None
        path = self._choose_path(return_gates, x, lengths_t)
        if path == "step":
            out, final, gates = self._step_path(x, state, weights, lengths_t, return_gates)
        elif mixed:  # torch's kernels in float32: only the step path splits the precisions
            with torch.autocast(device_type=x.device.type, enabled=False):
                flat = [w for per_direction in weights for w in per_direction]
                out, final = fused_forward(
                    self.mode, x, state, flat, lengths_t, has_bias=self.bias,
                    num_layers=self.num_layers, dropout=self.dropout, training=self.training,
                    bidirectional=self.bidirectional, batch_first=self.batch_first,
                )  # fmt: skip
        elif lengths_t is not None and exporting:
            x_bf = x if self.batch_first else x.transpose(0, 1)
            out, final = padded_per_layer(
                self.mode,
                x_bf,
                state,
                weights,
                lengths_t,
                has_bias=self.bias,
                num_layers=self.num_layers,
                bidirectional=self.bidirectional,
            )
            if not self.batch_first:
                out = out.transpose(0, 1)
        else:
            flat = [w for per_direction in weights for w in per_direction]
            out, final = fused_forward(
                self.mode,
                x,
                state,
                flat,
                lengths_t,
                has_bias=self.bias,
                num_layers=self.num_layers,
                dropout=self.dropout,
                training=self.training,
                bidirectional=self.bidirectional,
                batch_first=self.batch_first,
            )
        if not batched:
            out = out.squeeze(batch_dim)
            final = (
                (final[0].squeeze(1), final[1].squeeze(1))
                if isinstance(final, tuple)
                else final.squeeze(1)
            )
        return out, final, gates

    def _step_path(
        self,
        x: Tensor,
        state: State,
        weights: list[list[Tensor]],
        lengths: Tensor | None,
        return_gates: bool,
    ) -> tuple[Tensor, State, list[dict[str, Tensor]] | None]:
        # (T, B, F), contiguous once here rather than inside each direction's projection
        x_tm = (x.transpose(0, 1) if self.batch_first else x).contiguous()
        steps, batch = x_tm.shape[0], x_tm.shape[1]
        step_mask = None
        if lengths is not None:
            t = torch.arange(steps, device=x.device).unsqueeze(1)
            step_mask = (t < lengths.to(x.device).unsqueeze(0)).unsqueeze(-1)  # (T, B, 1)
        is_lstm = self.mode == "LSTM"
        h0, c0 = state if is_lstm else (state, None)
        training = self.training

        def run_direction(inp: Tensor, layer: int, direction: int, idx: int) -> tuple:
            w_ih, w_hh, *biases = weights[idx]
            b_ih, b_hh = biases if biases else (None, None)
            if training and self.input_dropout > 0:
                inp = inp * variational_mask(batch, inp.shape[-1], self.input_dropout, inp)
            # W_ih x for all steps in one GEMM, without b_ih, sparing a (T·B, G·H) bias
            # broadcast: the recurrences add it (LSTM and Elman as b_ih + b_hh, where only
            # the sum matters; the GRU separately, as b_in sits outside r ⊙ (W_hn h + b_hn))
            gx = torch.nn.functional.linear(inp, w_ih)  # (T, B, G·H); autocast's dtype, if on
            if gx.dtype != inp.dtype:
                gx = gx.float()  # the recurrence runs in float32 (module docstring)
            rec_mask = None
            if training and self.recurrent_dropout > 0:
                rec_mask = variational_mask(batch, self.hidden_size, self.recurrent_dropout, gx)
            reverse = direction == 1
            summed_bias = b_hh if b_ih is None or self.mode == "GRU" else b_ih + b_hh
            c = None
            with torch.autocast(device_type=gx.device.type, enabled=False):
                if is_lstm:
                    out, h, c, g = lstm_recurrence(
                        gx, h0[idx], c0[idx], w_hh, summed_bias, step_mask, rec_mask, reverse
                    )
                elif self.mode == "GRU":
                    out, h, g = gru_recurrence(
                        gx, h0[idx], w_hh, b_hh, step_mask, rec_mask, reverse, b_ih=b_ih
                    )
                else:
                    out, h, g = rnn_recurrence(
                        gx, h0[idx], w_hh, summed_bias, step_mask, rec_mask, reverse,
                        relu=self.mode == "RNN_RELU",
                    )  # fmt: skip
            recorded = self._gates_batch_major(g, step_mask) if return_gates else None
            return out, (h, c, recorded)

        def between(layer_output: Tensor, layer: int) -> Tensor:
            if training and self.dropout > 0:
                return torch.nn.functional.dropout(layer_output, self.dropout, True)
            return layer_output

        layer_input, results = run_layers(
            x_tm, self.num_layers, self.num_directions, run_direction, between
        )
        h_n = [h for h, _, _ in results]
        gates = [g for _, _, g in results] if return_gates else None
        out = layer_input.transpose(0, 1) if self.batch_first else layer_input
        if is_lstm:
            final: State = (torch.stack(h_n), torch.stack([c for _, c, _ in results]))
        else:
            final = torch.stack(h_n)
        return out, final, gates

    @staticmethod
    def _gates_batch_major(gates: dict[str, Tensor], step_mask: Tensor | None) -> dict[str, Tensor]:
        """(T, B, H) buffers → detached (B, T, H), zero at padded steps."""
        result = {}
        for key, value in gates.items():
            value = value.detach()
            if step_mask is not None:
                value = value * step_mask
            result[key] = value.transpose(0, 1)
        return result


class RNN(_RecurrentBase):
    r"""Multi-layer Elman RNN: :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`.

    Args:
        input_size: as ``torch.nn.RNN``, like hidden_size, num_layers, nonlinearity
            (``"tanh"``|``"relu"``), bias, batch_first, dropout and bidirectional.
        input_dropout: variational dropout on each layer's input x_t (one mask per sequence).
        recurrent_dropout: variational dropout on h_{t−1} inside the pre-activation.
        weight_dropout: DropConnect on ``weight_hh_l*`` once per forward pass.
        path: ``"auto"`` (fastest correct path), ``"fused"`` or ``"step"`` to force one.

    Shape:
        input (T, B, I) or (B, T, I) with ``batch_first``; hx (L·D, B, H);
        lengths (B,) integers in [1, T], any order, any device.
    Returns:
        ``(output, h_n)``, plus a list of per-(layer, direction) dicts ``{"h": (B, T, H)}``
        when ``return_gates=True``. List index = layer · D + direction, as in h_n.

    Example:
        >>> rnn = RNN(8, 16, num_layers=2, batch_first=True)
        >>> out, h_n = rnn(torch.randn(3, 5, 8), lengths=[5, 2, 4])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        **kwargs,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ConfigError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}.")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            **kwargs,
        )

    def forward(
        self,
        input: Tensor,
        hx: Tensor | None = None,
        lengths: Lengths | None = None,
        return_gates: bool = False,
    ):
        out, h_n, gates = self._forward(input, hx, lengths, return_gates)
        return (out, h_n, gates) if return_gates else (out, h_n)


class GRU(_RecurrentBase):
    r"""Multi-layer gated recurrent unit (PyTorch's formulation, gate order r, z, n):

    .. math::
        r_t = σ(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})\\
        z_t = σ(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})\\
        n_t = \tanh(W_{in} x_t + b_{in} + r_t ⊙ (W_{hn} h_{t-1} + b_{hn}))\\
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}

    Args: as :class:`RNN` (without ``nonlinearity``).
    Returns: ``(output, h_n)``, plus per-(layer, direction) gate dicts ``{"r", "z", "n"}`` of
    shape (B, T, H) when ``return_gates=True``.

    Example:
        >>> gru = GRU(8, 16, num_layers=2, bidirectional=True, batch_first=True)
        >>> out, h_n = gru(torch.randn(3, 5, 8), lengths=torch.tensor([5, 1, 3]))
        >>> out.shape, h_n.shape
        (torch.Size([3, 5, 32]), torch.Size([4, 3, 16]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            **kwargs,
        )

    def forward(
        self,
        input: Tensor,
        hx: Tensor | None = None,
        lengths: Lengths | None = None,
        return_gates: bool = False,
    ):
        out, h_n, gates = self._forward(input, hx, lengths, return_gates)
        return (out, h_n, gates) if return_gates else (out, h_n)


class LSTM(_RecurrentBase):
    r"""Multi-layer long short-term memory (gate order i, f, g, o, as PyTorch):

    .. math::
        i_t = σ(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}),\quad
        f_t = σ(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})\\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}),\quad
        o_t = σ(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})\\
        c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t,\qquad h_t = o_t ⊙ \tanh(c_t)

    Args: as :class:`RNN` (without ``nonlinearity``; ``proj_size`` is not supported).
    Returns: ``(output, (h_n, c_n))``, plus gate dicts ``{"i", "f", "g", "o", "c"}`` of shape
    (B, T, H) when ``return_gates=True``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            **kwargs,
        )

    def forward(
        self,
        input: Tensor,
        hx: tuple[Tensor, Tensor] | None = None,
        lengths: Lengths | None = None,
        return_gates: bool = False,
    ):
        out, state, gates = self._forward(input, hx, lengths, return_gates)
        return (out, state, gates) if return_gates else (out, state)
