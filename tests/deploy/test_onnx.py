"""ONNX export: onnxruntime against PyTorch on padded batches of unseen shapes, the metadata a
non-Python consumer needs, the onnx engine of Predictor, and the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab.deploy.onnx import export_onnx, read_onnx_metadata
from rnnlab.errors import ConfigError
from tests.tiny_run import train_tiny_run

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
pytest.importorskip("onnx", reason="onnx is not installed")

RNNLAB = Path(sys.executable).parent / "rnnlab"
MODELS = {
    "gru-last": {"cell": "gru", "num_layers": 2},
    "lstm-bi-mean": {"cell": "lstm", "bidirectional": True, "pooling": "mean"},
    "rnn-bi-max": {"cell": "rnn", "bidirectional": True, "pooling": "max"},
}


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here on one torch thread."""


@pytest.fixture(scope="module", params=list(MODELS))
def run(request, rotten_tomatoes, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp(request.param)
    return train_tiny_run(folder, rotten_tomatoes, n=600, **MODELS[request.param])


def padded_batch(vocab_size: int, lengths: list[int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random ids (pad id 0 after each row's length), as a caller of the graph would send."""
    rng = np.random.default_rng(seed)
    steps = max(lengths)
    ids = rng.integers(3, vocab_size, size=(len(lengths), steps))
    ids[np.arange(steps)[None, :] >= np.array(lengths)[:, None]] = 0
    return ids.astype(np.int64), np.array(lengths, dtype=np.int64)


def test_onnx_matches_torch_on_padded_batches_of_unseen_shapes(run, tmp_path):
    result = export_onnx(run, tmp_path / "model.onnx")
    assert result.max_abs_diff <= 1e-4
    predictor = rnnlab.load(run)
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    # The graph was traced on a batch of 2 with lengths (5, 3); none of these shapes was seen.
    for lengths in ([1], [9, 1, 4], [23, 7, 23, 2, 11, 1, 16, 5], [2] * 5, list(range(40, 0, -3))):
        ids, lens = padded_batch(len(predictor.vocab), lengths, seed=len(lengths))
        (got,) = session.run(None, {"ids": ids, "lengths": lens})
        with torch.no_grad():
            logits = predictor.model(torch.from_numpy(ids), torch.from_numpy(lens))
        expected = torch.softmax(logits, dim=-1).numpy()
        assert got.shape == (len(lengths), len(predictor.labels))
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_padding_does_not_change_a_text_s_probabilities(run, tmp_path):
    """The same row alone and inside a longer padded batch gives the same output."""
    path = export_onnx(run, tmp_path / "model.onnx").path
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ids, lengths = padded_batch(200, [6, 30], seed=3)
    (batched,) = session.run(None, {"ids": ids, "lengths": lengths})
    (alone,) = session.run(None, {"ids": ids[:1, :6], "lengths": lengths[:1]})
    np.testing.assert_allclose(batched[0], alone[0], atol=1e-6)


def test_export_leaves_the_predictor_unchanged(rotten_tomatoes, run, tmp_path):
    predictor = rnnlab.load(run)
    texts = rotten_tomatoes.test.texts[:50]
    before = predictor.predict_proba(texts)
    export_onnx(predictor, tmp_path / "model.onnx")
    assert not predictor.model.training
    np.testing.assert_array_equal(predictor.predict_proba(texts), before)


def _tokenise_like_the_sidecar(text: str, meta: dict) -> list[int]:
    """Encode ``text`` from the sidecar alone, as a consumer in another language would."""
    tokenizer, prep = meta["tokenizer"], meta["preprocessing"]
    assert tokenizer["name"] == "english"
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"<br\s*/?\s*>", " ", text, flags=re.IGNORECASE)
    tokens = re.findall(tokenizer["pattern"], text)
    itos = meta["vocab"]["specials"] + meta["vocab"]["tokens"]
    stoi = {token: i for i, token in enumerate(itos)}
    ids = [stoi.get(token, prep["unk_id"]) for token in tokens]
    if prep["max_len"] is not None:
        ids = ids[: prep["max_len"]] if prep["truncate"] == "head" else ids[-prep["max_len"] :]
    return ids or [prep["unk_id"]]


def test_a_consumer_needs_only_the_graph_and_its_metadata(rotten_tomatoes, tmp_path):
    folder = train_tiny_run(tmp_path / "run", rotten_tomatoes, n=600)
    result = export_onnx(folder, tmp_path / "model.onnx")
    sidecar = json.loads(result.sidecar.read_text(encoding="utf-8"))
    assert read_onnx_metadata(result.path) == sidecar
    assert sidecar["labels"] == ["neg", "pos"] and sidecar["task"] == "classify"

    texts = rotten_tomatoes.test.texts[:40]
    encoded = [_tokenise_like_the_sidecar(t, sidecar) for t in texts]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    ids = np.full((len(encoded), lengths.max()), sidecar["preprocessing"]["pad_id"], np.int64)
    for row, seq in enumerate(encoded):
        ids[row, : len(seq)] = seq
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    (probs,) = session.run(None, {"ids": ids, "lengths": lengths})
    predictor = rnnlab.load(folder)
    assert encoded == predictor.encode(texts)
    np.testing.assert_allclose(probs, predictor.predict_proba(texts), atol=1e-4)


def test_predictor_on_the_onnx_engine_matches_torch(rotten_tomatoes, run):
    texts = rotten_tomatoes.test.texts[:200]
    torch_probs = rnnlab.load(run).predict_proba(texts, batch_size=32)
    onnx_predictor = rnnlab.load(run, engine="onnx")
    np.testing.assert_allclose(
        onnx_predictor.predict_proba(texts, batch_size=32), torch_probs, atol=1e-5
    )
    assert onnx_predictor.predict(texts[:5]) == rnnlab.load(run).predict(texts[:5])


def test_unknown_engine_and_bad_suffix_are_refused(rotten_tomatoes, tmp_path):
    folder = train_tiny_run(tmp_path / "run", rotten_tomatoes, n=300)
    with pytest.raises(ConfigError, match="engine must be one of torch, onnx, got 'tensorrt'"):
        rnnlab.load(folder, engine="tensorrt")
    with pytest.raises(ConfigError, match=r"should end in \.onnx"):
        export_onnx(folder, tmp_path / "model.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_cli_export_writes_graph_and_sidecar(rotten_tomatoes, tmp_path):
    folder = train_tiny_run(tmp_path / "run", rotten_tomatoes, n=300)
    result = subprocess.run(
        [str(RNNLAB), "export", str(folder), "--onnx", "out/model.onnx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote out/model.onnx and out/model.json" in result.stdout
    assert re.search(r"max \|Δp\| = \d\.\de[-+]\d\d", result.stdout), result.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.json", "model.onnx"]
