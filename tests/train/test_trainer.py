"""The Trainer on a real task (scikit-learn digits read row by row by a GRU)."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook

from rnnlab.errors import ConfigError, ValueRangeError
from rnnlab.train import EVENTS, Callback, Trainer, resolve_device
from rnnlab.train.optim import lr_factor
from tests.train.digits import DigitsGRU, digits_config, digits_splits, make_model, without_timing

config = digits_config


class Recorder(Callback):
    """Keeps every event with its argument."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def on_fit_start(self, info):
        self.events.append(("on_fit_start", info))

    def on_epoch_start(self, epoch, num_batches):
        self.events.append(("on_epoch_start", (epoch, num_batches)))

    def on_step_end(self, info):
        self.events.append(("on_step_end", info))

    def on_epoch_end(self, record):
        self.events.append(("on_epoch_end", record))

    def on_fit_end(self, result):
        self.events.append(("on_fit_end", result))

    def steps(self):
        return [info for name, info in self.events if name == "on_step_end"]


@pytest.fixture(scope="module")
def digits():
    return digits_splits()


def test_learns_digits_beats_majority_and_restores_best(digits, tmp_path):
    train, valid, majority = digits
    model = make_model()
    result = Trainer(config(epochs=5), run_dir=tmp_path).fit(model, train, valid)
    losses = [r["train_loss"] for r in result.history]
    assert losses == sorted(losses, reverse=True) and losses[-1] < 0.3 * losses[0]
    assert result.best_metrics["accuracy"] > majority + 0.6  # majority ≈ 0.12
    assert result.best_metrics["accuracy"] == max(r["valid_accuracy"] for r in result.history)
    assert (
        result.history[result.best_epoch - 1]["valid_accuracy"] == result.best_metrics["accuracy"]
    )
    # The model ends with the best epoch's weights.
    model.eval()
    with torch.no_grad():
        assert model.evaluate(valid.batches(0)) == result.best_metrics
    lines = (tmp_path / "history.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == result.history
    assert set(result.history[0]) == {
        "epoch", "train_loss", "valid_loss", "valid_accuracy", "lr", "seconds", "tokens_per_s"
    }  # fmt: skip
    assert result.history[0]["tokens_per_s"] > 0 and not result.stopped_early


def test_same_seed_same_history_other_seed_differs(digits):
    train, valid, _ = digits
    runs = [
        Trainer(config(epochs=2, seed=seed)).fit(make_model(), train, valid) for seed in (7, 7, 8)
    ]
    assert without_timing(runs[0].history) == without_timing(runs[1].history)
    assert runs[0].history[0]["train_loss"] != runs[2].history[0]["train_loss"]


def test_early_stopping_when_the_metric_stalls(digits):
    train, valid, _ = digits
    model = make_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = Trainer(config(epochs=10, lr=0.0, patience=2)).fit(model, train, valid)
    assert result.stopped_early and len(result.history) == 3 and result.best_epoch == 1
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    # Without patience the same stalled run goes on to the last epoch.
    result = Trainer(config(epochs=4, lr=0.0, patience=0)).fit(make_model(), train, valid)
    assert not result.stopped_early and len(result.history) == 4


class SteppedAccuracyGRU(DigitsGRU):
    """The digits model with its accuracy rounded down to steps of 0.5: a metric that stays
    put for epochs while the model improves, as accuracy on a small validation set does."""

    def evaluate(self, batches):
        metrics = super().evaluate(batches)
        return {**metrics, "accuracy": math.floor(metrics["accuracy"] * 2) / 2}


def test_a_tied_score_with_lower_validation_loss_counts_as_better(digits):
    train, valid, _ = digits
    torch.manual_seed(0)
    model = SteppedAccuracyGRU()
    result = Trainer(config(epochs=6, patience=2)).fit(model, train, valid)
    accuracy = [r["valid_accuracy"] for r in result.history]
    losses = [r["valid_loss"] for r in result.history]
    top = max(accuracy)
    first = accuracy.index(top)
    # The steps hide the progress: comparing accuracy alone would stop `patience` epochs
    # after the first epoch at the top step ...
    assert top == 0.5 and len(result.history) > first + 1 + 2
    # ... the loss breaks the ties: the tied epoch of lowest loss is the best, its weights kept.
    tied = [epoch for epoch, score in enumerate(accuracy) if score == top]
    assert result.best_epoch == min(tied, key=losses.__getitem__) + 1
    assert result.best_metrics["loss"] == min(losses[epoch] for epoch in tied)
    model.eval()
    with torch.no_grad():
        assert model.evaluate(valid.batches(0)) == result.best_metrics
    # A tie on the same loss is no progress: the stalled run still stops after patience.
    stalled = Trainer(config(epochs=10, lr=0.0, patience=2)).fit(SteppedAccuracyGRU(), train, valid)
    assert stalled.stopped_early and len(stalled.history) == 3


def test_gradient_clipping_caps_the_norm(digits):
    train, valid, _ = digits
    applied: list[float] = []

    def measure(optimizer, args, kwargs):  # runs inside optimizer.step(), after clipping
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        applied.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))

    handle = register_optimizer_step_pre_hook(measure)
    try:
        for clip in (0.05, 0.0):
            applied.clear()
            recorder = Recorder()
            Trainer(config(epochs=1, clip_norm=clip), callbacks=[recorder]).fit(
                make_model(), train, valid
            )
            before = [info.grad_norm for info in recorder.steps()]
            assert len(before) == len(applied) == train.num_batches(0)
            if clip:
                assert sum(b > clip for b in before) > len(before) // 2
                for pre, post in zip(before, applied, strict=True):
                    assert post <= clip * (1 + 1e-5)
                    assert post == pytest.approx(min(pre, clip), rel=1e-4)
            else:  # 0 = off: the recorded norm is the applied one
                assert applied == pytest.approx(before, rel=1e-5)
    finally:
        handle.remove()


