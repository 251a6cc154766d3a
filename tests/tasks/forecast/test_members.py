"""The forecaster's members: checkpointed and resumed like every task's network (an interrupted
real run continues to the weights of an uninterrupted one, without training its finished
members again), and seeded so that runs with different seeds share no member."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

pytest.importorskip("statsforecast", reason="forecast runs score statsforecast's baselines")
pytest.importorskip("sktime", reason="airline ships inside sktime")

import rnnlab.tasks.forecast.fitting as fitting
from rnnlab.data.series import load_series
from rnnlab.runs import MODEL_FILE, load_model_file
from rnnlab.tasks.forecast.backtest import run_backtest
from rnnlab.tasks.forecast.config import ForecastRunConfig
from rnnlab.tasks.forecast.fitting import MemberCheckpoints, fit_forecaster, member_seed
from rnnlab.tasks.forecast.workflow import train_forecast
from rnnlab.threads import torch_threads

# Two fits (the model is refitted before the second window), two members each, 3 epochs of 4
# batches: 12 batches a member, 48 in all; mid-epoch checkpoints every 3 steps.
RESUMED = {
    "data.data": "airline", "data.horizon": 12, "data.windows": 2, "data.refit": True,
    "data.steps_per_epoch": 4, "model.ensemble": 2, "model.hidden_size": 4,
    "model.combine": "none", "train.epochs": 3, "train.checkpoint_every": 3,
    "train.device": "cpu",
}  # fmt: skip
PER_MEMBER = 12


class _Counted:
    """Counts the training batches drawn; raises KeyboardInterrupt at batch ``stop``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, stop: int | None = None) -> None:
        self.drawn, self.stop = 0, stop
        original = fitting.WindowSampler.batches

        def batches(sampler, epoch):
            for batch in original(sampler, epoch):
                self.drawn += 1
                if self.drawn == self.stop:
                    raise KeyboardInterrupt
                yield batch

        monkeypatch.setattr(fitting.WindowSampler, "batches", batches)


def _train(config: ForecastRunConfig, out: Path, **options) -> None:
    with torch_threads(1):
        train_forecast(config, out, **options)


def test_an_interrupted_run_resumes_to_the_uninterrupted_model(tmp_path, monkeypatch):
    config = ForecastRunConfig().merge(RESUMED)
    whole = tmp_path / "whole"
    counted = _Counted(monkeypatch)
    _train(config, whole)
    assert counted.drawn == 4 * PER_MEMBER

    # killed in the second fit's first member after 7 of its steps: the first fit's two
    # members are finished, the third continues from its step-6 checkpoint (mid-epoch 2)
    cut = tmp_path / "cut"
    stop = 2 * PER_MEMBER + 8
    counted = _Counted(monkeypatch, stop)
    with pytest.raises(KeyboardInterrupt):
        _train(config, cut)
    checkpoints = cut / "checkpoints"
    assert sorted(p.name for p in (checkpoints / "members").iterdir()) == [
        "window-0-member-0.pt", "window-0-member-1.pt",
    ]  # fmt: skip
    assert (checkpoints / "last.pt").is_file() and (checkpoints / "best.pt").is_file()
    assert json.loads((checkpoints / "member.json").read_text())["name"] == "window-1-member-0"
    assert not (cut / MODEL_FILE).exists()

    counted = _Counted(monkeypatch)
    _train(config, cut, resume=True)
    # the finished members are read back, not trained: only the rest of the third member
    # (from its checkpoint) and the fourth draw batches
    assert PER_MEMBER < counted.drawn <= 2 * PER_MEMBER

    expected, _ = load_model_file(whole / MODEL_FILE)
    found, _ = load_model_file(cut / MODEL_FILE)
    assert expected.keys() == found.keys()
    for name, tensor in expected.items():
        assert torch.equal(found[name], tensor), name
    metrics = [json.loads((run / "metrics.json").read_text()) for run in (whole, cut)]
    for m in metrics:
        m.pop("train_seconds")
    assert metrics[0] == metrics[1]
    assert 1 <= metrics[1]["best_epoch"] <= 3
    history = [json.loads(line) for line in (cut / "history.jsonl").read_text().splitlines()]
    losses = [record["train_loss"] for record in history]
    assert len(history) == 3 and metrics[1]["best_epoch"] == 1 + losses.index(min(losses))


