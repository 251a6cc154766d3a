"""Figures of one text: gate traces over its tokens and the PCA path of its hidden states.

Figures are built on ``matplotlib.figure.Figure`` with the Agg canvas, never through pyplot:
no global figure registry, no display backend, safe in a server thread. ``save_figure``
writes PNG or SVG by suffix; ``figure_bytes`` returns the encoded image for embedding.

    fig = gate_trace_figure(predictor.trace("A moving, beautiful film."))
    save_figure(fig, "trace.png")
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.errors import ConfigError, MissingDependencyError
from rnnlab.fileio import atomic_write_bytes

__all__ = ["figure_bytes", "gate_trace_figure", "new_figure", "pca_figure", "save_figure"]

_FORMATS = ("png", "svg")
# The gate whose per-unit values are drawn as a heat map: keep (1) or overwrite (0) memory.
_MEMORY_GATE = {"gru": "update", "lstm": "forget"}


def new_figure(
    width: float, height: float, rows: int = 1, cols: int = 1, **grid: Any
) -> tuple[Any, Any]:
    """A Figure on the Agg canvas and its axes as a flat array (row by row); raises a clear
    error without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            "Plots need matplotlib; install it with pip install 'rnnlab[explain]'."
        ) from None
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, cols, squeeze=False, **grid).ravel()
    return figure, axes


def figure_bytes(figure: Any, format: str = "png", dpi: int = 100) -> bytes:
    """The figure encoded as PNG or SVG (text kept as text, so SVGs stay small)."""
    if format not in _FORMATS:
        raise ConfigError(f"figure format must be one of {_FORMATS}, got {format!r}.")
    buffer = io.BytesIO()
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format=format, dpi=dpi)
    return buffer.getvalue()


def save_figure(figure: Any, path: str | Path, dpi: int = 120) -> Path:
    """Write the figure atomically; the suffix (.png or .svg) picks the format."""
    path = Path(path)
    format = path.suffix.lower().lstrip(".")
    if format not in _FORMATS:
        raise ConfigError(f"plot file must end in .png or .svg, got {path.name!r}.")
    atomic_write_bytes(path, figure_bytes(figure, format, dpi))
    return path


def _token_axis(ax: Any, tokens: list[str], max_labels: int = 60) -> None:
    step = max(1, int(np.ceil(len(tokens) / max_labels)))
    ticks = list(range(0, len(tokens), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([tokens[i] for i in ticks], rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.5, len(tokens) - 0.5)


def gate_trace_figure(trace: Any) -> Any:
    """Gates over tokens: mean of each gate (top), the memory gate per unit as a heat map
    (GRU update z_t, LSTM forget f_t: light = keep, dark = overwrite), and ‖h_t‖ (bottom).

    A simple RNN has no gates: the heat map shows its hidden state h_t per unit instead.
    """
    tokens = list(trace.tokens)
    steps = np.arange(len(tokens))
    width = min(16.0, max(6.0, 0.28 * len(tokens) + 2.5))
    figure, (top, heat, bottom) = new_figure(
        width, 6.4, rows=3, sharex=True, height_ratios=[1.2, 1.6, 0.9]
    )
    for name, values in trace.gates.items():
        top.plot(steps, values, marker="o", markersize=3, label=f"{name} gate (mean)")
    if trace.gates:
        top.set_ylim(0, 1)
        top.legend(loc="upper right", fontsize=8, ncols=len(trace.gates))
    top.set_ylabel("gate")
    top.set_title(f"{trace.cell.upper()} gates, last layer", fontsize=10)
    top.grid(alpha=0.3)
    memory = _MEMORY_GATE.get(trace.cell)
    if memory is not None and memory in trace.units:
        grid, label, limits = trace.units[memory].T, f"{memory} gate per unit", (0.0, 1.0)
        cmap = "viridis"
    else:
        grid, label, limits = np.asarray(trace.hidden).T, "h_t per unit", (-1.0, 1.0)
        cmap = "coolwarm"
    image = heat.imshow(
        grid, aspect="auto", interpolation="nearest", cmap=cmap, vmin=limits[0], vmax=limits[1]
    )
    heat.set_ylabel("unit")
    heat.set_title(label + (" (light: keep memory, dark: overwrite)" if memory else ""), fontsize=9)
    figure.colorbar(image, ax=heat, pad=0.01, fraction=0.03)
    bottom.plot(steps, trace.hidden_norm, color="black", marker=".")
    bottom.set_ylabel("‖h_t‖")
    bottom.grid(alpha=0.3)
    _token_axis(bottom, tokens)
    return figure


def pca_figure(trace: Any) -> Any:
    """The path of the hidden state through its first two principal components, token by
    token (colour = position; each point labelled with its token)."""
    from rnnlab.explain.traces import pca_trajectory

    points, ratios = pca_trajectory(np.asarray(trace.hidden))
    figure, (ax,) = new_figure(5.5, 4.5)
    ax.plot(points[:, 0], points[:, 1], color="0.7", linewidth=1, zorder=1)
    scatter = ax.scatter(
        points[:, 0], points[:, 1], c=np.arange(len(points)), cmap="plasma", s=24, zorder=2
    )
    step = max(1, len(points) // 40)
    for i in range(0, len(points), step):
        ax.annotate(
            trace.tokens[i], points[i], fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    ax.set_xlabel(f"PC1 ({ratios[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ratios[1]:.0%} of variance)")
    ax.set_title("hidden-state trajectory (PCA)", fontsize=10)
    figure.colorbar(scatter, ax=ax, label="token position")
    return figure
