"""Fitting an ensemble of recurrent forecasters on the training parts, and forecasting from
any origin with it.

One global model is trained on the windows of every series (their values scaled, so series
of different sizes share it); ``model.ensemble`` members differ only in their seed and the
forecast is their median, quantile by quantile — a single fit on a series of a hundred points
is noisy, and the median of a few is the standard remedy (N-BEATS, Oreshkin et al. 2020,
ensembles 180). Only data before each series' training end is read when fitting.

**Member seeds.** Member k of a run with ``train.seed = s`` and E members trains with seed
s·E + k (:func:`member_seed`), so the ensembles of runs with different seeds (``--seeds N``
trains s, s + 1, …) share no member and their spread comes from independent members; run
seed 0 keeps seeds 0 … E − 1.

**Checkpoints and resume** (:class:`MemberCheckpoints`). A run trains several networks one
after another: the members of the combination's validation fit (``validation``) and of the
fit before each backtest origin (``window-0``, and ``window-k`` with ``data.refit``). The
one in training is checkpointed by the shared Trainer as in every task —
``RUN/checkpoints/last.pt`` every ``train.checkpoint_every`` steps and at each epoch end,
``best.pt`` at each improvement, ``RUN/history.jsonl`` — and ``checkpoints/member.json``
names the member those files belong to. A member that finishes is kept in
``checkpoints/members/<fit>-member-<k>.pt`` (its weights, history and best epoch). With
``--resume`` the finished members are read back instead of trained again, the member named
in ``member.json`` continues from ``last.pt``, and the others train from the start: the run
ends with the weights an uninterrupted run has.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.config import TrainConfig
from rnnlab.data.series import Series
from rnnlab.errors import DataError
from rnnlab.fileio import atomic_write_json, make_dir
from rnnlab.tasks.forecast.config import ForecastRunConfig
from rnnlab.tasks.forecast.data import (
    Layout,
    Preparation,
    WindowSampler,
    fit_preparation,
    window_arrays,
    window_batch,
)
from rnnlab.tasks.forecast.model import RecurrentForecaster
from rnnlab.train import Trainer, seed_everything
from rnnlab.train.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint

__all__ = [
    "FittedForecaster",
    "MemberCheckpoints",
    "fit_forecaster",
    "layout_of",
    "member_seed",
]

# Beside the Trainer's last.pt / best.pt: which member they belong to, and the finished ones.
CURRENT_MEMBER = "checkpoints/member.json"
FINISHED_MEMBERS = "checkpoints/members"
# Train keys that change no number a member ends with (those the Trainer lets a resume change).
_NEUTRAL_KEYS = frozenset({"device", "num_threads", "checkpoint_every"})
# Member seeds stay below 2**32, the range NumPy's global generator is seeded with.
_SEED_RANGE = 2**32


def config_digest(config: ForecastRunConfig) -> str:
    """A digest of the settings that shape a member (every key but the train keys that
    change no number: device, threads, checkpoint interval), kept with its checkpoints so
    that a member saved under other settings is never read back."""
    settings = config.to_dict()
    settings["train"] = {k: v for k, v in settings["train"].items() if k not in _NEUTRAL_KEYS}
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def member_seed(run_seed: int, ensemble: int, k: int) -> int:
    """The seed of member ``k`` of an ensemble of ``ensemble`` members in a run seeded
    ``run_seed``: run_seed·ensemble + k (below 2**32), so runs with different seeds draw
    disjoint member seeds (module docstring)."""
    return (run_seed * ensemble + k) % _SEED_RANGE


def layout_of(config: ForecastRunConfig, season: int) -> Layout:
    """The features of the run's windows."""
    data = config.data
    return Layout(
        tuple(data.past_covariates),
        tuple(data.future_covariates),
        season if data.calendar and season > 1 else 0,
    )


