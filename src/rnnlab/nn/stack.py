"""The walk over layers and directions that every multi-layer path shares.

    layer 0:  x ──► forward ──┐                       PyTorch's order of the final states:
              x ──► backward ─┴─ concat ─► [between] ─► layer 1 …   idx = layer · D + direction

Each path says how one direction of one layer runs (``run_direction``) and what happens
between layers (dropout); this module only walks, concatenates and keeps the per-direction
results in PyTorch's order, so the step path and the exportable padded path agree on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor

__all__ = ["run_layers"]

R = TypeVar("R")


def run_layers(
    x: Tensor,
    num_layers: int,
    num_directions: int,
    run_direction: Callable[[Tensor, int, int, int], tuple[Tensor, R]],
    between: Callable[[Tensor, int], Tensor] | None = None,
) -> tuple[Tensor, list[R]]:
    """Run the stack on ``x``; returns the last layer's output and each direction's result.

    Args:
        x: the first layer's input; time and batch axes as ``run_direction`` expects them,
            features last.
        run_direction: ``(layer_input, layer, direction, idx) → (output, result)`` with
            ``idx = layer · num_directions + direction``; outputs are concatenated over
            directions along the last axis.
        between: ``(layer_output, layer) → next input``, applied after every layer but the
            last (e.g. dropout between layers).
    Returns:
        (output of the last layer, ``[result for idx in 0 … L·D − 1]``).
    """
    results: list[Any] = []
    layer_input = x
    for layer in range(num_layers):
        outputs = []
        for direction in range(num_directions):
            out, result = run_direction(
                layer_input, layer, direction, layer * num_directions + direction
            )
            outputs.append(out)
            results.append(result)
        layer_input = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
        if between is not None and layer < num_layers - 1:
            layer_input = between(layer_input, layer)
    return layer_input, results
