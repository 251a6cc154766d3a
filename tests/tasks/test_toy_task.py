"""A task registered from the test suite opens its own doors: ``rnnlab train toy`` is written
from its config, ``rnnlab predict`` writes with its ``write_predictions``, ``rnnlab evaluate``
shows its metrics with its ``print_metrics``, ``rnnlab serve`` answers on its app's one
endpoint over a real socket, ``rnnlab export`` and ``rnnlab.serve.app_for`` refuse it in one
sentence where it names no graph or no app — all with no edit to ``rnnlab.cli`` or
``rnnlab.serve``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.deploy.engines import load
from rnnlab.errors import ConfigError
from rnnlab.tasks import base
from rnnlab.tasks.base import Task, get_task, register_task
from tests.tasks.test_registry import EchoPredictor, ToyRunConfig, evaluate_echo, train_echo


def write_shouting(request) -> None:
    """The toy's writer: the words of ``--data``, ``WORD => PREDICTION`` lines to ``--out``."""
    predictor = load(request.run, engine=request.engine)
    inputs = Path(request.data).read_text(encoding="utf-8").split()
    outputs = predictor.predict(inputs)
    request.out.write_text(
        "".join(f"{x.upper()} => {y}\n" for x, y in zip(inputs, outputs, strict=True)),
        encoding="utf-8",
    )


def print_toy_metrics(metrics, title, console) -> None:
    console.print(f"toy scoreboard ({title}): {metrics['accuracy']:.0%} right")


def create_toy_app(predictor, *, run=None, engine="torch", config=None):
    """The toy's HTTP door: the shared base (/health, /model, limits, API key) and POST
    /echo."""
    from rnnlab.serve.app import task_app

    app, _, _ = task_app(
        predictor, predictor.predict, run=run, engine=engine, config=config,
        description="echo", example='send {"words": [...]}', limits=(), batched=False,
    )  # fmt: skip

    @app.post("/echo")
    async def echo(body: dict) -> dict:
        return {"echoes": predictor.predict(body["words"])}

    return app


@pytest.fixture
def toy_task(tmp_path):
    task = register_task(
        Task(
            name="toy",
            title="toy echo model",
            config_type=ToyRunConfig,
            predictor_type=EchoPredictor,
            train=train_echo,
            evaluate=evaluate_echo,
            endpoints=("predict",),  # claims endpoints, but names no app
            write_predictions=write_shouting,
            print_metrics="tests.tasks.test_toy_task:print_toy_metrics",
        )
    )
    run = tmp_path / "toy-run"
    task.train(ToyRunConfig().merge({"model.suffix": "!"}), run)
    yield run
    base._REGISTRY.pop("toy", None)


def test_predict_and_evaluate_use_the_doors_the_task_names(toy_task, tmp_path):
    runner = CliRunner()
    out, words = tmp_path / "out.txt", tmp_path / "words.txt"
    words.write_text("x y\n", encoding="utf-8")
    result = runner.invoke(app, ["predict", str(toy_task), "--data", str(words), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "X => b!\nY => b!\n"
    gold = tmp_path / "gold.txt"
    gold.write_text("b a b b\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(toy_task), "--data", str(gold)])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())  # the console may wrap the long title
    assert "toy scoreboard (metrics on" in shown and "75% right" in shown, shown


def test_train_toy_is_written_from_its_config(toy_task, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0 and "toy" in result.stdout
    result = runner.invoke(app, ["train", "toy", "--help"], terminal_width=200)
    assert result.exit_code == 0 and "--suffix" in result.stdout and "--epochs" in result.stdout
    run = tmp_path / "trained"
    result = runner.invoke(app, ["train", "toy", "--suffix", "?", "--out", str(run)])
    assert result.exit_code == 0, result.output
    assert EchoPredictor.from_file(run).predict(["x"]) == ["b?"]
    assert 'suffix = "?"' in (run / "config.toml").read_text(encoding="utf-8")
    assert f"run directory: {run}" in " ".join(result.stdout.split())


def test_serve_and_export_open_the_toy_doors(toy_task, monkeypatch):
    pytest.importorskip("fastapi", reason="the server needs fastapi and uvicorn")
    import rnnlab.serve
    from rnnlab.serve import running_server
    from tests.serve.test_lm import post

    answers = []

    def serve_once(app_, host="127.0.0.1", port=8000, log_level="info"):
        with running_server(app_) as base:  # a real socket, then stop: the test goes on
            answers.append(post(f"{base}/echo", {"words": ["x", "y"]}))

    monkeypatch.setattr(rnnlab.serve, "serve", serve_once)
    served = dataclasses.replace(get_task("toy"), app=create_toy_app)
    register_task(served)
    result = CliRunner().invoke(app, ["serve", str(toy_task)])
    assert result.exit_code == 0, result.output
    assert answers == [(200, {"echoes": ["b!", "b!"]})]
    result = CliRunner().invoke(app, ["export", str(toy_task), "--onnx", "x.onnx"])
    assert result.exit_code == 2
    assert "a 'toy' model has no exportable graph" in result.stderr
    assert "Traceback" not in result.output


def test_a_task_without_an_app_is_refused_in_one_sentence(toy_task):
    from rnnlab.serve import app_for

    with pytest.raises(ConfigError) as caught:
        app_for(EchoPredictor.from_file(toy_task), run=toy_task)
    assert str(caught.value) == (
        f"rnnlab serve {toy_task}: a toy echo model run has no HTTP service; label its "
        "inputs with rnnlab predict instead."
    )


def test_a_door_naming_no_function_is_one_sentence(toy_task):
    task = dataclasses.replace(get_task("toy"), print_metrics="tests.tasks.test_toy_task:nope")
    with pytest.raises(ConfigError, match=r"^The 'toy' task's print_metrics is 'tests\.tasks"):
        task.door("print_metrics")
    assert task.door("app") is None and task.door("write_predictions") is write_shouting


def test_the_builtin_tasks_name_their_doors():
    expected = {
        "classify": ("create_app", "predict_table", "print_classification"),
        "classify_series": ("create_series_app", None, None),
        "forecast": ("create_forecast_app", "predict_forecast", "print_forecast"),
        "lm": ("create_lm_app", None, None),
        "tag": (None, "predict_tags", "print_tagging"),
    }
    for name, doors in expected.items():
        task = get_task(name)
        found = tuple(
            getattr(task.door(door), "__name__", None)
            for door in ("app", "write_predictions", "print_metrics")
        )
        assert found == doors, name
    assert [n for n in expected if "ray" in get_task(n).predict_backends] == ["classify"]
