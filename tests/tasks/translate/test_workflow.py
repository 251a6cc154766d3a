"""A translation run end to end on real Multi30K subsets, the estimator, and sacreBLEU
scoring against sacreBLEU itself."""

from __future__ import annotations

import csv
import json

import pytest

import rnnlab
from rnnlab.errors import DataError
from rnnlab.tasks.base import get_task
from rnnlab.tasks.translate.scoring import paired_bootstrap, translation_metrics

from .conftest import SMALL

sacrebleu = pytest.importorskip("sacrebleu", reason="translation scores need sacreBLEU")


def test_the_run_directory_holds_the_standard_scores(run, subset_files):
    metrics = json.loads((run.run_dir / "metrics.json").read_text("utf-8"))
    assert metrics["split"] == "test" and metrics["num_sentences"] == 100
    for key in ("bleu", "chrf", "bleu_lowercase", "copy_bleu", "copy_chrf"):
        assert isinstance(metrics[key], float)
    for key in ("bleu", "chrf", "bleu_lowercase"):
        assert metrics[f"{key}_ci_low"] <= metrics[key] <= metrics[f"{key}_ci_high"]
    assert metrics["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert "case:lc" in metrics["bleu_lowercase_signature"]
    assert metrics["train_pairs"] == 2000
    history = (run.run_dir / "history.jsonl").read_text("utf-8").splitlines()
    assert "valid_perplexity" in json.loads(history[0])


def test_bleu_is_sacrebleu_on_the_detokenised_translations(run, subset_files):
    with open(run.run_dir / "analysis" / "translations.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 100
    bleus = [float(r["bleu"]) for r in rows]
    assert bleus == sorted(bleus)  # worst first
    rows.sort(key=lambda r: int(r["line"]))
    references = subset_files["test.en"].read_text("utf-8").splitlines()
    assert [r["reference"] for r in rows] == references
    expected = sacrebleu.corpus_bleu([r["translation"] for r in rows], [references]).score
    metrics = json.loads((run.run_dir / "metrics.json").read_text("utf-8"))
    assert metrics["bleu"] == pytest.approx(expected, abs=1e-3)
    predictor = rnnlab.load(run.run_dir)
    assert predictor.translate([rows[0]["source"]]) == [rows[0]["translation"]]


def test_evaluate_refreshes_the_run_and_scores_other_data_apart(run, subset_files):
    task = get_task("translate")
    own = task.evaluate(run.run_dir)
    assert own.directory == run.run_dir
    assert "train_seconds" in json.loads((run.run_dir / "metrics.json").read_text("utf-8"))
    other = task.evaluate(
        run.run_dir,
        str(subset_files["valid.de"]),
        options={"target_data": str(subset_files["valid.en"])},
    )
    assert other.directory == run.run_dir / "evaluations" / "valid"
    assert (other.directory / "analysis" / "translations.csv").is_file()
    assert other.metrics["num_sentences"] == 100


def test_bad_pairs_leave_no_run_directory(tmp_path):
    (tmp_path / "a.de").write_text("eins\nzwei\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("one\n", encoding="utf-8")
    task = get_task("translate")
    config = task.config_type().merge(
        {**SMALL, "data.data": str(tmp_path / "a.de"), "data.target_data": str(tmp_path / "a.en")}
    )
    with pytest.raises(DataError) as caught:
        task.train(config, tmp_path / "run")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "run").exists()


def test_the_estimator_is_a_scikit_learn_estimator():
    from sklearn.base import clone

    from rnnlab.tasks.translate import Translator

    from .conftest import TEN_PAIRS

    mt = Translator(hidden_size=16, embedding_dim=8, epochs=1, device="cpu", min_count=1)
    assert clone(mt).get_params() == mt.get_params()
    sources, targets = zip(*TEN_PAIRS, strict=True)
    mt.fit(list(sources), list(targets), list(sources), list(targets))
    assert len(mt.predict(list(sources[:2]))) == 2
    assert 0.0 <= mt.score(list(sources), list(targets)) <= 100.0


def test_scores_and_paired_bootstrap_against_sacrebleu():
    refs = ["A dog runs in the park.", "Two men are talking.", "A woman sings a song."] * 5
    hyps = ["A dog runs in a park.", "Two men talk.", "The woman sings."] * 5
    found = translation_metrics(hyps, refs, refs, n_resamples=200)
    assert found["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score, abs=1e-4)
    assert found["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score, abs=1e-4)
    assert found["copy_bleu"] == pytest.approx(100.0)
    same = paired_bootstrap(hyps, hyps, refs, n_resamples=100)
    assert same["p_value"] == 1.0
    better = paired_bootstrap(refs, hyps, refs, n_resamples=100)
    assert better["p_value"] == 0.0


def test_early_stopping_can_follow_validation_bleu():
    from rnnlab.tasks.translate import Translator

    from .conftest import TEN_PAIRS

    sources, targets = (list(side) for side in zip(*TEN_PAIRS, strict=True))
    mt = Translator(hidden_size=16, embedding_dim=8, epochs=2, device="cpu", min_count=1,
                    monitor="bleu", monitor_mode="max", patience=1)  # fmt: skip
    mt.fit(sources, targets, sources, targets)
    assert all("valid_bleu" in record for record in mt.history_)
    assert mt.fit_result_.monitor == "bleu"