def test_checkpoints_load_with_weights_only(digits, tmp_path):
    train, valid, _ = digits
    seen: dict[str, dict] = {}

    class Peek(Callback):
        def on_step_end(self, info):
            if info.global_step == 10:  # right after the first mid-epoch checkpoint
                path = tmp_path / "checkpoints" / "last.pt"
                seen["mid"] = torch.load(path, weights_only=True)

    result = Trainer(config(epochs=2, checkpoint_every=10), tmp_path, [Peek()]).fit(
        make_model(), train, valid
    )
    state = seen["mid"]["state"]
    assert (state["epoch"], state["batch"], state["step"]) == (0, 10, 10)
    last = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert {"model", "optimizer", "scheduler", "state", "config", "rng"} <= set(last)
    assert last["state"]["epoch"] == 2 and last["state"]["history"] == result.history
    best = torch.load(tmp_path / "checkpoints" / "best.pt", weights_only=True)
    assert best["epoch"] == result.best_epoch and best["metrics"] == result.best_metrics
    fresh = make_model(seed=99)
    fresh.load_state_dict(best["model"])
    fresh.eval()
    with torch.no_grad():
        assert fresh.evaluate(valid.batches(0)) == result.best_metrics


def test_without_validation_follows_training_loss(digits):
    train, _, _ = digits
    result = Trainer(config(epochs=2)).fit(make_model(), train)
    assert result.monitor == "train_loss"
    assert result.best_metrics == {"train_loss": result.history[-1]["train_loss"]}
    assert not any(k.startswith("valid_") for k in result.history[0])


