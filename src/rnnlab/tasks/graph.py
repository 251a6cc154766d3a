"""A task model as an exportable graph: named inputs and outputs, and a padded example batch.

Each task's ``export.py`` builds an :class:`ExportGraph` of its model; ``rnnlab.deploy.onnx``
traces it, checks it on other shapes and writes the ONNX file. The contract sits here, beside
the tasks, so a task never imports the deployment layer above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["Axes", "ExportGraph", "padded_example"]

Axes = tuple[str | None, ...]


@dataclass(frozen=True)
class ExportGraph:
    """A model as an exportable function of named inputs to named outputs.

    Attributes:
        module: ``forward(*inputs)`` with the inputs in the order of ``inputs``; returns one
            tensor, or a tuple in the order of ``outputs``.
        inputs: input name → its axes' names (every input axis varies from call to call).
        outputs: output name → its axes' names, ``None`` for a fixed axis (the K labels).
        example: ``example(batch, steps, seed)`` → one padded input batch (a tuple in the
            order of ``inputs``) whose longest row has ``steps`` tokens; it traces the graph
            and checks it on other shapes.
    """

    module: nn.Module
    inputs: dict[str, Axes]
    outputs: dict[str, Axes]
    example: Callable[[int, int, int], tuple[Tensor, ...]]


def padded_example(vocab_size: int, batch: int, steps: int, seed: int) -> tuple[Tensor, Tensor]:
    """ids (batch, steps) and lengths (batch,): a padded batch of random ids ≥ 1 with random
    lengths, the first row ``steps`` long (the second 3 long at the tracing shape)."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, steps + 1, (batch,), generator=generator)
    lengths[0] = steps
    ids = torch.randint(1, max(vocab_size, 2), (batch, steps), generator=generator)
    if batch == 2 and steps == 5:  # the tracing shape: two rows of different lengths
        lengths[1] = 3
    ids = ids.masked_fill(torch.arange(steps).unsqueeze(0) >= lengths.unsqueeze(1), 0)
    return ids, lengths
