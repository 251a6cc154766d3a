"""``rnnlab evaluate RUN --compare OTHER``: paired bootstrap resampling (Koehn 2004) of two
translation runs on the same test data, through the task's ``compare`` door."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest
from typer.testing import CliRunner

from rnnlab.cli import app as cli
from rnnlab.tasks import base


@pytest.fixture(scope="module")
def other_run(run, subset_files, tmp_path_factory):
    """A second, smaller run (300 training pairs, greedy) scored on the same test pairs."""
    root = tmp_path_factory.mktemp("other")
    for lang in ("de", "en"):
        name = "train.de" if lang == "de" else "train.en"
        lines = subset_files[name].read_bytes()
        if name.endswith(".de"):  # the German training side is gzipped
            lines = gzip.decompress(lines)
        text = "\n".join(lines.decode("utf-8").splitlines()[:300]) + "\n"
        (root / f"small.{lang}").write_text(text, encoding="utf-8")
    f = subset_files
    result = CliRunner().invoke(
        cli, ["train", "translate", "--data", str(root / "small.de"), "--target-data",
              str(root / "small.en"), "--valid", str(f["valid.de"]), "--valid-target",
              str(f["valid.en"]), "--test", str(f["test.de"]), "--test-target",
              str(f["test.en"]), "--hidden-size", "16", "--embedding-dim", "16", "--epochs",
              "1", "--beam", "1", "--num-threads", "1", "--device", "cpu",
              "--out", str(root / "run")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return root / "run"


def test_compare_prints_both_bleus_the_difference_and_its_p_value(run, other_run):
    result = CliRunner().invoke(cli, ["evaluate", str(run.run_dir), "--compare", str(other_run)])
    assert result.exit_code == 0, result.output
    assert "paired bootstrap resampling" in result.stdout and "p = " in result.stdout
    metrics = json.loads((run.run_dir / "metrics.json").read_text("utf-8"))
    other = json.loads((other_run / "metrics.json").read_text("utf-8"))
    assert metrics["compare_bleu"] == pytest.approx(metrics["bleu"], abs=1e-3)
    assert metrics["compare_other_bleu"] == pytest.approx(other["bleu"], abs=1e-3)
    assert metrics["compare_difference"] == pytest.approx(
        metrics["compare_bleu"] - metrics["compare_other_bleu"], abs=1e-3
    )
    assert 0.0 <= metrics["compare_p_value"] <= 1.0
    assert metrics["compare_other"] == str(other_run) and "compare_summary" not in metrics
    assert "train_seconds" in metrics  # the run's own record keeps its training keys


def test_compare_is_refused_in_one_sentence_for_a_task_without_it(run, other_run, monkeypatch):
    plain = dataclasses.replace(base.get_task("translate"), compare=None)
    monkeypatch.setitem(base._REGISTRY, "translate", plain)
    before = (run.run_dir / "metrics.json").read_text("utf-8")
    result = CliRunner().invoke(cli, ["evaluate", str(run.run_dir), "--compare", str(other_run)])
    assert result.exit_code == 2
    assert "whose runs have no paired comparison" in result.output
    assert "Traceback" not in result.output
    assert (run.run_dir / "metrics.json").read_text("utf-8") == before
