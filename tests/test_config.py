"""Typed configuration: defaults, TOML round trip, merging, and the error messages."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import pytest

from rnnlab.config import ConfigSection, TrainConfig, setting
from rnnlab.errors import ConfigError, RnnlabFileNotFoundError
from rnnlab.tasks.classify.config import ClassifyRunConfig, DataConfig, ModelConfig

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def write(tmp_path, text: str):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_measured_recipe():
    c = ClassifyRunConfig()
    assert (c.model.cell, c.model.embedding_dim, c.model.hidden_size, c.model.num_layers) == (
        "gru", 128, 128, 2
    )  # fmt: skip
    assert (c.model.pooling, c.model.bidirectional, c.model.init) == ("concat", True, "orthogonal")
    m = c.model
    dropouts = (m.dropout, m.input_dropout, m.recurrent_dropout, m.embedding_dropout)
    assert (*dropouts, m.weight_dropout) == (0.0, 0.2, 0.0, 0.0, 0.2)
    assert (c.data.tokenizer, c.data.max_vocab, c.data.min_count, c.data.max_len) == (
        "auto", 30000, 2, 500
    )  # fmt: skip
    assert (c.data.truncate, c.data.tokenizer_options, c.data.format) == ("head", {}, "")
    t = c.train
    assert (t.epochs, t.batch_size, t.lr, t.clip_norm, t.schedule, t.patience) == (
        20, 32, 1e-3, 5.0, "linear", 2
    )  # fmt: skip
    assert (t.layer_lr_decay, t.gradual_unfreezing) == (1.0, False)
    assert (t.monitor, t.monitor_mode, t.device, t.checkpoint_every, t.bucketing) == (
        "accuracy", "max", "auto", 200, True
    )  # fmt: skip
    assert ClassifyRunConfig().data.tokenizer_options is not c.data.tokenizer_options  # not shared


def test_toml_round_trip_is_exact(tmp_path):
    tricky = 'quote " backslash \\ tab \t newline \n bell \x07 del \x7f 中文 é'
    config = ClassifyRunConfig.from_dict(
        {
            "model": {"cell": "lstm", "dropout": 0.1, "bidirectional": True, "pooling": "max"},
            "data": {
                "data": tricky,
                "tokenizer": "chinese",
                "tokenizer_options": {
                    "user_dict": "dict.txt",
                    "keep digits": True,
                    "weights": [1, 2.5, -3e-300],
                    "nested": {"a.b": "x", "empty": {}},
                },
            },
            "train": {"lr": 1e-5, "weight_decay": 5e-324, "clip_norm": 1e300, "epochs": 7},
        }
    )
    text = config.to_toml()
    assert tomllib.loads(text) == config.to_dict()
    path = config.save(tmp_path / "run" / "config.toml")
    again = ClassifyRunConfig.from_toml(path)
    assert again == config and again.to_toml() == text
    assert again.data.data == tricky and again.train.weight_decay == 5e-324
    assert (
        ClassifyRunConfig.from_toml(ClassifyRunConfig().save(tmp_path / "d.toml"))
        == ClassifyRunConfig()
    )


def test_partial_file_keeps_defaults_and_flags_win(tmp_path):
    path = write(tmp_path, "[train]\nlr = 0.01\nepochs = 5\n\n[model]\ncell = 'lstm'\n")
    base = ClassifyRunConfig.from_toml(path)
    assert (base.train.lr, base.train.epochs, base.model.cell) == (0.01, 5, "lstm")
    assert base.train.batch_size == 32 and base.data == DataConfig()
    merged = base.merge({"train.lr": 0.05, "model.hidden_size": 64})
    assert (merged.train.lr, merged.train.epochs, merged.model.hidden_size) == (0.05, 5, 64)
    assert merged.model.cell == "lstm" and base.train.lr == 0.01  # a new config
    with pytest.raises(
        ConfigError,
        match=r"Unknown config key 'train.learnin_rate'; did you "
        r"mean 'train.lr'\?",
    ):
        base.merge({"train.learnin_rate": 0.1})
    with pytest.raises(ConfigError, match=r"'train.epochs' must be an integer, got NoneType"):
        base.merge({"train.epochs": None})


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[train]\nlearning_rate = 0.1", r"Unknown config key 'train.learning_rate' in \S*c.toml; "
         r"did you mean 'train.lr'\?$"),
        ("[train]\nepoch = 2", r"'train.epoch' in \S*c.toml; did you mean 'train.epochs'\?$"),
        ("[model]\nlr = 0.1", r"Unknown config key 'model.lr' .*did you mean 'train.lr'\?$"),
        ("lr = 0.1", r"Unknown config key 'lr' in \S*c.toml; did you mean 'train.lr'\?$"),
        ("[trian]\nlr = 0.1", r"Unknown config section 'trian' in \S*c.toml; did you mean "
         r"'train'\?$"),
        ("[train]\nxyzzy = 1", r"Unknown config key 'train.xyzzy' in \S*c.toml; the keys of "
         r"\[train\] are: epochs, batch_size, lr, .*num_threads\.$"),
        ("[zzqq]\nxyzzy = 1", r"Unknown config section 'zzqq' .*the sections are: model, "
         r"data, train"),
    ],
)  # fmt: skip
def test_unknown_keys_are_errors_with_a_suggestion(tmp_path, toml, message):
    with pytest.raises(ConfigError, match=message):
        ClassifyRunConfig.from_toml(write(tmp_path, toml))


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[train]\nepochs = "3"', r"'train.epochs' in \S*c.toml must be an integer, got str "
         r"'3'; write it without quotes\.$"),
        ("[train]\nepochs = 2.5", r"'train.epochs' .*must be an integer, got float 2.5\.$"),
        ("[train]\nbatch_size = true", r"'train.batch_size' .*must be an integer, got bool"),
        ("[model]\nbidirectional = 1", r"'model.bidirectional' .*must be a boolean \(true or "
         r"false\), got int 1\.$"),
        ("[data]\ntokenizer_options = 3", r"'data.tokenizer_options' .*must be a table"),
        ("train = 3", r"Config key 'train' in \S*c.toml must be a table of settings \(\[train\]\)"
         r", got int 3\.$"),
    ],
)  # fmt: skip
def test_wrong_types_name_the_key(tmp_path, toml, message):
    with pytest.raises(ConfigError, match=message):
        ClassifyRunConfig.from_toml(write(tmp_path, toml))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("model.dropout", 1.0, r"'model.dropout' must be a number in \[0, 1\), got 1.0\.$"),
        ("model.recurrent_dropout", -0.1, r"'model.recurrent_dropout' must be a number in"),
        ("model.hidden_size", 0, r"'model.hidden_size' must be an integer >= 1, got 0\.$"),
        ("model.cell", "gur", r"'model.cell' must be one of 'rnn', 'lstm', 'gru', got 'gur'; "
         r"did you mean 'gru'\?$"),
        ("model.pooling", "sum", r"'model.pooling' must be one of 'last', 'mean', 'max', "
         r"'concat', got "
         r"'sum'\.$"),
        ("data.truncate", "middle", r"'data.truncate' must be one of 'head', 'tail'"),
        ("data.max_len", 0, r"'data.max_len' must be an integer >= 1"),
        ("train.lr", -1e-3, r"'train.lr' must be a number >= 0, got -0.001\.$"),
        ("train.lr", float("nan"), r"'train.lr' must be a number >= 0, got nan\.$"),
        ("train.seed", -1, r"'train.seed' must be an integer in \[0, 4294967296\), got -1\.$"),
        ("train.schedule", "step", r"'train.schedule' must be one of 'none', 'linear', 'cosine'"),
        ("train.device", "gpu", r"'train.device' must be 'auto', 'cpu', 'cuda' or 'cuda:N', got "
         r"'gpu'\.$"),
        ("train.monitor", "loss", r"'train.monitor_mode' is 'max' but train.monitor 'loss' is "
         r"lower-is-better; set train.monitor_mode = 'min'\.$"),
    ],
)  # fmt: skip
def test_out_of_range_values_are_errors(key, value, message):
    with pytest.raises(ConfigError, match=message):
        ClassifyRunConfig().merge({key: value})


def test_rules_across_keys_and_sections_as_keys(tmp_path):
    path = write(tmp_path, "[train]\nmonitor = 'valid_loss'\n")
    with pytest.raises(ConfigError, match=r"set train.monitor_mode = 'min' \(in \S*c.toml\)\.$"):
        ClassifyRunConfig.from_toml(path)
    with pytest.raises(
        ConfigError,
        match=r"'train' is a section, not a setting; name one of its "
        r"keys, such as 'train.epochs'\.$",
    ):
        ClassifyRunConfig().merge({"train": 3})


def test_sections_check_themselves_and_are_frozen():
    with pytest.raises(ConfigError, match=r"'train.batch_size' must be an integer >= 1, got 0"):
        TrainConfig(batch_size=0)
    assert TrainConfig(lr=1).lr == 1.0 and isinstance(TrainConfig(lr=1).lr, float)
    assert TrainConfig(device="cuda:1").device == "cuda:1"
    assert TrainConfig(monitor="loss", monitor_mode="min").monitor == "loss"
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().lr = 0.1  # type: ignore[misc]
    model = ModelConfig(cell="rnn", dropout=0.5)
    assert ModelConfig(**asdict(model)) == model  # as model files store it
    with pytest.raises(ConfigError, match=r"'data.tokenizer_options' may hold only strings"):
        DataConfig(tokenizer_options={"user_dict": None})


def test_file_errors(tmp_path):
    with pytest.raises(RnnlabFileNotFoundError, match=r"Config file \S*nope.toml does not exist"):
        ClassifyRunConfig.from_toml(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"Config file \S*c.toml is not valid TOML: "):
        ClassifyRunConfig.from_toml(write(tmp_path, "[train\nlr = 1"))


@dataclass(frozen=True)
class LMConfig(ConfigSection):
    section: ClassVar[str] = "lm"
    bptt: int = setting(35, low=1, aliases=("seq_len",))
    tie_weights: bool = setting(True)


@dataclass(frozen=True)
class LMRunConfig(ClassifyRunConfig):
    lm: LMConfig = field(default_factory=LMConfig)


def test_a_task_adds_its_own_section(tmp_path):
    config = LMRunConfig.from_toml(write(tmp_path, "[lm]\nbptt = 70\n[train]\nlr = 0.5\n"))
    assert (config.lm.bptt, config.train.lr) == (70, 0.5)
    assert LMRunConfig.from_toml(config.save(tmp_path / "lm.toml")) == config
    assert config.merge({"lm.tie_weights": False}).lm.tie_weights is False
    with pytest.raises(ConfigError, match=r"'lm.bptt' must be an integer >= 1, got 0"):
        config.merge({"lm.bptt": 0})
    with pytest.raises(ConfigError, match=r"Unknown config key 'lm.bpt'.*did you mean 'lm.bptt'"):
        config.merge({"lm.bpt": 1})
    # An alias shared by two sections points at the section it was written in.
    with pytest.raises(ConfigError, match=r"'data.seq_len'; did you mean 'data.max_len'\?"):
        config.merge({"data.seq_len": 1})
    with pytest.raises(ConfigError, match=r"Unknown config section 'lm'"):
        ClassifyRunConfig.from_dict({"lm": {}})


def test_a_file_section_keeps_the_run_types_own_defaults_for_that_section(tmp_path):
    from rnnlab.tasks.lm.config import LMRunConfig

    path = tmp_path / "lm.toml"
    path.write_text("[train]\nlr = 0.01\n", encoding="utf-8")
    config = LMRunConfig.from_toml(path)
    assert config.train.lr == 0.01
    # The language model's [train] defaults, not TrainConfig's (monitor = "accuracy").
    assert (config.train.monitor, config.train.monitor_mode) == ("perplexity", "min")
    assert config.train.batch_size == LMRunConfig().train.batch_size != TrainConfig().batch_size


def test_a_value_from_a_flag_is_reported_as_the_flag():
    flags = {"train.epochs": "--epochs", "model.cell": "--cell"}
    with pytest.raises(ConfigError, match=r"^--epochs must be an integer >= 1, got 0\.$"):
        ClassifyRunConfig().merge({"train.epochs": 0}, flags)
    with pytest.raises(
        ConfigError, match=r"^--cell must be one of 'rnn', 'lstm', 'gru', got 'gur'"
    ):
        ClassifyRunConfig().merge({"model.cell": "gur"}, flags)
    # a key without a flag (the Python API) keeps naming the config key
    with pytest.raises(ConfigError, match=r"^Config key 'train.lr' must be a number >= 0"):
        ClassifyRunConfig().merge({"train.lr": -1.0}, flags)


def test_overridden_defaults_keep_a_lower_bound_of_zero():
    from rnnlab.tasks.forecast.config import ForecastModelConfig
    from rnnlab.tasks.tag.config import TagModelConfig

    expected = r"'model.input_dropout' must be a number in \[0, 1\)"
    for section in (ForecastModelConfig, TagModelConfig):
        with pytest.raises(ConfigError, match=expected):
            section(input_dropout=-0.1)
