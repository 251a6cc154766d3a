"""Attention as the explanation of a translation: ``rnnlab explain`` prints and draws the
attention matrix, and the run's report.html shows it for a few test sentences."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app as cli

pytest.importorskip("matplotlib", reason="the heat maps need matplotlib")

TEXT = "Ein Hund rennt im Park."


def test_explain_prints_the_attention_matrix_of_the_translation(run, tmp_path):
    result = CliRunner().invoke(cli, ["explain", str(run.run_dir), "--text", TEXT, "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    expected = rnnlab.load(run.run_dir).attention(TEXT)
    assert found["translation"] == expected.translation
    assert found["source_tokens"] == expected.source_tokens == ["Ein", "Hund", "rennt", "im",
                                                                "Park", "\uffed."]  # fmt: skip
    weights = np.array(found["weights"])
    assert weights.shape == (len(found["target_tokens"]), len(found["source_tokens"]))
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(weights, np.array(expected.weights), atol=1e-6)
    shown = CliRunner().invoke(cli, ["explain", str(run.run_dir), "--text", TEXT,
                                     "--plot", str(tmp_path / "a.png")])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert f"translation: {expected.translation}" in shown.stdout and "Park" in shown.stdout
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    refused = CliRunner().invoke(cli, ["explain", str(run.run_dir), "--text", TEXT,
                                       "--target", "pos"])  # fmt: skip
    assert refused.exit_code == 2 and "--target: not supported for a translation run" in (
        refused.output
    )


def test_the_heat_map_draws_the_predictors_attention(run):
    from rnnlab.explain.translate_report import attention_figure, token_label

    shown = rnnlab.load(run.run_dir).attention(TEXT, beam=1)
    figure = attention_figure(shown.source_tokens, shown.target_tokens, shown.weights)
    (ax,) = [a for a in figure.axes if a.images]
    drawn = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(drawn, np.array(shown.weights), atol=1e-12)
    np.testing.assert_allclose(drawn.sum(axis=1), 1.0, atol=1e-5)
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        token_label(t) for t in shown.source_tokens
    ]
    down = [t.get_text() for t in ax.get_yticklabels()]
    assert len(down) == len(shown.target_tokens) and down[-1] == "</s>"
    assert not any("\uffed" in label for label in down)


def test_the_report_shows_attention_heat_maps_of_test_sentences(run):
    report = (run.run_dir / "report.html").read_text(encoding="utf-8")
    assert run.report == run.run_dir / "report.html"
    examples = json.loads((run.run_dir / "analysis" / "examples.json").read_text("utf-8"))
    assert len(examples) == 3 and all(len(pair) == 2 for pair in examples)
    attention = report.split('<section id="attention">')[1].split("</section>")[0]
    assert attention.count("<img") == 3 and 'alt="attention: ' in attention
    assert "base64," in attention
    for section in ("summary", "metrics", "curves", "worst", "config"):
        assert f'<section id="{section}">' in report
    assert "copy the source" in report and "nrefs:1|case:mixed" in report