@dataclass
class FittedForecaster:
    """The trained members and everything that turns a series into their inputs and back;
    ``combiner`` is the fitted combination with the statistical models
    (:class:`~rnnlab.tasks.forecast.combine.Combiner`), None for the recurrent model alone."""

    members: list[RecurrentForecaster]
    preparations: dict[str, Preparation]
    layout: Layout
    lookback: int
    horizon: int
    season: int
    config: ForecastRunConfig
    histories: list[list[dict[str, float]]]
    combiner: Any = None
    # Each member's best epoch (counting from 1), as its history; empty for a loaded model.
    best_epochs: list[int] = field(default_factory=list)

    @property
    def levels(self) -> list[float]:
        return self.config.model.levels

    def preparation(self, series: Series, origin: int) -> Preparation:
        """What was fitted on ``series`` in training; for a series the model has not seen,
        the same fitted on its values before ``origin``."""
        if series.uid in self.preparations:
            return self.preparations[series.uid]
        data = self.config.data
        return fit_preparation(series.head(origin), data.transform,
                               [*data.past_covariates, *data.future_covariates])  # fmt: skip

    def _scaled(
        self, series: Series, prepared: Preparation, origin: int, steps: int
    ) -> tuple[np.ndarray, float, float]:
        """Median over members of the scaled quantile forecasts (steps, Q), loc, scale."""
        inputs, future, _, loc, scale = window_arrays(
            series, prepared, self.layout, self.config.data.scaling, origin, self.lookback,
            steps,
        )  # fmt: skip
        batch = window_batch([(inputs, future, np.zeros(steps), loc, scale)])
        with torch.no_grad():
            found = torch.stack([m(batch.inputs, batch.future)[0] for m in self.members])
        return found.median(dim=0).values.sort(dim=-1).values.numpy(), loc, scale

    def forecast(self, series: Series, origin: int, horizon: int | None = None) -> np.ndarray:
        """Quantile forecasts (H, Q) in the series' units for the ``horizon`` steps from
        ``origin`` (reading only the values before it)."""
        horizon = horizon or self.horizon
        if horizon > self.horizon and self.config.model.decoder == "direct":
            raise DataError(
                f"the model forecasts {self.horizon} steps ahead, not {horizon}; train it "
                f"with --horizon {horizon} (or --decoder recursive)."
            )
        prepared = self.preparation(series, origin)
        if self.config.model.decoder == "direct":
            scaled, loc, scale = self._scaled(series, prepared, origin, self.horizon)
            return prepared.inverse(loc + scale * scaled[:horizon])
        # Recursive: one step at a time, the median appended to the history.
        history = series.head(origin)
        future = series
        rows = []
        for step in range(horizon):
            at = origin + step
            extended = Series(series.uid, future.times, np.concatenate(
                [history.values, np.full(max(0, len(future) - at), np.nan)]),
                future.covariates)  # fmt: skip
            scaled, loc, scale = self._scaled(extended, prepared, at, 1)
            row = prepared.inverse(loc + scale * scaled[0])
            rows.append(row)
            median = row[self.levels.index(0.5)]
            history = Series(series.uid, history.times, np.append(history.values, median))
        return np.stack(rows)


def training_windows(
    series: Sequence[Series],
    ends: dict[str, int],
    preparations: dict[str, Preparation],
    layout: Layout,
    scaling: str,
    lookback: int,
    horizon: int,
) -> list[tuple[Any, ...]]:
    """Every window whose lookback and target lie before its series' training end."""
    rows = []
    for item in series:
        end = ends[item.uid]
        for origin in range(lookback, end - horizon + 1):
            rows.append(window_arrays(item, preparations[item.uid], layout, scaling, origin,
                                      lookback, horizon))  # fmt: skip
    return rows


