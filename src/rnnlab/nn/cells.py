"""Single-step cells: ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Same constructor arguments, parameter names (``weight_ih``, ``weight_hh``, ``bias_ih``,
``bias_hh``), shapes, gate order and initialisation as ``torch.nn``'s cells, so a state dict
moves between the two unchanged. The forward passes are the textbook equations written out,
for reading and for teaching; for whole sequences use the layers in :mod:`rnnlab.nn.layers`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnlab.errors import ConfigError, ShapeError

__all__ = ["GRUCell", "LSTMCell", "RNNCell"]


class _CellBase(nn.Module):
    """Parameters shared by the three cells: (G·H, I) input and (G·H, H) hidden weights."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_gates: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = nn.Parameter(torch.empty(num_gates * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(num_gates * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(num_gates * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(num_gates * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every parameter, as ``torch.nn``."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"

    def _check(self, x: Tensor, state: Tensor | None, name: str) -> tuple[Tensor, bool]:
        cls = type(self).__name__
        if x.dim() not in (1, 2):
            raise ShapeError(
                f"{cls}: input must be 1-D (features) or 2-D (batch, features), "
                f"got a {x.dim()}-D tensor of shape {tuple(x.shape)}."
            )
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{cls}: input.size(-1) must equal input_size={self.input_size}, got {x.shape[-1]}."
            )
        unbatched = x.dim() == 1
        if state is not None:
            expected = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
            if tuple(state.shape) != expected:
                raise ShapeError(
                    f"{cls}: {name} must have shape {expected}, got {tuple(state.shape)}."
                )
        return x, unbatched

    def _zeros(self, x: Tensor) -> Tensor:
        return x.new_zeros(*x.shape[:-1], self.hidden_size)

    def _project(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        gi = torch.nn.functional.linear(x, self.weight_ih, self.bias_ih)
        gh = torch.nn.functional.linear(h, self.weight_hh, self.bias_hh)
        return gi, gh


class RNNCell(_CellBase):
    r"""Elman cell: :math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})` (or ReLU).

    Args:
        input_size: features of ``x``.  hidden_size: features of ``h``.
        bias: add ``b_ih`` and ``b_hh``.  nonlinearity: ``"tanh"`` or ``"relu"``.
    Shape: ``x`` (B, I) or (I,); ``hx`` (B, H) or (H,); returns ``h'`` of ``hx``'s shape.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ConfigError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}."
            )
        super().__init__(input_size, hidden_size, bias, num_gates=1)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, _ = self._check(input, hx, "hx")
        h = self._zeros(x) if hx is None else hx
        gi, gh = self._project(x, h)
        pre = gi + gh
        return torch.tanh(pre) if self.nonlinearity == "tanh" else torch.relu(pre)


class LSTMCell(_CellBase):
    r"""LSTM cell (gate order i, f, g, o, as ``torch.nn.LSTMCell``):

    .. math::
        i = σ(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}),\quad
        f = σ(W_{if} x + b_{if} + W_{hf} h + b_{hf}),\\
        g = \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}),\quad
        o = σ(W_{io} x + b_{io} + W_{ho} h + b_{ho}),\\
        c' = f ⊙ c + i ⊙ g,\qquad h' = o ⊙ \tanh(c')

    Shape: ``x`` (B, I); ``hx`` a pair (h, c) of (B, H); returns (h', c').
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, num_gates=4)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        x, _ = self._check(input, None if hx is None else hx[0], "hx[0]")
        if hx is None:
            h = c = self._zeros(x)
        else:
            h, c = hx
            self._check(input, c, "hx[1]")
        gi, gh = self._project(x, h)
        i, f, g, o = (gi + gh).chunk(4, dim=-1)
        c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_next = torch.sigmoid(o) * torch.tanh(c_next)
        return h_next, c_next


class GRUCell(_CellBase):
    r"""GRU cell (gate order r, z, n, as ``torch.nn.GRUCell``):

    .. math::
        r = σ(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}),\quad
        z = σ(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}),\\
        n = \tanh(W_{in} x + b_{in} + r ⊙ (W_{hn} h + b_{hn})),\quad
        h' = (1 − z) ⊙ n + z ⊙ h

    Shape: ``x`` (B, I); ``hx`` (B, H); returns ``h'`` (B, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, num_gates=3)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, _ = self._check(input, hx, "hx")
        h = self._zeros(x) if hx is None else hx
        gi, gh = self._project(x, h)
        i_r, i_z, i_n = gi.chunk(3, dim=-1)
        h_r, h_z, h_n = gh.chunk(3, dim=-1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h
