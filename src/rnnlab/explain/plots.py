"""Figures of one text: gate traces over its tokens and the PCA path of its hidden states.

Figures are built on ``matplotlib.figure.Figure`` with the Agg canvas, never through pyplot:
no global figure registry, no display backend, safe in a server thread. ``save_figure``
writes PNG or SVG by suffix; ``figure_bytes`` returns the encoded image for embedding.

Text in other scripts (a Chinese run's labels and tokens): matplotlib's default font,
DejaVu Sans, has no CJK glyphs, so PNGs showed empty boxes and every label warned "Glyph …
missing from font(s) DejaVu Sans". Reports embed PNGs (pixel-identical everywhere, and
what a mail client shows), so before a figure is encoded ``use_fallback_fonts`` appends to
each text that needs them the installed fonts that have its glyphs — Noto Sans CJK, Source
Han Sans, WenQuanYi, Microsoft YaHei, PingFang, … first, then any other — as matplotlib's
per-glyph font fallback (a list in ``font.family``). SVGs keep text as text
(``svg.fonttype = "none"``), naming the same fonts, so a browser draws the glyphs with its
own. Characters that no installed font has (``missing_glyphs``) are drawn as boxes in a PNG:
that one warning is silenced locally, and the report embeds such a figure as SVG instead.

    fig = gate_trace_figure(predictor.trace("A moving, beautiful film."))
    save_figure(fig, "trace.png")
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.errors import ConfigError, MissingDependencyError
from rnnlab.fileio import atomic_write_bytes

__all__ = [
    "figure_bytes",
    "gate_trace_figure",
    "missing_glyphs",
    "new_figure",
    "pca_figure",
    "save_figure",
    "use_fallback_fonts",
]

_FORMATS = ("png", "svg")
# Fonts tried first for glyphs a text's own font lacks, in this order (Simplified Chinese
# faces before the other CJK ones); any other installed font that has them comes after.
PREFERRED_FALLBACKS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Heiti SC",
    "Droid Sans Fallback",
    "Arial Unicode MS",
)
# What matplotlib warns for each character that no font of a text has (3.6+: "... missing
# from font(s) DejaVu Sans.", before: "... missing from current font.").
_GLYPH_WARNING = r"Glyph \d+ .*missing from "
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


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    """The code points a font file has glyphs for (its first face); none if it won't open."""
    from matplotlib.font_manager import get_font

    try:
        return frozenset(get_font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


@functools.lru_cache(maxsize=1)
def _installed_fonts() -> tuple[tuple[str, str], ...]:
    """(family, file) of every font matplotlib knows, one file per family (its upright
    regular face where it has one), ``PREFERRED_FALLBACKS`` first in their order; read once
    per process from matplotlib's font list (which is cached on disk: a font installed
    after matplotlib's first run is seen once its ``fontlist-*.json`` cache is deleted).

    Leaves out the "Last Resort" fonts (matplotlib 3.11 ships one): they map every code
    point to a box that names its Unicode block, which is still a box."""
    from matplotlib.font_manager import fontManager

    def plainness(entry: Any) -> tuple[bool, float]:
        weight = entry.weight if isinstance(entry.weight, int) else 400
        return entry.style != "normal", abs(weight - 400)

    files: dict[str, str] = {}
    for entry in sorted(fontManager.ttflist, key=plainness):
        if not entry.name.startswith("Last Resort"):
            files.setdefault(entry.name, str(entry.fname))
    rank = {name: i for i, name in enumerate(PREFERRED_FALLBACKS)}
    return tuple(sorted(files.items(), key=lambda item: rank.get(item[0], len(rank))))


@functools.lru_cache(maxsize=256)
def _fallbacks(missing: frozenset[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    """The installed families that have glyphs for ``missing`` (each one that adds some, in
    ``_installed_fonts`` order, until all are found) and the characters none of them has."""
    chosen, left = [], set(missing)
    for family, path in _installed_fonts():
        found = {char for char in left if ord(char) in _charmap(path)}
        if found:
            chosen.append(family)
            left -= found
        if not left:
            break
    return tuple(chosen), frozenset(left)


def _drawn_characters(string: str) -> set[str]:
    """The characters of ``string`` that need a glyph (not spaces or control characters)."""
    return {char for char in string if char.isprintable() and not char.isspace()}


def use_fallback_fonts(figure: Any) -> tuple[tuple[str, ...], frozenset[str]]:
    """Append to the font families of every text in ``figure`` whose font lacks some of its
    characters the installed fonts that have them (matplotlib falls back glyph by glyph
    through a ``font.family`` list); returns the families added anywhere and the characters
    that no installed font has.

    Called by ``figure_bytes`` before encoding, because a text's font is fixed when the text
    is made: an ``rc_context`` around ``savefig`` alone would reach only ticks made while
    drawing. Idempotent; texts of plain ASCII are left as they are.
    """
    from matplotlib.font_manager import findfont
    from matplotlib.text import Text

    added: dict[str, None] = {}
    unmet: set[str] = set()
    for text in figure.findobj(Text):
        string = text.get_text()
        if not string or string.isascii():
            continue
        font = findfont(text.get_fontproperties())
        missing = frozenset(c for c in _drawn_characters(string) if ord(c) not in _charmap(font))
        if not missing:
            continue
        families, left = _fallbacks(missing)
        current = list(text.get_fontfamily())
        extra = [family for family in families if family not in current]
        if extra:
            text.set_fontfamily(current + extra)
        added.update(dict.fromkeys(families))
        unmet |= left
    return tuple(added), frozenset(unmet)


def missing_glyphs(figure: Any) -> frozenset[str]:
    """The characters of ``figure``'s texts that no installed font has: a PNG would draw
    them as empty boxes, an SVG (text kept as text) leaves them to the reader's fonts."""
    return use_fallback_fonts(figure)[1]


@contextlib.contextmanager
def _glyph_warnings_silenced(active: bool) -> Iterator[None]:
    """Ignore matplotlib's missing-glyph warning inside the block when ``active`` (there are
    characters no font has, already reported by ``missing_glyphs``); nothing else is
    filtered, and the warning filters are not touched otherwise. Python's warning filters
    are process-wide: while a thread is in the block, that one warning is hidden in others
    too, which is why it is entered only when some glyph is really missing."""
    if not active:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_GLYPH_WARNING, category=UserWarning)
        yield


def figure_bytes(figure: Any, format: str = "png", dpi: int = 100) -> bytes:
    """The figure encoded as PNG or SVG (text kept as text, so SVGs stay small and a browser
    draws every script with its own fonts).

    Text in scripts the default font lacks gets installed fonts that have it as fallbacks
    (``use_fallback_fonts``), so a Chinese label is drawn, not a box, and matplotlib has
    nothing to warn about. Characters that no installed font has still warn once each
    ("Glyph … missing from font(s)"); that warning alone is silenced here, since the
    caller can see them with ``missing_glyphs`` (the report then embeds an SVG instead).
    """
    if format not in _FORMATS:
        raise ConfigError(f"figure format must be one of {_FORMATS}, got {format!r}.")
    import matplotlib

    added, unmet = use_fallback_fonts(figure)
    rc: dict[str, Any] = {"svg.fonttype": "none"}
    if added:  # ticks made while drawing take their font from here
        rc["font.family"] = list(dict.fromkeys([*matplotlib.rcParams["font.family"], *added]))
    buffer = io.BytesIO()
    with matplotlib.rc_context(rc), _glyph_warnings_silenced(bool(unmet)):
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
