"""Nothing accepted and ignored (issue 35, item 5): every setting below either has an effect
or is refused in one sentence naming its key.

- ``train.bucketing`` false where batches have no lengths to bucket (lm, forecast,
  classify_series);
- ``model.dropout`` with one recurrent layer (torch.nn only warns), in every task;
- ``data.tokenizer`` with ``data.level = "char"`` (language models);
- ``train.monitor`` without validation data: the run's ``config.toml`` records
  ``train_loss``, the metric the Trainer follows;
- ``batch_size`` of ``ForecastPredictor.predict`` and ``LMPredictor.predict``: batches, and
  the results do not depend on it;
- ``rnnlab embed train --words/--top-k`` without ``--seeds``;
- ``evaluate_series_run``'s majority baseline.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.config import TrainConfig
from rnnlab.errors import ConfigError
from rnnlab.tasks.base import get_task
from rnnlab.tasks.classify.config import ClassifyRunConfig
from rnnlab.tasks.classify_series.config import (
    SeriesClassifyModelConfig,
    SeriesClassifyRunConfig,
)
from rnnlab.tasks.forecast.config import ForecastRunConfig
from rnnlab.tasks.lm.config import LMRunConfig
from rnnlab.tasks.tag.config import TagModelConfig, TagRunConfig
from rnnlab.train.trainer import resolve_monitor

TASKS = ["classify", "tag", "lm", "forecast", "classify_series"]
REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize("task", TASKS)
def test_every_default_config_is_valid(task):
    config = get_task(task).config_type()
    assert type(config).from_dict(config.to_dict()) == config


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.toml")), ids=lambda p: p.name)
def test_the_shipped_config_files_are_valid(path):
    LMRunConfig.from_toml(path)  # every file in configs/ is a language-model preset


# --------------------------------------------------------------------------- 1. bucketing

BUCKETING = r"^Config key 'train\.bucketing' is false, but .* no lengths to bucket; remove it\.$"


@pytest.mark.parametrize("task", ["lm", "forecast", "classify_series"])
def test_bucketing_off_is_refused_where_batches_have_no_lengths(task):
    config_type = get_task(task).config_type
    with pytest.raises(ConfigError, match=BUCKETING):
        config_type.from_dict({"train": {"bucketing": False}})
    with pytest.raises(ConfigError, match=BUCKETING):
        config_type().merge({"train.bucketing": False})
    assert config_type.from_dict({"train": {"bucketing": True}}).train.bucketing  # the default


@pytest.mark.parametrize("task", ["classify", "tag"])
def test_bucketing_off_is_kept_where_it_acts(task):
    assert not get_task(task).config_type.from_dict({"train": {"bucketing": False}}).train.bucketing


# --------------------------------------------------------------------------- 2. dropout

ALTERNATIVES = {
    "classify": "model.embedding_dropout or model.head_dropout",
    "tag": "model.weight_dropout or model.output_dropout",
    "lm": "model.output_dropout or model.embedding_dropout",
    "forecast": "model.recurrent_dropout or model.weight_dropout",
    "classify_series": "model.recurrent_dropout or model.weight_dropout",
}


@pytest.mark.parametrize("task", TASKS)
def test_layer_dropout_on_one_layer_is_refused_naming_the_alternatives(task):
    config_type = get_task(task).config_type
    with pytest.raises(ConfigError) as caught:
        config_type.from_dict({"model": {"dropout": 0.3, "num_layers": 1}})
    message = str(caught.value)
    assert message.startswith("Config key 'model.dropout' is 0.3, but it drops between stacked")
    assert "model.num_layers is 1; set model.num_layers >= 2, or use model.input_dropout" in message
    assert message.endswith(ALTERNATIVES[task] + ".") and message.count(".\n") == 0
    stacked = config_type.from_dict({"model": {"dropout": 0.3, "num_layers": 2}})
    assert stacked.model.dropout == 0.3
    assert config_type.from_dict({"model": {"dropout": 0.0, "num_layers": 1}}).model.dropout == 0


def test_a_model_file_section_with_ignored_dropout_still_loads():
    """Model files rebuild their model section alone: files written when the setting was
    ignored keep loading (the refusal binds runs, not files)."""
    section = TagModelConfig(dropout=0.5)  # num_layers 1 by default
    assert TagModelConfig(**asdict(section)) == section
    with pytest.raises(ConfigError, match=r"'model\.dropout' is 0\.5"):
        TagRunConfig(model=section)


def test_a_forecast_model_file_with_ignored_settings_still_loads():
    from rnnlab.tasks.forecast.predictor import _loadable

    stored = ForecastRunConfig().to_dict()
    stored["train"]["bucketing"] = False
    stored["model"]["dropout"] = 0.2
    config = ForecastRunConfig.from_dict(_loadable(stored))
    assert config.train.bucketing and config.model.dropout == 0.0
    assert stored["train"]["bucketing"] is False  # the stored dict is left as it was
    assert _loadable([1, 2]) == [1, 2]  # damaged metadata is left to from_dict to refuse


# --------------------------------------------------------------------------- 3. char tokenizer


def test_a_word_tokenizer_at_character_level_is_refused():
    with pytest.raises(
        ConfigError,
        match=r"^Config key 'data\.tokenizer' is 'english', but data\.level is 'char', which "
        r"reads text character by character with no word tokenizer; remove data\.tokenizer "
        r"or set data\.level = 'word'\.$",
    ):
        LMRunConfig.from_dict({"data": {"level": "char", "tokenizer": "english"}})
    assert LMRunConfig.from_dict({"data": {"level": "char"}}).data.tokenizer == "auto"
    assert LMRunConfig.from_dict({"data": {"tokenizer": "english"}}).data.level == "word"


# --------------------------------------------------------------------------- 4. monitor


def test_without_validation_the_monitor_resolves_to_the_training_loss():
    asked = TrainConfig(monitor="accuracy", monitor_mode="max")
    resolved = resolve_monitor(asked, has_validation=False)
    assert (resolved.monitor, resolved.monitor_mode) == ("train_loss", "min")
    assert resolve_monitor(asked, has_validation=True) is asked
    for config_type in (ForecastRunConfig, SeriesClassifyRunConfig):  # no validation data
        train = config_type().train
        assert (train.monitor, train.monitor_mode) == ("train_loss", "min")


def test_trainer_without_validation_follows_the_training_loss(one_thread):
    from rnnlab.tasks.classify_series.data import SeriesBatches
    from rnnlab.tasks.classify_series.model import SeriesClassifier
    from rnnlab.train import Trainer

    config = SeriesClassifyRunConfig().model
    values = np.random.default_rng(0).normal(size=(8, 6))
    batches = SeriesBatches(values, np.arange(8) % 2, 4, seed=0)
    train = TrainConfig(epochs=1, monitor="accuracy", device="cpu", checkpoint_every=0)
    result = Trainer(train).fit(SeriesClassifier(2, config), batches)
    assert result.monitor == "train_loss" and set(result.best_metrics) == {"train_loss"}


# --------------------------------------------------------------------------- 7 (and 4): series


def _write_ts(path: Path, rng: np.random.Generator, counts: dict[str, int]) -> None:
    lines = ["@problemName tiny", "@univariate true", "@classLabel true a b", "@data"]
    for label, n in counts.items():
        shift = 1.0 if label == "a" else -1.0
        for _ in range(n):
            values = shift + rng.normal(0, 0.3, 10)
            lines.append(",".join(f"{v:.4f}" for v in values) + f":{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_series_run_records_its_monitor_and_evaluation_has_the_majority_baseline(
    tmp_path, one_thread
):
    from rnnlab.runs import load_model_file, save_model_file
    from rnnlab.tasks.classify_series.workflow import evaluate_series_run, train_series_classifier

    rng = np.random.default_rng(0)
    _write_ts(tmp_path / "train.ts", rng, {"a": 4, "b": 8})
    _write_ts(tmp_path / "test.ts", rng, {"a": 6, "b": 3})
    config = SeriesClassifyRunConfig.from_dict({
        "data": {"data": str(tmp_path / "train.ts"), "test": str(tmp_path / "test.ts")},
        "model": {"hidden_size": 4},
        "train": {"epochs": 2, "monitor": "accuracy", "monitor_mode": "max", "device": "cpu"},
    })  # fmt: skip
    run = tmp_path / "run"
    summary = train_series_classifier(config, run)
    recorded = SeriesClassifyRunConfig.from_toml(run / "config.toml").train
    assert (recorded.monitor, recorded.monitor_mode) == ("train_loss", "min")
    assert summary.metrics["baseline_majority_accuracy"] == pytest.approx(3 / 9)  # "b"

    found = evaluate_series_run(run, str(tmp_path / "test.ts"), write=False).metrics
    assert found["baseline_majority_accuracy"] == pytest.approx(3 / 9)
    assert found["accuracy"] == pytest.approx(summary.metrics["accuracy"])

    # A model file written before the training counts were recorded: no baseline, no error.
    tensors, meta = load_model_file(run)
    del meta["preprocessing"]["train_counts"]
    save_model_file(run / "model.safetensors", tensors, task="classify_series",
                    model_config=SeriesClassifyModelConfig(**meta["model_config"]),
                    tokenizer={}, vocab={}, labels=meta["labels"],
                    preprocessing=meta["preprocessing"])  # fmt: skip
    older = evaluate_series_run(run, str(tmp_path / "test.ts"), write=False).metrics
    assert "baseline_majority_accuracy" not in older
    assert older["accuracy"] == pytest.approx(summary.metrics["accuracy"])


# --------------------------------------------------------------------------- 5. batch_size


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_lm_predict_batches_prompts_with_the_same_continuations(cell, one_thread):
    from rnnlab.tasks.lm.config import LMModelConfig
    from rnnlab.tasks.lm.data import EOS
    from rnnlab.tasks.lm.model import RecurrentLM
    from rnnlab.tasks.lm.predictor import LMPredictor
    from rnnlab.text.vocab import Vocab

    corpus = ["the cat sat on the mat", "a dog ran in the park", "the bird sang"]
    vocab = Vocab.build([[*line.split(), EOS] for line in corpus])
    torch.manual_seed(0)
    model_config = LMModelConfig(cell=cell, embedding_dim=8, hidden_size=8, softmax="full")
    model = RecurrentLM(len(vocab), model_config)
    predictor = LMPredictor(model, vocab, {"name": "whitespace"}, "word")
    prompts = ["the cat", "a dog ran in", "", "the", "the bird sang on the mat", "zebra", "a dog"]
    alone = [predictor.generate(p, 6, temperature=0.0)[0] for p in prompts]
    for batch_size in (1, 2, 64):
        assert predictor.predict(prompts, batch_size=batch_size, max_new_tokens=6) == alone
    assert predictor.predict("the cat", max_new_tokens=6) == alone[:1]
    with pytest.raises(ValueError, match=r"^batch_size must be an integer >= 1, got 0\.$"):
        predictor.predict(prompts, batch_size=0)


@pytest.mark.parametrize("decoder", ["direct", "recursive"])
def test_forecast_predict_batches_series_with_the_same_forecasts(decoder, one_thread):
    pd = pytest.importorskip("pandas", reason="series are read with pandas (the forecast extra)")
    from rnnlab.data.series import Series, SeriesSet
    from rnnlab.tasks.forecast.fitting import fit_forecaster
    from rnnlab.tasks.forecast.predictor import ForecastPredictor

    rng = np.random.default_rng(0)
    times = pd.date_range("2000-01-01", periods=48, freq="MS")
    steps = np.arange(48)
    series = [
        Series(
            uid, times, 10 + k + np.sin(2 * np.pi * steps / 12) * (k + 1) + rng.normal(0, 0.2, 48)
        )
        for k, uid in enumerate("abcde")
    ]
    config = ForecastRunConfig().merge({
        "model.ensemble": 2, "model.decoder": decoder, "model.combine": "none",
        "train.epochs": 1, "data.steps_per_epoch": 2, "train.device": "cpu",
    })  # fmt: skip
    fitted = fit_forecaster(series[:3], {s.uid: 40 for s in series[:3]}, config, season=12,
                            lookback=24, horizon=4)  # fmt: skip
    predictor = ForecastPredictor(fitted, {}, "MS")
    given = SeriesSet(series, "MS", 12, "test")  # two of them unseen in training
    one, many = (predictor.predict(given, batch_size=b) for b in (1, 64))
    assert len(one) == 5 * 4
    assert one == many
    median = fitted.levels.index(0.5)
    alone = [fitted.forecast(s, len(s), 4)[:, median] for s in series]
    np.testing.assert_allclose([row["forecast"] for row in many], np.concatenate(alone),
                               rtol=1e-6)  # fmt: skip
    with pytest.raises(ValueError, match=r"^batch_size must be an integer >= 1, got 0\.$"):
        predictor.predict(given, batch_size=0)


# --------------------------------------------------------------------------- 6. embed CLI


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--words", "good,bad"], "--words only shapes"),
        (["--top-k", "5"], "--top-k only shapes"),
        (["--words", "good", "--top-k", "5", "--seeds", "1"], "--words and --top-k only shape"),
    ],
)
def test_embed_stability_options_without_seeds_are_refused(tmp_path, flags, named):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("good film\nbad film\n", encoding="utf-8")
    out = tmp_path / "vectors"
    result = CliRunner().invoke(
        app, ["embed", "train", "--corpus", str(corpus), "--out", str(out), *flags]
    )
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert "seed-stability report of --seeds N (N >= 2); add --seeds or drop" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_classify_default_is_not_touched_by_the_checks():
    assert ClassifyRunConfig().model.dropout == 0.0 and ClassifyRunConfig().train.bucketing
