"""The task registry: a task registered from outside the package reaches ``rnnlab.load``,
``rnnlab.evaluate``, ``rnnlab.predict`` and the ``evaluate`` / ``predict`` commands with no
change to them; the built-in tasks are found through it too."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app
from rnnlab.config import ConfigSection, RunConfig, TrainConfig, setting
from rnnlab.errors import ConfigError
from rnnlab.runs import load_model_file, read_run_config, save_model_file
from rnnlab.tasks import base
from rnnlab.tasks.base import (
    Evaluation,
    Predictor,
    Task,
    TrainSummary,
    get_task,
    register_task,
)


@dataclass(frozen=True)
class ToyModelConfig(ConfigSection):
    section: ClassVar[str] = "model"
    suffix: str = setting("!")


@dataclass(frozen=True)
class ToyDataConfig(ConfigSection):
    section: ClassVar[str] = "data"
    data: str = setting("")
    test: str = setting("")


@dataclass(frozen=True)
class ToyRunConfig(RunConfig):
    model: ToyModelConfig = field(default_factory=ToyModelConfig)
    data: ToyDataConfig = field(default_factory=ToyDataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


class EchoPredictor(Predictor):
    """Labels each input with the label of the largest weight, and echoes it with a suffix."""

    task = "toy"

    def __init__(self, weights: torch.Tensor, labels: list[str], suffix: str) -> None:
        self.model = torch.nn.Module()
        self.engine = self.model
        self.weights, self._labels, self.suffix = weights, labels, suffix

    @property
    def labels(self) -> list:
        return list(self._labels)

    @classmethod
    def from_file(cls, path: str | Path, device: Any = "cpu") -> EchoPredictor:
        tensors, meta = load_model_file(path)
        return cls(tensors["weights"], meta["labels"], meta["model_config"]["suffix"])

    def predict(self, inputs: Any, batch_size: int = 64) -> list:
        label = self._labels[int(self.weights.argmax())]
        return [f"{label}{self.suffix}" for _ in inputs]


def evaluate_echo(run, data=None, *, name=None, options=None, write=True) -> Evaluation:
    predictor = EchoPredictor.from_file(run)
    lines = Path(data).read_text(encoding="utf-8").split()
    predicted = predictor.predict(lines)
    correct = sum(p == f"{y}{predictor.suffix}" for p, y in zip(predicted, lines, strict=True))
    return Evaluation({"data": data, "accuracy": correct / len(lines), "num_examples": len(lines)})


def train_echo(config, run_dir, *, resume=False, callbacks=()):
    """ "Training" the echo model: fixed weights that favour label "b", and the run files."""
    run_dir = Path(run_dir)
    save_model_file(
        run_dir / "model.safetensors",
        {"weights": torch.tensor([0.1, 0.7, 0.2])},
        task="toy",
        model_config=config.model,
        tokenizer={"name": "none"},
        vocab={},
        labels=["a", "b", "c"],
        preprocessing={},
    )
    config.save(run_dir / "config.toml")
    return TrainSummary(run_dir, {"accuracy": 1.0}, "test", 0.0, 0)


@pytest.fixture
def toy_run(tmp_path):
    task = Task(
        name="toy",
        title="toy echo model",
        config_type=ToyRunConfig,
        predictor_type=EchoPredictor,
        train=train_echo,
        evaluate=evaluate_echo,
    )
    register_task(task)
    run = tmp_path / "toy-run"
    get_task("toy").train(ToyRunConfig().merge({"model.suffix": "?"}), run)  # via the registry
    yield run
    base._REGISTRY.pop("toy", None)


def test_load_evaluate_and_predict_reach_a_registered_task(toy_run, tmp_path):
    predictor = rnnlab.load(toy_run)
    assert isinstance(predictor, EchoPredictor) and predictor.labels == ["a", "b", "c"]
    assert rnnlab.predict(toy_run, ["x", "y"]) == ["b?", "b?"]
    gold = tmp_path / "gold.txt"
    gold.write_text("b b c a\n", encoding="utf-8")
    result = rnnlab.evaluate_run(toy_run, str(gold))
    assert result.metrics["accuracy"] == 0.5 and result.metrics["num_examples"] == 4
    assert isinstance(read_run_config(toy_run, ToyRunConfig), ToyRunConfig)


def test_the_commands_reach_a_registered_task(toy_run, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out.tsv"
    result = runner.invoke(app, ["predict", str(toy_run), "--out", str(out)], input="x\ny\n")
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "x\tb?\ny\tb?\n"
    gold = tmp_path / "gold.txt"
    gold.write_text("b a\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(toy_run), "--data", str(gold)])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.stdout and "0.5000" in result.stdout
    # The toy task declares no data-reading options: one of the classifier's is refused.
    result = runner.invoke(app, ["evaluate", str(toy_run), "--text-col", "t"])
    assert result.exit_code == 2 and "not used by rnnlab evaluate on a 'toy' run" in result.output
    # Nor an ONNX graph, nor HTTP endpoints.
    result = runner.invoke(app, ["export", str(toy_run), "--onnx", str(tmp_path / "t.onnx")])
    assert result.exit_code == 2 and "'toy' model has no exportable graph" in result.output
    result = runner.invoke(app, ["serve", str(toy_run)])
    assert result.exit_code == 2 and "the run holds a toy echo model" in result.output


def test_builtin_tasks_are_found_by_name_and_unknown_ones_refused(tmp_path):
    assert get_task("classify").predictor_type.__name__ == "TextPredictor"
    assert get_task("tag").predictor_type.__name__ == "TagPredictor"
    assert {"classify", "tag"} <= set(base.task_names())
    with pytest.raises(
        ConfigError,
        match=r"Unknown task 'weather'; the tasks are classify, classify_series, forecast, lm, tag",
    ):
        get_task("weather")
    path = tmp_path / "m.safetensors"
    save_model_file(
        path, {"w": torch.zeros(1)}, task="weather", model_config=ToyModelConfig(),
        tokenizer={}, vocab={}, labels=[], preprocessing={},
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"Unknown task 'weather'"):
        rnnlab.load(path)


def test_no_dispatch_on_task_names_outside_the_registry():
    """``if task == "tag"`` and friends appear nowhere in the package."""
    package = Path(rnnlab.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ('task == "', 'task != "', "task == '", '.task == "'):
            if needle in text:
                offenders.append(f"{path.relative_to(package)}: {needle}")
    assert not offenders, offenders


# Where a table keyed by task names or a test of a task's name would be dispatch outside the
# registry: the command line, the server and the inference engines.
DOOR_PACKAGES = ("cli", "serve", "deploy")
COMPARISONS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def _names_in(node: ast.AST, names: set[str]) -> set[str]:
    """The task names among the string constants of ``node`` (one, or a tuple/list/set)."""
    items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return {i.value for i in items if isinstance(i, ast.Constant) and i.value in names}


def _is_task_name(node: ast.AST) -> bool:
    """``task.name``, ``request.task.name``, ``predictor.task`` and the like."""
    if not isinstance(node, ast.Attribute):
        return False
    if node.attr == "task":
        return True
    return node.attr == "name" and "task" in ast.unparse(node.value).lower()


def task_dispatch(source: str, names: set[str]) -> list[str]:
    """Dispatch on task names in ``source``: dict literals (or ``dict(...)`` calls) keyed by
    a task name, and comparisons of a task's name (``task.name == …``, ``.name in (…)``,
    ``predictor.task != …``, or any ``.name`` / ``.task`` against a task name)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Dict):
            keyed = {n for key in node.keys if key is not None for n in _names_in(key, names)}
            if keyed:
                found.append(f"{where}: dict keyed by task names {sorted(keyed)}")
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "dict":
            keyed = {k.arg for k in node.keywords} & names
            if keyed:
                found.append(f"{where}: dict keyed by task names {sorted(keyed)}")
        elif isinstance(node, ast.Compare) and any(isinstance(o, COMPARISONS) for o in node.ops):
            sides = [node.left, *node.comparators]
            attributes = [s for s in sides if isinstance(s, ast.Attribute)]
            named = any(a.attr in ("name", "task") for a in attributes) and any(
                _names_in(s, names) for s in sides
            )
            if named or any(_is_task_name(a) for a in attributes):
                found.append(f"{where}: compares a task's name: {ast.unparse(node)}")
    return found


