"""``train classify --init-from LM``: a classifier fine-tuned from a language model trained on
the training sentences of rotten_tomatoes, through the command line; and the mismatches it
refuses in one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import ConfigError
from rnnlab.runs import load_model_file
from rnnlab.tasks.classify.config import ClassifyRunConfig
from rnnlab.tasks.classify.finetune import (
    FINE_TUNING,
    adopt_language_model,
    load_language_model_weights,
    read_language_model,
)
from rnnlab.tasks.classify.model import RecurrentClassifier
from rnnlab.text.tokenize import get_tokenizer

LM = [
    "--epochs", "1", "--embedding-dim", "24", "--hidden-size", "24", "--num-layers", "2",
    "--cell", "lstm", "--device", "cpu", "--seed", "0", "--batch-size", "20", "--bptt", "20",
]  # fmt: skip


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory, rotten_tomatoes) -> Path:
    out = tmp_path_factory.mktemp("ft") / "lm"
    result = invoke("train", "lm", "--data", "rotten_tomatoes", *LM, "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def fine_tuned(lm_run) -> Path:
    out = lm_run.parent / "clf"
    result = invoke(
        "train", "classify", "--data", "rotten_tomatoes", "--init-from", lm_run,
        "--epochs", "4", "--max-len", "40", "--device", "cpu", "--seed", "0", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_the_classifier_takes_the_lms_tokenizer_vocabulary_and_encoder(lm_run, fine_tuned):
    _, lm_meta = load_model_file(lm_run)
    tensors, meta = load_model_file(fine_tuned)
    assert meta["vocab"] == lm_meta["vocab"] and meta["tokenizer"] == lm_meta["tokenizer"]
    for key in ("cell", "embedding_dim", "hidden_size", "num_layers"):
        assert meta["model_config"][key] == lm_meta["model_config"][key]
    config = ClassifyRunConfig.from_toml(fine_tuned / "config.toml")
    assert config.model.cell == "lstm" and config.model.hidden_size == 24  # what really ran
    # the LM's tokenizer options, not what `auto` means for a classifier of its own
    assert (config.data.tokenizer, config.data.tokenizer_options) == (
        lm_meta["tokenizer"]["name"],
        lm_meta["tokenizer"]["options"],
    )
    for key, value in FINE_TUNING.items():  # ULMFiT's recipe where no flag said otherwise
        section, name = key.split(".")
        expected = 4 if key == "train.epochs" else value  # --epochs 4 wins
        assert getattr(getattr(config, section), name) == expected
    assert tensors["head.weight"].shape == (2, 3 * 24)  # concat pooling [last, max, mean]
    history = [json.loads(line) for line in (fine_tuned / "history.jsonl").open()]
    assert len(history) == 4


def test_fine_tuning_starts_from_the_lm_weights(lm_run, rotten_tomatoes):
    lm = read_language_model(lm_run)
    config = adopt_language_model(ClassifyRunConfig(), lm)
    model = RecurrentClassifier(len(lm.vocab), ["neg", "pos"], config.model)
    load_language_model_weights(model.encoder, lm)
    embedding = lm.tensors["embedding.weight"].clone()
    embedding[0] = 0  # the padding row
    assert torch.equal(model.encoder.embedding.weight, embedding)
    for name, value in model.encoder.rnn.state_dict().items():
        assert torch.equal(value, lm.tensors[f"rnn.{name}"]), name


def test_the_lm_read_only_the_training_sentences(lm_run, rotten_tomatoes):
    vocab = set(json.loads((lm_run / "vocab.json").read_text("utf-8"))["vocab"]["tokens"])
    tokenize = get_tokenizer("english")
    train = {t for text in rotten_tomatoes.train.texts for t in tokenize(text)}
    held_out = {
        t for text in rotten_tomatoes.valid.texts + rotten_tomatoes.test.texts
        for t in tokenize(text)
    }  # fmt: skip
    assert vocab - {"<eos>"} <= train  # min_count 1: every token it knows came from train
    assert held_out - train  # and held-out sentences have words it never saw


def test_a_character_lm_is_refused(tmp_path, rotten_tomatoes):
    out = tmp_path / "char"
    result = invoke("train", "lm", "--data", "rotten_tomatoes", "--level", "char", *LM,
                    "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    with pytest.raises(ConfigError, match="character-level language model"):
        read_language_model(out)


def test_another_tokenizer_and_non_lm_runs_are_refused(lm_run, fine_tuned):
    lm = read_language_model(lm_run)
    with pytest.raises(ConfigError, match="reads 'english' tokens"):
        adopt_language_model(ClassifyRunConfig().merge({"data.tokenizer": "char"}), lm)
    adopted = adopt_language_model(ClassifyRunConfig(), lm)
    assert not adopted.model.bidirectional
    assert adopted.model.embeddings == "none"  # the LM's embedding, not skip-gram vectors
    with pytest.raises(ConfigError, match="would overwrite the embedding"):
        adopt_language_model(ClassifyRunConfig().merge({"model.embeddings": "glove-6b-50d"}), lm)
    with pytest.raises(ConfigError, match=r"data\.oov_buckets"):
        adopt_language_model(ClassifyRunConfig().merge({"data.oov_buckets": 8}), lm)
    header_only = read_language_model(lm_run, weights=False)
    assert header_only.tensors == {} and header_only.vocab.to_dict() == lm.vocab.to_dict()
    assert adopt_language_model(ClassifyRunConfig(), header_only) == adopt_language_model(
        ClassifyRunConfig(), lm
    )
    with pytest.raises(ConfigError, match=r"holds a .* model, not a language model"):
        read_language_model(fine_tuned)
    result = invoke(
        "train", "classify", "--data", "rotten_tomatoes", "--init-from", lm_run,
        "--tokenizer", "chinese", "--out", lm_run.parent / "bad",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "reads 'english' tokens" in result.output and "Traceback" not in result.output
