"""``rnnlab explain``, the analysis of ``rnnlab evaluate``, and ``train classify --seeds/--folds``
through the real console script, on small tables of real rotten_tomatoes snippets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import TINY, assert_clean_error, cli, write_csv

pytest.importorskip("captum", reason="explain needs captum")


@pytest.fixture(scope="module")
def folder(tmp_path_factory, rotten_tomatoes) -> Path:
    """train.csv (1,500 snippets), small.csv (400) and test.csv (200), columns review,sentiment."""
    folder = tmp_path_factory.mktemp("cli_explain")
    header = ["review", "sentiment"]
    train, test = rotten_tomatoes.train, rotten_tomatoes.test
    for name, part, n in (("train", train, 1500), ("small", train, 400), ("test", test, 200)):
        rows = zip(part.texts[:n], part.labels[:n], strict=True)
        write_csv(folder / f"{name}.csv", header, rows)
    return folder


@pytest.fixture(scope="module")
def run(folder) -> Path:
    result = cli(
        "train", "classify", "--data", "train.csv", "--test", "test.csv", "--text-col", "review",
        "--label-col", "sentiment", *TINY, "--out", "run", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TF-IDF 1-" in result.stdout and "-grams + LR" in result.stdout
    assert "The TF-IDF baseline:" in result.stdout and "network alone" in result.stdout
    assert "McNemar's test" in result.stdout
    assert f"report: {Path('run') / 'report.html'}" in result.stdout
    return folder / "run"


def test_the_default_reports_the_combination_beside_its_members(run):
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    for key in (
        "recurrent_accuracy",
        "lexical_accuracy",
        "recurrent_accuracy_ci_low",
        "combined_vs_recurrent_mcnemar_p",
        "recurrent_mcnemar_p",
        "mcnemar_p",
        "baseline_tfidf_c",
        "baseline_tfidf_ngrams",
        "combine_recurrent_weight",
    ):
        assert key in metrics, key  # fmt: skip
    assert 0.0 <= metrics["combine_recurrent_weight"] <= 1.0
    assert "network alone" in (run / "report.html").read_text(encoding="utf-8")


def test_combine_none_trains_the_network_alone(folder):
    result = cli(
        "train", "classify", "--data", "small.csv", "--text-col", "review", "--label-col",
        "sentiment", *TINY, "--combine", "none", "--out", "alone", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = json.loads((folder / "alone" / "metrics.json").read_text(encoding="utf-8"))
    assert "recurrent_accuracy" not in metrics and "combine_recurrent_weight" not in metrics
    assert (
        "network alone" not in result.stdout and "McNemar's test, model vs TF-IDF" in result.stdout
    )


def test_explain_prints_attributions_and_the_gate_trace(run, folder):
    result = cli("explain", "run", "--text", "A gripping, beautiful film.", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "integrated gradients towards" in result.stdout
    assert "completeness gap" in result.stdout
    for column in ("token", "attribution", "update", "reset", "|h|"):
        assert column in result.stdout
    assert "gripping" in result.stdout and "beautiful" in result.stdout


def test_explain_json_follows_the_contract_and_plots(run, folder):
    result = cli(
        "explain", "run", "--text", "Dull.", "--method", "occlusion", "--target", "pos",
        "--json", "--plot", "trace.png", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["method"] == "occlusion" and record["target"] == "pos"
    # the default tokenizer keeps punctuation: the full stop is a token with its own score
    assert record["tokens"] == ["dull", "."] and len(record["attributions"]) == 2
    assert set(record["trace"]) == {"text", "tokens", "cell", "gates", "hidden_norm"}
    assert (folder / "trace.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "trace-pca.png").exists()


def test_explain_bad_method_is_one_clear_line(run, folder):
    result = cli("explain", "run", "--text", "fine", "--method", "lime", cwd=folder)
    assert_clean_error(result, "method must be one of", "'lime'")


def test_evaluate_prints_baselines_and_refreshes_the_report(run, folder):
    report = run / "report.html"
    before = report.stat().st_mtime_ns
    result = cli("evaluate", "run", "--data", "test.csv", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "majority class" in result.stdout and "TF-IDF" in result.stdout
    assert "McNemar's test, model vs TF-IDF baseline (" in result.stdout
    assert report.stat().st_mtime_ns > before
    metrics = json.loads((run / "evaluations/test/metrics.json").read_text(encoding="utf-8"))
    assert metrics["data"] == "test.csv" and "baseline_tfidf_accuracy_ci_high" in metrics


def test_seeds_trains_one_run_per_seed_and_summarises(folder):
    result = cli(
        "train", "classify", "--data", "small.csv", "--text-col", "review", "--label-col",
        "sentiment", *TINY, "--seeds", "2", "--out", "seeds", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 seeds: mean ± sd" in result.stdout
    summary = json.loads((folder / "seeds" / "summary.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "seeds" and summary["runs"] == ["seed-0", "seed-1"]
    values = [
        json.loads((folder / "seeds" / name / "metrics.json").read_text())["accuracy"]
        for name in summary["runs"]
    ]
    assert summary["accuracy"]["values"] == values
    assert (
        summary["accuracy"]["ci_low"]
        <= summary["accuracy"]["mean"]
        <= summary["accuracy"]["ci_high"]
    )


def test_folds_cross_validates_on_held_out_parts(folder):
    result = cli(
        "train", "classify", "--data", "small.csv", "--text-col", "review", "--label-col",
        "sentiment", *TINY, "--folds", "2", "--out", "cv", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 folds: mean ± sd" in result.stdout
    summary = json.loads((folder / "cv" / "summary.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "folds" and summary["accuracy"]["n"] == 2
    held_out = []
    for name in ("fold-1", "fold-2"):
        metrics = json.loads((folder / "cv" / name / "metrics.json").read_text())
        held_out.append(metrics["num_examples"])
        tables = folder / "cv" / name / "data"
        train = set((tables / "train.csv").read_text().splitlines()[1:])
        test = set((tables / "test.csv").read_text().splitlines()[1:])
        assert not train & test
    assert sum(held_out) == 400  # every labelled text held out exactly once


def test_seeds_and_folds_together_is_one_clear_line(folder):
    result = cli(
        "train", "classify", "--data", "small.csv", "--text-col", "review", "--label-col",
        "sentiment", *TINY, "--seeds", "2", "--folds", "2", "--out", "both", cwd=folder,
    )  # fmt: skip
    assert_clean_error(result, "--seeds and --folds cannot be combined")