def test_no_table_or_comparison_keyed_by_task_names_in_cli_serve_deploy():
    """The doors (app, prediction writer, metrics printer, batch backends) come from the
    ``Task``: no dict keyed by task names, no ``task.name == …`` in these packages."""
    package = Path(rnnlab.__file__).parent
    names = set(base.task_names())
    offenders = [
        f"{path.relative_to(package)} {finding}"
        for folder in DOOR_PACKAGES
        for path in sorted((package / folder).rglob("*.py"))
        for finding in task_dispatch(path.read_text(encoding="utf-8"), names)
    ]
    assert not offenders, offenders


@pytest.mark.parametrize(
    "source",
    [
        'WRITERS = {"classify": write_table, "tag": write_tags}',
        "APPS: dict = dict(lm=lm_app)",
        'if task.name != "classify":\n    pass',
        'ok = request.task.name in ("tag", "lm")',
        "ok = predictor.task == name",
        'ok = model.name == "forecast"',
    ],
)
def test_the_dispatch_check_catches_what_it_looks_for(source):
    assert task_dispatch(source, {"classify", "tag", "lm", "forecast"})


def test_the_dispatch_check_lets_other_names_pass():
    source = 'ok = path.name == "model.safetensors"\nFORMATS = {"csv": 1, "classify_x": 2}'
    assert task_dispatch(source, {"classify", "tag"}) == []
