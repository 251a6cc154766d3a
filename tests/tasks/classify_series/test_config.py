"""The series classifier's ``[model]`` section: the shared recurrent keys with its own defaults,
and model files written before they were shared."""

from __future__ import annotations

from dataclasses import asdict, fields

from rnnlab.tasks.classify_series.config import SeriesClassifyModelConfig
from rnnlab.tasks.encoder import RecurrentConfig


def test_the_recurrent_keys_are_the_shared_ones_with_the_series_defaults():
    model = SeriesClassifyModelConfig()
    assert isinstance(model, RecurrentConfig)
    recurrent = {f.name: getattr(model, f.name) for f in fields(RecurrentConfig)}
    assert recurrent == {
        "cell": "gru", "hidden_size": 32, "num_layers": 1, "bidirectional": True,
        "dropout": 0.0, "input_dropout": 0.0, "recurrent_dropout": 0.0, "weight_dropout": 0.0,
    }  # fmt: skip
    assert model.pooling == "concat"


def test_the_model_config_of_an_older_file_rebuilds_the_same_section():
    # the keys (and their values) the predictor read from model files before the change
    stored = {"cell": "gru", "hidden_size": 32, "num_layers": 1, "bidirectional": True,
              "pooling": "concat", "dropout": 0.0, "input_dropout": 0.0,
              "recurrent_dropout": 0.0, "weight_dropout": 0.0}  # fmt: skip
    assert SeriesClassifyModelConfig(**stored) == SeriesClassifyModelConfig()
    assert asdict(SeriesClassifyModelConfig()) == stored
