"""The translation run config: every field documented, rules across fields."""

from __future__ import annotations

from dataclasses import fields

import pytest

from rnnlab.errors import ConfigError
from rnnlab.tasks.base import get_task
from rnnlab.tasks.translate.config import TranslateRunConfig


def test_every_field_has_a_one_line_help():
    for name, section in TranslateRunConfig.sections().items():
        if name == "train":
            continue  # the shared TrainConfig is documented where it is declared
        for f in fields(section):
            text = f.metadata.get("help", "")
            assert text and "\n" not in text, f"{name}.{f.name} has no help line"


def test_the_task_is_registered_with_its_config():
    task = get_task("translate")
    assert task.config_type is TranslateRunConfig
    assert "target_data" in task.read_options


def test_defaults_round_trip_through_toml(tmp_path):
    config = TranslateRunConfig().merge({"model.attention": "additive", "decode.beam": 3})
    path = config.save(tmp_path / "config.toml")
    assert TranslateRunConfig.from_toml(path) == config


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"train.monitor": "bleu"}, "monitor_mode"),
        ({"decode.beam": 2, "decode.nbest": 3}, "nbest"),
        ({"model.dropout": 0.3}, "num_layers"),
        ({"data.valid_target": "v.en"}, "--valid"),
        ({"model.attention": "concat"}, "one of"),
    ],
)
def test_inconsistent_settings_are_refused_in_one_sentence(overrides, words):
    with pytest.raises(ConfigError) as caught:
        TranslateRunConfig.from_dict(
            {k.split(".")[0]: {k.split(".")[1]: v} for k, v in overrides.items()}
            if len(overrides) == 1
            else {"decode": {"beam": 2, "nbest": 3}}
        )
    assert words in str(caught.value) and "\n" not in str(caught.value)