def test_a_fresh_run_forgets_the_members_of_the_run_it_replaces(tmp_path, monkeypatch):
    config = ForecastRunConfig().merge({**RESUMED, "data.windows": 1, "model.ensemble": 2})
    found = load_series("airline")

    def backtest(resume: bool) -> None:
        with torch_threads(1):
            run_backtest(config, found, baselines=[],
                         checkpoints=MemberCheckpoints.open(tmp_path, resume))  # fmt: skip

    backtest(resume=False)
    members = tmp_path / "checkpoints" / "members"
    assert len(list(members.iterdir())) == 2
    _Counted(monkeypatch, stop=PER_MEMBER // 2)
    with pytest.raises(KeyboardInterrupt):
        backtest(resume=False)  # a new run, stopped in its first member
    assert not list(members.iterdir())
    counted = _Counted(monkeypatch)
    backtest(resume=True)  # the first member goes on, the second trains: none is read back
    assert PER_MEMBER < counted.drawn <= 2 * PER_MEMBER
    assert len(list(members.iterdir())) == 2


def test_member_seeds_of_different_run_seeds_are_disjoint():
    assert [member_seed(0, 5, k) for k in range(5)] == [0, 1, 2, 3, 4]  # seed 0 as before
    drawn = [{member_seed(seed, 5, k) for k in range(5)} for seed in range(20)]
    assert len(set().union(*drawn)) == 100
    assert all(0 <= member_seed(2**32 - 1, 8, k) < 2**32 for k in range(8))


def test_two_seeds_train_entirely_different_members():
    series = load_series("airline").series[0]
    tiny = {"model.ensemble": 3, "model.hidden_size": 4, "model.combine": "none",
            "train.epochs": 1, "data.steps_per_epoch": 3}  # fmt: skip

    def members(seed: int, ensemble: int = 3) -> list[dict[str, torch.Tensor]]:
        config = ForecastRunConfig().merge({**tiny, "train.seed": seed, "model.ensemble": ensemble})
        with torch_threads(1):
            fitted = fit_forecaster([series], {series.uid: 120}, config, season=12,
                                    lookback=24, horizon=12)  # fmt: skip
        return [{n: p.detach().clone() for n, p in m.named_parameters()} for m in fitted.members]

    first, second = members(0), members(1)
    for a in first:
        for b in second:
            assert not any(torch.equal(a[name], b[name]) for name in a)
    # member k of a run seeded s trains as a one-member run seeded s·E + k
    alone = members(4, ensemble=1)[0]  # seed 4 = 1·3 + 1
    assert all(torch.equal(second[1][name], alone[name]) for name in alone)


def test_seeds_runs_hold_ensembles_with_no_member_in_common(tmp_path):
    from rnnlab.tasks.repeats import FORECAST_SCORES, train_seeds

    config = ForecastRunConfig().merge(
        {**RESUMED, "data.windows": 1, "train.epochs": 1, "model.ensemble": 3}
    )
    with torch_threads(1):
        summary = train_seeds(config, tmp_path, 2, train=train_forecast, scores=FORECAST_SCORES)
    assert summary.scores["mase"]["sd"] > 0
    runs = [load_model_file(tmp_path / f"seed-{s}" / MODEL_FILE)[0] for s in (0, 1)]
    members = [
        [{n[len(f"member{k}.") :]: t for n, t in run.items() if n.startswith(f"member{k}.")}
         for k in range(3)]
        for run in runs
    ]  # fmt: skip
    for a in members[0]:
        for b in members[1]:
            assert not any(torch.equal(a[n], b[n]) for n in a if n != "levels")
