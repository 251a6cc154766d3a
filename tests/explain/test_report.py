"""report.html of a run trained by the real workflow: every section, self-contained, and
rendered by a real browser."""

from __future__ import annotations

import json
import re

import pytest

from rnnlab.explain.report import SECTIONS
from tests.browser import chromium_page, open_file

pytest.importorskip("matplotlib", reason="the report's figures need matplotlib")

TITLES = {
    "summary": "Summary",
    "metrics": "Metrics, intervals and baselines",
    "evaluations": "Evaluations on other data",
    "curves": "Learning curves",
    "confusion": "Confusion matrix",
    "lengths": "Accuracy by text length",
    "examples": "Explained examples",
    "mistakes": "Most confident mistakes",
    "config": "Configuration",
}


def test_training_writes_metrics_with_intervals_baselines_and_error_tables(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text(encoding="utf-8"))
    for key in ("accuracy", "macro_f1", "baseline_majority_accuracy", "baseline_tfidf_accuracy",
                "baseline_tfidf_macro_f1"):  # fmt: skip
        assert metrics[f"{key}_ci_low"] <= metrics[key] <= metrics[f"{key}_ci_high"], key
    assert metrics["ci_resamples"] == 1000 and metrics["ci_level"] == 0.95
    assert metrics["baseline_majority_accuracy"] == pytest.approx(
        metrics[f"support_{metrics['baseline_majority_label']}"] / metrics["num_examples"]
    )
    assert 0 < metrics["mcnemar_p"] <= 1
    assert metrics["mcnemar_method"] in ("exact binomial", "chi-square with continuity correction")
    tables = {p.name for p in (tiny_run / "analysis").iterdir()}
    assert tables == {"mistakes.csv", "confusions.csv", "length_buckets.csv", "examples.json"}


def test_report_has_every_section_and_loads_nothing_from_the_network(tiny_run):
    page = (tiny_run / "report.html").read_text(encoding="utf-8")
    for key in SECTIONS:
        assert f'<section id="{key}"><h2>{TITLES[key]}</h2>' in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert len(re.findall(r'src="data:image/png;base64,', page)) >= 5
    assert "McNemar" in page and "TF-IDF" in page and "completeness gap" in page


def test_report_renders_in_a_real_browser(tiny_run):
    with chromium_page() as page:
        requests = open_file(page, tiny_run / "report.html")
        headings = page.eval_on_selector_all("section > h2", "els => els.map(e => e.textContent)")
        assert headings == [TITLES[key] for key in SECTIONS]
        sizes = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        assert len(sizes) >= 5 and min(sizes) > 100  # every figure decoded
        tokens = page.locator("#examples .tok")
        assert tokens.count() > 10
        assert re.fullmatch(r"[+-]\d\.\d{4}", tokens.first.get_attribute("title"))
        assert page.locator("#metrics table tr").count() >= 4  # header, model, 2 baselines
        assert all(url.startswith(("file:", "data:")) for url in requests), requests
