"""The optimizer choice and NT-ASGD: the trigger rule as AWD-LSTM states it, the averaged
weights being the mean of the iterates since the switch (what evaluation scores), and a
resume across the switch continuing the same run."""

from __future__ import annotations

import pytest
import torch

from rnnlab.config import TrainConfig
from rnnlab.errors import ConfigError
from rnnlab.train import Callback, Trainer
from rnnlab.train.checkpoint import load_checkpoint
from rnnlab.train.optim import build_optimizer, not_improving
from tests.train.digits import digits_config, digits_splits, make_model, without_timing


def test_the_trigger_compares_with_the_best_before_the_last_nonmono_epochs():
    assert not not_improving([3.0, 2.0, 2.5], nonmono=5, mode="min")  # too few epochs
    assert not_improving([3.0, 2.0, 2.1, 2.2], nonmono=2, mode="min")  # 2.2 > min(3, 2)
    assert not not_improving([3.0, 2.0, 2.5, 1.9], nonmono=2, mode="min")
    assert not_improving([0.5, 0.8, 0.7, 0.6], nonmono=2, mode="max")
    assert not not_improving([0.5, 0.8, 0.7, 0.9], nonmono=2, mode="max")


@pytest.mark.parametrize(
    ("name", "kind"),
    [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD),
     ("nt-asgd", torch.optim.SGD)],
)  # fmt: skip
def test_each_optimizer_name_builds_its_optimizer(name, kind):
    schedule = "none" if name == "nt-asgd" else "linear"
    optimizer = build_optimizer(make_model(), TrainConfig(optimizer=name, schedule=schedule))
    assert type(optimizer) is kind


def test_nt_asgd_needs_a_constant_rate():
    with pytest.raises(ConfigError, match=r"set train\.schedule = 'none'"):
        TrainConfig(optimizer="nt-asgd", schedule="linear")


class Iterates(Callback):
    """The model's parameters after every step of epochs ≥ ``start``."""

    def __init__(self, model: torch.nn.Module, start: int) -> None:
        self.model, self.start, self.seen = model, start, []

    def on_step_end(self, info) -> None:
        if info.epoch >= self.start:
            self.seen.append({k: v.detach().clone() for k, v in self.model.named_parameters()})


def _always_after_first_epoch(monkeypatch) -> None:
    monkeypatch.setattr(
        "rnnlab.train.trainer.not_improving", lambda scores, nonmono, mode: len(scores) >= 1
    )


def test_after_the_switch_evaluation_scores_the_mean_of_the_iterates(tmp_path, monkeypatch):
    _always_after_first_epoch(monkeypatch)
    train, valid, _ = digits_splits()
    model = make_model()
    iterates = Iterates(model, start=2)
    settings = digits_config(epochs=3, optimizer="nt-asgd", lr=0.05, monitor="loss",
                             monitor_mode="min")  # fmt: skip
    result = Trainer(settings, run_dir=tmp_path, callbacks=[iterates]).fit(model, train, valid)
    assert result.history[0].get("averaging_starts") == 1.0
    assert all("averaging_starts" not in r for r in result.history[1:])
    # PyTorch's ASGD (t0 = 0) averages from the second step after the switch on.
    seen = iterates.seen[1:]
    mean = {k: torch.stack([it[k] for it in seen]).mean(0) for k in seen[0]}
    last = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    # Training went on from the iterate; the average lives in ASGD's state as "ax".
    names = [name for name, _ in model.named_parameters()]
    averages = [last["optimizer"]["state"][i]["ax"] for i in range(len(names))]
    for name, average in zip(names, averages, strict=True):
        torch.testing.assert_close(average, mean[name], rtol=1e-4, atol=1e-5)
        assert not torch.allclose(last["model"][name], average)
    # The last epoch's validation loss is the averaged model's.
    scored = make_model()
    scored.load_state_dict({**last["model"], **dict(zip(names, averages, strict=True))})
    with torch.no_grad():
        metrics = scored.eval().evaluate(valid.batches(0))
    assert result.history[-1]["valid_loss"] == pytest.approx(metrics["loss"], rel=1e-4)


def test_a_resume_after_the_switch_continues_the_same_run(tmp_path, monkeypatch):
    _always_after_first_epoch(monkeypatch)
    train, valid, _ = digits_splits()
    settings = {"optimizer": "nt-asgd", "lr": 0.05, "monitor": "loss", "monitor_mode": "min"}
    straight = Trainer(digits_config(epochs=3, **settings)).fit(make_model(), train, valid)
    Trainer(digits_config(epochs=2, **settings), run_dir=tmp_path).fit(make_model(), train, valid)
    resumed = Trainer(digits_config(epochs=3, **settings), run_dir=tmp_path).fit(
        make_model(), train, valid, resume=True
    )
    assert without_timing(resumed.history) == without_timing(straight.history)
