"""Initialisation schemes for recurrent layers beyond ``torch.nn``'s uniform default.

``orthogonal_init_`` is the scheme Keras uses by default and that trains GRUs and LSTMs on
long sequences markedly faster than U(−1/√H, 1/√H) (Saxe et al. 2014; Jozefowicz et al. 2015):

* ``weight_ih``: Glorot/Xavier uniform, U(±√(6 / (fan_in + fan_out))), per gate block;
* ``weight_hh``: a random orthogonal H × H matrix per gate block, so the recurrence neither
  shrinks nor inflates the state at the start of training;
* biases zero, except the LSTM forget gate's input bias, which is 1 so that memory is kept
  until the model learns to forget.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["orthogonal_init_"]

_LSTM_FORGET_BLOCK = 1  # gate order i, f, g, o


@torch.no_grad()
def orthogonal_init_(layer: nn.Module) -> nn.Module:
    """Re-initialise an ``RNN``/``LSTM``/``GRU`` (rnnlab's or torch.nn's) in place; returns it."""
    hidden = layer.hidden_size
    is_lstm = isinstance(layer, nn.LSTM) or getattr(layer, "mode", "") == "LSTM"
    for name, param in layer.named_parameters():
        blocks = param.split(hidden, dim=0)  # one block per gate
        if name.startswith("weight_ih"):
            for block in blocks:
                nn.init.xavier_uniform_(block)
        elif name.startswith("weight_hh"):
            for block in blocks:
                nn.init.orthogonal_(block)
        elif name.startswith("bias"):
            param.zero_()
            if is_lstm and name.startswith("bias_ih"):
                blocks[_LSTM_FORGET_BLOCK].fill_(1.0)
    return layer
