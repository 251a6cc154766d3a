"""The web page in a real headless Chromium: type a text, click Predict, see the label, the
probabilities, tokens coloured by attribution and the gate chart; a screenshot is kept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser import chromium_page

TEXT = "A gripping, beautifully acted film with a wonderful score, though the ending drags."


def test_page_predicts_and_colours_tokens(server, predictor, tmp_path):
    if not hasattr(predictor, "explain"):
        pytest.skip("Predictor.explain is not available in this build")
    expected = predictor.predict([TEXT])[0]
    tokens = predictor.tokenizer(TEXT)
    outside: list[str] = []
    with chromium_page() as page:
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(server) else None,
        )
        page.goto(server + "/")
        page.wait_for_function("document.getElementById('model-info').textContent.includes('GRU')")
        page.fill("#text", TEXT)
        page.click("#predict")
        page.wait_for_selector("#explanation:not([hidden])", timeout=30_000)

        assert page.inner_text("#label") == expected
        shown = page.eval_on_selector_all(
            ".prob",
            "rows => rows.map(r => [r.dataset.label, r.querySelector('.value').textContent])",
        )
        assert sorted(label for label, _ in shown) == ["neg", "pos"]
        assert all(0.0 <= float(value) <= 1.0 for _, value in shown)

        spans = page.eval_on_selector_all(
            ".token",
            "spans => spans.map(s => [s.textContent, Number(s.dataset.attribution),"
            " getComputedStyle(s).backgroundColor])",
        )
        assert [text for text, _, _ in spans] == tokens
        colours = {colour for _, _, colour in spans}
        assert len(colours) > 3  # coloured by value, not one flat colour
        for _, attribution, colour in spans:  # green pushes towards the label, red away
            if abs(attribution) > 1e-4:
                assert colour.startswith(
                    "rgba(34, 139, 84" if attribution > 0 else "rgba(200, 40, 40"
                )

        lines = page.eval_on_selector_all(
            "#gates polyline.series",
            "ls => ls.map(l => [l.dataset.name, l.getAttribute('points').split(' ').length])",
        )
        assert [name for name, _ in lines][:2] == ["update", "reset"]
        assert all(count == len(tokens) for _, count in lines)
        assert page.inner_text("#status") == ""

        screenshot = tmp_path / "serve-page.png"
        page.screenshot(path=str(screenshot), full_page=True)
    assert outside == []  # the page loads nothing from anywhere else
    assert screenshot.stat().st_size > 10_000
    artifacts = os.environ.get("RNNLAB_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(artifacts) / screenshot.name)


def test_page_shows_a_server_error_in_words(server):
    with chromium_page() as page:
        page.goto(server + "/")
        page.fill("#text", "x" * 2500)  # over the server's 2,000-character limit
        page.click("#predict")
        page.wait_for_selector("#status.error")
        assert "2,500 characters, more than this server's limit of 2,000" in page.inner_text(
            "#status"
        )
        assert page.is_hidden("#result")
