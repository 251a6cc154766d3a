"""The command line is written from the configs: every flag has help, one setting has one
name, and no spelling that worked before the flags were generated has stopped working.

``flags_before_generation.json`` lists every command's flags as they were when the train
commands were written by hand; it is the promise that old command lines keep running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest
import typer
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.cli.config_flags import config_flags
from rnnlab.config import ConfigSection, RunConfig, TrainConfig, setting
from rnnlab.tasks.base import get_task, task_names

BEFORE = json.loads((Path(__file__).parent / "flags_before_generation.json").read_text())


def _commands() -> dict[str, object]:
    """Every leaf command of ``rnnlab``, by its path (``"train classify"``)."""
    found: dict[str, object] = {}

    def walk(command: object, path: list[str]) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(None):  # type: ignore[attr-defined]
                walk(command.get_command(None, name), [*path, name])  # type: ignore[attr-defined]
        else:
            found[" ".join(path)] = command

    walk(typer.main.get_command(app), [])
    return found


def _options(command: object) -> list:
    return [p for p in command.params if getattr(p, "param_type_name", "") == "option"]  # type: ignore[attr-defined]


def _spellings(command: object) -> set[str]:
    return {o for p in _options(command) for o in p.opts + p.secondary_opts if o.startswith("--")}


COMMANDS = _commands()


@pytest.mark.parametrize("path", sorted(BEFORE))
def test_every_flag_written_before_still_works(path):
    assert path in COMMANDS, f"rnnlab {path} is gone"
    missing = set(BEFORE[path]) - _spellings(COMMANDS[path])
    assert not missing, f"rnnlab {path} no longer accepts {sorted(missing)}"


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_shown_flag_has_a_help_line(path):
    silent = [p.opts[0] for p in _options(COMMANDS[path]) if not p.hidden and not p.help]
    assert not silent, f"rnnlab {path}: {silent} have no help"


def test_a_setting_has_one_flag_in_every_train_command():
    """``--valid`` is ``data.valid`` wherever it appears, and a key shared by two tasks is
    spelt the same in both (``--batch-size``, ``--patience``, ``--device``, ``--seed``)."""
    key_of: dict[str, str] = {}
    flag_of: dict[str, str] = {}
    for name in task_names():
        for option in config_flags(get_task(name).config_type):
            for spelling in option.names:
                assert key_of.setdefault(spelling, option.key) == option.key, spelling
            if not option.hidden:
                assert flag_of.setdefault(option.key, option.decls) == option.decls, option.key
    for shared in ("--batch-size", "--patience", "--device", "--seed", "--epochs", "--lr"):
        assert all(
            shared in _spellings(COMMANDS[f"train {name.replace('_', '-')}"])
            for name in task_names()
        ), shared


@dataclass(frozen=True)
class _Extra(ConfigSection):
    section: ClassVar[str] = "model"
    hidden_size: int = setting(8, low=1, help="Units.")
    warp_factor: float = setting(
        1.5, low=0, help="How fast.", flag_aliases=("--warp",), choices=(1.5, 2.0)
    )
    notes: dict = setting({}, help="TOML only.", flag="")  # noqa: RUF009


@dataclass(frozen=True)
class _ExtraRun(RunConfig):
    model: _Extra = field(default_factory=_Extra)
    train: TrainConfig = field(default_factory=TrainConfig)


def test_a_new_config_key_gets_its_flag_and_help():
    options = {o.flag: o for o in config_flags(_ExtraRun)}
    warp = options["--warp-factor"]
    assert warp.key == "model.warp_factor" and warp.kind is float and not warp.hidden
    assert warp.help.startswith("How fast.") and "[default: 1.5]" in warp.help
    assert "One of: 1.5, 2.0." in warp.help
    assert options["--warp"].hidden and options["--warp"].key == "model.warp_factor"
    assert "--notes" not in options  # flag="": set in TOML only


def test_help_keeps_its_examples_and_the_seed_says_what_it_draws():
    result = CliRunner().invoke(app, ["train", "classify", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and "rnnlab train classify --data imdb" in result.stdout
    assert "draws the validation split" in result.stdout


def test_a_bad_value_is_refused_naming_the_flag_typed(tmp_path):
    runner = CliRunner()
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "forecast", "--data", "airline", "--hidden-size", "0",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2
    assert "--hidden-size must be an integer >= 1, got 0" in result.stderr
    result = runner.invoke(app, ["train", "forecast", "--data", "airline", "--quantiles",
                                 "0.1,x", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2 and "--quantiles: 'x' is not a number" in result.stderr
    assert not out.exists()


def test_evaluate_and_predict_read_with_the_flags_train_writes():
    """Every task's reading options are flags of evaluate and predict, spelt as its train
    command spells the same ``[data]`` key (rnnlab.cli.reading writes them from the
    configs, so a new task's need no edit there)."""
    from rnnlab.cli.reading import task_reading_flags

    reading = task_reading_flags()
    declared = {flag.key: flag for flag in reading}
    for name in task_names():
        task = get_task(name)
        trained = {o.key: o for o in config_flags(task.config_type) if not o.hidden}
        for key in {*task.read_options, *task.predict_options}:
            assert key in declared, f"{name}: reading option {key} has no flag"
            train_flag = trained[f"data.{key}"].names[0]
            assert declared[key].flag == train_flag, (name, key)
    for path in ("evaluate", "predict"):
        assert {f.flag for f in reading} <= _spellings(COMMANDS[path])