def test_misnamed_monitor_fails_before_training(digits):
    train, valid, _ = digits
    recorder = Recorder()
    trainer = Trainer(config(monitor="f1"), callbacks=[recorder])
    with pytest.raises(
        ConfigError,
        match=r"'train.monitor' is 'f1' but DigitsGRU.evaluate\(\) "
        r"returns \['accuracy', 'loss'\]; set train.monitor to one of them",
    ):
        trainer.fit(make_model(), train, valid)
    assert recorder.events == []


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_schedule_warms_up_then_decays(digits, schedule):
    train, _, _ = digits
    recorder = Recorder()
    cfg = config(epochs=2, schedule=schedule, warmup_steps=10)
    Trainer(cfg, callbacks=[recorder]).fit(make_model(), train)
    lrs = [info.lr for info in recorder.steps()]
    assert lrs[:10] == pytest.approx([cfg.lr * (s + 1) / 10 for s in range(10)])
    assert lrs[10] == pytest.approx(cfg.lr)
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:]))
    assert lrs[-1] < 0.05 * cfg.lr


def test_lr_factor_formulas():
    linear, cosine = lr_factor("linear", 0, 100), lr_factor("cosine", 0, 100)
    assert linear(50) == pytest.approx(0.5) and cosine(50) == pytest.approx(0.5)
    assert cosine(25) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    assert lr_factor("none", 4, 100)(1) == 0.5 and lr_factor("none", 4, 100)(50) == 1.0


def test_events_arrive_in_order(digits):
    train, valid, _ = digits
    recorder = Recorder()
    Trainer(config(epochs=2), callbacks=[recorder]).fit(make_model(), train, valid)
    names = [name for name, _ in recorder.events]
    n = train.num_batches(0)
    epoch = ["on_epoch_start"] + ["on_step_end"] * n + ["on_epoch_end"]
    assert names == ["on_fit_start", *epoch, *epoch, "on_fit_end"]
    steps = recorder.steps()
    assert [s.global_step for s in steps] == list(range(1, 2 * n + 1))
    assert steps[n - 1].batch == n and steps[n].epoch == 2 and steps[n].batch == 1
    assert steps[-1].num_tokens == 8 * (1437 - 32 * (n - 1))  # the last, smaller batch
    assert set(EVENTS) == set(names)


def test_unknown_callback_event_is_an_error():
    with pytest.raises(
        ConfigError,
        match=r"Callback Typo defines on_epoch_ends\(\), which is "
        r"not a trainer event; did you mean on_epoch_end\?",
    ):

        class Typo(Callback):
            def on_epoch_ends(self, record):
                pass

    class Duck:  # not a Callback subclass: checked by the Trainer
        def on_batch_end(self, info):
            pass

    with pytest.raises(ConfigError, match=r"Callback Duck defines on_batch_end\(\)"):
        Trainer(config(), callbacks=[Duck()])


def test_non_finite_loss_stops_with_a_clear_error(digits):
    train, _, _ = digits

    class Diverging(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(1))

        def training_step(self, batch):
            return self.w * float("nan")

        def evaluate(self, batches):
            return {}

    with pytest.raises(ValueRangeError, match=r"training loss became nan; lower train.lr"):
        Trainer(config()).fit(Diverging(), train)


def test_bad_arguments_and_threads_restored(digits):
    train, _, _ = digits
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module with training_step"):
        Trainer(config()).fit(nn.Linear(2, 2), train)
    with pytest.raises(TypeError, match=r"valid must have batches\(epoch\)"):
        Trainer(config()).fit(make_model(), train, valid=[1, 2])
    with pytest.raises(ConfigError, match=r"resume=True\) needs a run_dir"):
        Trainer(config()).fit(make_model(), train, resume=True)
    threads = torch.get_num_threads()
    Trainer(config(epochs=1, num_threads=1)).fit(make_model(), train)
    assert torch.get_num_threads() == threads


def test_device_selection():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match=r"'train.device' is 'cuda:1' but CUDA is not"):
            resolve_device("cuda:1")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trains_on_cuda(digits):
    train, valid, majority = digits
    model = make_model()
    result = Trainer(config(epochs=3, device="auto")).fit(model, train, valid)
    assert next(model.parameters()).is_cuda
    assert result.best_metrics["accuracy"] > majority + 0.6
