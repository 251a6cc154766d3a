"""A real headless Chromium for page tests, driven by Playwright.

Uses the system's Chromium (Debian package ``chromium``, installed by ``.ci/run``), never a
browser downloaded by Playwright. The flags keep Chromium from reaching for the network
(background updates, sync, QUIC), which a closed machine refuses many times a second.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The system Chromium: $RNNLAB_CHROMIUM, else chromium on PATH."""
    return os.environ.get("RNNLAB_CHROMIUM") or shutil.which("chromium")


@contextmanager
def chromium_page() -> Iterator[object]:
    """A fresh Playwright page in headless Chromium (Playwright gives it an empty profile).

    Skips (with the reason) when Playwright or Chromium is missing; ``.ci/run`` installs both,
    so the skip only happens on a machine set up by hand.
    """
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser tests need playwright (pip install playwright)"
    )
    executable = chromium_path()
    if executable is None:
        pytest.skip("browser tests need Chromium (Debian: apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            yield page
        finally:
            browser.close()


def open_file(page: object, path: os.PathLike[str] | str) -> list[str]:
    """Open a local file in ``page``; returns the list (filled as the page loads) of every URL
    it requested, for the check that a report or page reaches for nothing but itself."""
    from pathlib import Path

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))  # type: ignore[attr-defined]
    page.goto(Path(path).resolve().as_uri())  # type: ignore[attr-defined]
    return requests


def report_outline(page: object, path: os.PathLike[str] | str) -> tuple[list[str], list[int]]:
    """Open a report page; returns its section headings and the decoded width of every figure,
    after checking that it requested nothing but itself and inline data."""
    requests = open_file(page, path)
    headings = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "section > h2", "els => els.map(e => e.textContent)"
    )
    widths = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "img", "els => els.map(e => e.naturalWidth)"
    )
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    return headings, widths
