"""The ways into rnnlab a user trips on first: ``rnnlab --version``, ``python -m rnnlab``, the
top-level ``--help``, the names predictors share, and a Ray job's stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import click
import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app, installed_version

RNNLAB = Path(sys.executable).parent / "rnnlab"
ROOT = Path(__file__).resolve().parents[2]


def run(*command: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """A command as a user runs it, on one CPU thread, output piped."""
    env = {k: v for k, v in os.environ.items() if k != "RNNLAB_DEBUG"}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", COLUMNS="80")
    return subprocess.run(
        [str(part) for part in command], env=env, capture_output=True, text=True,
        timeout=timeout, cwd=ROOT,
    )  # fmt: skip


# ---------------------------------------------------------------- --version and python -m


def test_version_prints_the_installed_version_and_exits_0():
    result = run(RNNLAB, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"rnnlab {metadata.version('rnnlab')}\n"
    assert result.stderr == ""


def test_python_m_rnnlab_is_the_rnnlab_command():
    """What torchrun's ``-m rnnlab train …`` (DESIGN.md, CHANGELOG) starts on each rank."""
    version = run(sys.executable, "-m", "rnnlab", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"rnnlab {metadata.version('rnnlab')}\n"
    usage = run(sys.executable, "-m", "rnnlab", "train", "--help")
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith("Usage: rnnlab train ")


def test_package_version_matches_the_installed_distribution():
    """``rnnlab.__version__`` is the fallback of ``--version`` (an uninstalled source tree)."""
    assert rnnlab.__version__ == metadata.version("rnnlab")


def test_version_falls_back_to_the_package_version_when_not_installed(monkeypatch):
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert installed_version() == rnnlab.__version__


# ---------------------------------------------------------------- --help


def commands(group: click.Group) -> dict[str, click.Command]:
    """The commands registered on ``group``, by the name a user types."""
    context = click.Context(group)
    return {name: group.get_command(context, name) for name in group.list_commands(context)}


def test_top_level_help_says_what_the_tool_does_and_names_every_command():
    result = CliRunner().invoke(app, ["--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    description = result.output.split("Options:")[0]
    for words in ("text", "time series", "classify", "tag", "language models", "forecast"):
        assert words in description, (words, description)
    registered = commands(typer.main.get_command(app))
    assert {"train", "evaluate", "predict", "explain", "generate", "score", "embed",
            "export", "serve"} <= set(registered)  # fmt: skip
    listed = result.output.split("Commands:")[1]
    for name in registered:
        assert re.search(rf"^  {re.escape(name)}\s", listed, re.MULTILINE), (name, listed)


def test_every_group_s_help_names_its_commands():
    for group_name, group in commands(typer.main.get_command(app)).items():
        if not isinstance(group, click.Group):
            continue
        result = CliRunner().invoke(app, [group_name, "--help"], terminal_width=80)
        assert result.exit_code == 0, result.output
        for name in commands(group):
            assert re.search(rf"^  {re.escape(name)}\s", result.output, re.MULTILINE), (
                group_name, name, result.output,
            )  # fmt: skip


# ---------------------------------------------------------------- predictors' shared names


def test_series_predictor_predict_proba_and_its_deprecated_alias():
    from rnnlab.tasks.classify_series.config import SeriesClassifyModelConfig
    from rnnlab.tasks.classify_series.model import SeriesClassifier
    from rnnlab.tasks.classify_series.predictor import SeriesPredictor

    torch.manual_seed(0)
    model = SeriesClassifier(3, SeriesClassifyModelConfig(hidden_size=8))
    predictor = SeriesPredictor(model, ["a", "b", "c"], 12, normalise=True)
    rows = np.random.default_rng(0).normal(size=(5, 12))
    probs = predictor.predict_proba(rows, batch_size=2)
    assert probs.shape == (5, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert predictor.predict(rows) == [predictor.labels[k] for k in probs.argmax(axis=1)]
    with pytest.warns(DeprecationWarning, match="call predict_proba"):
        old = predictor.probabilities(rows, batch_size=2)
    np.testing.assert_array_equal(old, probs)


def test_lm_predict_continues_each_prompt_greedily_for_max_new_tokens():
    from rnnlab.tasks.lm.config import LMModelConfig
    from rnnlab.tasks.lm.data import EOS
    from rnnlab.tasks.lm.model import RecurrentLM
    from rnnlab.tasks.lm.predictor import LMPredictor
    from rnnlab.text.vocab import Vocab

    vocab = Vocab.build([["a", "b", "c", "d", EOS]], min_count=1)
    torch.manual_seed(0)
    config = LMModelConfig(embedding_dim=8, hidden_size=8, num_layers=1)
    model = RecurrentLM(len(vocab), config).eval()
    with torch.no_grad():  # never <eos>: every continuation runs to its length
        model.decoder.bias[vocab.token_to_id(EOS)] = -1e4
    lm = LMPredictor(model, vocab, {"name": "whitespace"}, "word")
    prompts = ["a b", "c"]
    short = lm.predict(prompts, max_new_tokens=3)
    assert short == [lm.generate(p, 3, temperature=0.0)[0] for p in prompts]
    assert [len(text.split()) for text in short] == [3, 3]
    assert [len(text.split()) for text in lm.predict(prompts)] == [20, 20]  # the default
    assert lm.predict("a b", max_new_tokens=3) == short[:1]


# ---------------------------------------------------------------- a Ray job's stderr

# An error- or fatal-level line of Ray's C++ core: "[2026-12-07 19:17:35,961 E 1234 1234]
# core_worker.cc:…" (its text format), glog's "E1207 …", or its JSON format's "levelname";
# Ray's Python loggers: "2026-12-07 19:21:31,271\tERROR worker.py:… -- …".
RAY_ERROR = re.compile(
    r"^\[[^\]]* [EF] \d+ \d+\]|^[EF]\d{4} |\] E |\"levelname\": ?\"(E|F|ERROR|FATAL)\""
    r"|^\S+ \S+\t(ERROR|CRITICAL) "
)


def test_known_benign_ray_error_is_kept_from_stderr_and_nothing_else_is():
    """Lines written to file descriptor 2 (as Ray's C++ core writes) and through
    ``sys.stderr`` pass in order; the one known-benign Ray message does not."""
    script = textwrap.dedent(
        """
        import os, sys
        from rnnlab.deploy.ray_predict import _without_benign_ray_errors
        print("before", file=sys.stderr, flush=True)
        with _without_benign_ray_errors():
            os.write(2, b"[t E 1 1] core_worker.cc:1: Actor with class name: 'MapWorker' has "
                        b"constructor arguments in the object store and max_restarts > 0. x\\n")
            os.write(2, b"[t E 1 1] core_worker.cc:2: a real error\\n")
            print("python", file=sys.stderr)
            os.write(2, b"no newline at the end")
        print("", file=sys.stderr)
        print("after", file=sys.stderr)
        """
    )
    result = run(sys.executable, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "before",
        "[t E 1 1] core_worker.cc:2: a real error",
        "python",
        "no newline at the end",
        "after",
    ]


def test_ray_predict_prints_no_error_line_from_ray(tmp_path, rotten_tomatoes):
    """``rnnlab predict --backend ray`` as a user runs it (a local cluster of its own)."""
    pytest.importorskip("ray", reason="--backend ray needs rnnlab[ray]")
    pd = pytest.importorskip("pandas")
    from tests.tiny_run import train_tiny_run

    model = train_tiny_run(tmp_path / "run", rotten_tomatoes, n=300)
    texts = rotten_tomatoes.train.texts[500:700]
    frame = pd.DataFrame({"id": [f"d{i}" for i in range(len(texts))], "text": texts})
    frame.to_csv(tmp_path / "in.csv", index=False)
    result = run(
        RNNLAB, "predict", model, "--data", tmp_path / "in.csv", "--out", tmp_path / "out",
        "--backend", "ray", "--workers", "2", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(texts)} predictions" in result.stderr
    errors = [line for line in result.stderr.splitlines() if RAY_ERROR.search(line)]
    assert errors == [], result.stderr
    assert "Traceback" not in result.stderr