def fit_forecaster(
    series: Sequence[Series],
    ends: dict[str, int],
    config: ForecastRunConfig,
    *,
    season: int,
    lookback: int,
    horizon: int,
    callbacks: Sequence[Any] = (),
    checkpoints: MemberCheckpoints | None = None,
    fit_name: str = "fit",
) -> FittedForecaster:
    """Fit the preparations and ``model.ensemble`` members on the data before ``ends``.

    ``callbacks`` observe the first member's training. With ``checkpoints`` the members
    checkpoint into the run directory as ``<fit_name>-member-<k>`` and a resumed run reads
    back those that finished (:class:`MemberCheckpoints`); without, they train in memory."""
    data, model_config = config.data, config.model
    layout = layout_of(config, season)
    covariates = [*data.past_covariates, *data.future_covariates]
    preparations = {
        item.uid: fit_preparation(item.head(ends[item.uid]), data.transform, covariates)
        for item in series
    }
    out_steps = 1 if model_config.decoder == "recursive" else horizon
    rows = training_windows(series, ends, preparations, layout, data.scaling, lookback,
                            out_steps)  # fmt: skip
    if not rows:
        shortest = min(ends.values())
        raise DataError(
            f"the training part ({shortest} steps) holds no window of lookback {lookback} + "
            f"horizon {out_steps}; give a longer series or a shorter --lookback / --horizon."
        )
    windows = window_batch(rows)
    members, histories, best_epochs = [], [], []
    for k in range(model_config.ensemble):
        seed = member_seed(config.train.seed, model_config.ensemble, k)
        seed_everything(seed)
        member = RecurrentForecaster(
            layout.input_size, len(layout.future), out_steps, model_config.levels, season,
            model_config,
        )  # fmt: skip
        sampler = WindowSampler(windows, config.train.batch_size, data.steps_per_epoch, seed)
        train_config = replace(config.train, seed=seed)
        chosen = callbacks if k == 0 else ()
        if checkpoints is None:
            result = Trainer(train_config, callbacks=chosen).fit(member, sampler)
            history, best = result.history, result.best_epoch
        else:
            key = {"seed": seed, "ends": {uid: int(end) for uid, end in ends.items()},
                   "windows": len(rows), "config": config_digest(config)}  # fmt: skip
            history, best = checkpoints.train(f"{fit_name}-member-{k}", key, member, sampler,
                                              train_config, chosen)  # fmt: skip
        member.cpu().eval()  # trained on train.device; forecasts read CPU tensors
        members.append(member)
        histories.append(history)
        best_epochs.append(best)
    return FittedForecaster(members, preparations, layout, lookback, horizon, season, config,
                            histories, best_epochs=best_epochs)  # fmt: skip


@dataclass(frozen=True)
class MemberCheckpoints:
    """Where a run's members checkpoint (``run_dir``), and whether an interrupted run is
    continued (``resume``); the design is in the module docstring.

    Create it with :meth:`open`, which forgets the members of an earlier run in the same
    directory unless it is resumed.
    """

    run_dir: Path
    resume: bool

    @classmethod
    def open(cls, run_dir: str | Path, resume: bool) -> MemberCheckpoints:
        """The checkpoints of the run in ``run_dir``; without ``resume`` the finished members
        and the member record a previous run left there are removed."""
        found = cls(Path(run_dir), resume)
        if not resume:
            for path in found._finished_dir().glob("*.pt"):
                path.unlink(missing_ok=True)
            found._current_path().unlink(missing_ok=True)
        return found

    def _current_path(self) -> Path:
        return self.run_dir / CURRENT_MEMBER

    def _finished_dir(self) -> Path:
        return self.run_dir / FINISHED_MEMBERS

    def _current(self) -> Any:
        try:
            return json.loads(self._current_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def train(
        self,
        name: str,
        key: dict[str, Any],
        member: RecurrentForecaster,
        sampler: WindowSampler,
        config: TrainConfig,
        callbacks: Sequence[Any],
    ) -> tuple[list[dict[str, float]], int]:
        """Train ``member`` (named ``name``; ``key`` says what it is trained on) with the
        Trainer checkpointing into the run directory, or read it back when a resumed run
        finished it already; returns its history and best epoch. A saved member whose key
        differs is trained again."""
        finished = self._finished_dir() / f"{name}.pt"
        if self.resume and finished.is_file():
            saved = load_checkpoint(finished)
            if saved.get("name") == name and saved.get("key") == key:
                member.load_state_dict(saved["model"])
                return [dict(r) for r in saved["history"]], int(saved["best_epoch"])
        record = {"name": name, "key": key}
        going_on = self.resume and self._current() == record
        if not going_on:
            # last.pt / best.pt of the member before must not be taken for this one's
            for part in ("last", "best", "history"):
                checkpoint_path(self.run_dir, part).unlink(missing_ok=True)
            make_dir(self._current_path().parent)
            atomic_write_json(self._current_path(), record)
        trainer = Trainer(config, run_dir=self.run_dir, callbacks=callbacks)
        result = trainer.fit(member, sampler, resume=going_on)
        weights = {k: v.detach().cpu() for k, v in member.state_dict().items()}
        make_dir(finished.parent)
        save_checkpoint(finished, {"kind": "member", "name": name, "key": key,
                                   "model": weights, "history": result.history,
                                   "best_epoch": result.best_epoch})  # fmt: skip
        return result.history, result.best_epoch
