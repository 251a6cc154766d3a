"""The web page of a translation model in a real headless Chromium: it shows the translation
form (not the classifier's), the beam size bounded by the server's limit; a German sentence
typed and translated shows what POST /translate returns (its n-best translations too), and a
beam over the limit is the server's error in words."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rnnlab.serve import ServeConfig, app_for, running_server
from rnnlab.threads import torch_threads
from tests.browser import chromium_page
from tests.tasks.translate.conftest import TEN_PAIRS, memorised  # noqa: F401  (the model)

MAX_BEAM = 3
TEXTS = "items => items.map(i => i.textContent)"


@pytest.fixture(scope="module")
def translate_server(memorised) -> Iterator[str]:  # noqa: F811
    """Base URL of the app serving the model that memorised ten sentence pairs, with a beam
    limit of :data:`MAX_BEAM` (one torch thread)."""
    app = app_for(memorised, config=ServeConfig(max_beam=MAX_BEAM))
    with torch_threads(1), running_server(app) as url:
        yield url


def post_translate(base: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{base}/translate", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_page_translates_what_post_translate_returns(translate_server, tmp_path):
    base = translate_server
    sentence = TEN_PAIRS[0][0]  # Ein Hund rennt.
    two = [TEN_PAIRS[6][0], "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche."]
    outside: list[str] = []
    with chromium_page() as page:
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
        page.goto(base + "/")
        page.wait_for_function(
            "document.getElementById('model-info').textContent.startsWith('translation')"
        )
        assert page.is_visible("#translate-form") and page.is_hidden("#classify-form")
        assert page.get_attribute("#beam", "max") == str(MAX_BEAM)
        assert page.inner_text("#beam-note") == f"(at most {MAX_BEAM} on this server)"

        page.fill("#source", sentence)
        page.fill("#beam", "2")
        page.click("#translate")
        page.wait_for_selector("#translation-result:not([hidden])", timeout=30_000)
        shown = page.eval_on_selector_all("#translations .translation", TEXTS)
        expected = post_translate(base, {"text": sentence, "beam": 2})
        assert shown == expected["translations"] == [TEN_PAIRS[0][1]]
        assert page.inner_text("#translation-beam") == "(beam 2)"

        page.fill("#source", "\n".join([two[0], "", two[1]]))  # one sentence a line
        page.fill("#beam", "")  # the run's own beam
        page.click("#translate")
        page.wait_for_function(
            "document.querySelectorAll('#translations .translation').length === 2"
        )
        shown = page.eval_on_selector_all("#translations .translation", TEXTS)
        assert shown == post_translate(base, {"texts": two})["translations"]
        assert shown[0] == TEN_PAIRS[6][1]

        page.fill("#source", sentence)
        page.fill("#beam", "3")
        page.fill("#nbest", "3")
        page.click("#translate")
        page.wait_for_selector("#translations .alternative")
        expected = post_translate(base, {"text": sentence, "beam": 3, "nbest": 3})
        assert page.eval_on_selector_all("#translations .translation", TEXTS) == [
            expected["nbest"][0][0]
        ]
        assert (
            page.eval_on_selector_all("#translations .alternative", TEXTS)
            == (expected["nbest"][0][1:])
        )
        assert len(expected["nbest"][0]) == 3

        page.fill("#nbest", "1")
        page.fill("#beam", str(MAX_BEAM + 2))  # over the server's limit
        page.click("#translate")
        page.wait_for_selector("#translate-status.error")
        assert "beam" in page.inner_text("#translate-status")
        assert page.is_hidden("#translation-result")  # no stale translation beside the error
        page.screenshot(path=str(tmp_path / "translate-page.png"), full_page=True)
    assert outside == []  # the page loads nothing from anywhere else
    assert (tmp_path / "translate-page.png").stat().st_size > 5_000
    artifacts = os.environ.get("RNNLAB_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "translate-page.png", Path(artifacts) / "translate-page.png")


def test_nbest_over_http_is_bounded_by_the_beam(translate_server, memorised):  # noqa: F811
    sentences = [TEN_PAIRS[1][0], TEN_PAIRS[2][0]]
    found = post_translate(translate_server, {"texts": sentences, "beam": 2, "nbest": 2})
    assert found["nbest"] == memorised.translate(sentences, beam=2, nbest=2)
    assert found["translations"] == [hyps[0] for hyps in found["nbest"]]
    assert "nbest" not in post_translate(translate_server, {"text": sentences[0]})
    request = urllib.request.Request(
        f"{translate_server}/translate",
        json.dumps({"text": sentences[0], "beam": 1, "nbest": 2}).encode(),
        {"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 422
    assert json.loads(refused.value.read())["error"] == (
        "nbest 2 is more than the beam 1: a beam of K finds at most K translations; raise "
        "beam or lower nbest."
    )
