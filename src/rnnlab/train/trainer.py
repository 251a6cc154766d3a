"""The Trainer: epochs of :func:`~rnnlab.train.steps.train_step`, evaluation, early stopping,
checkpoints and resume — the same loop for every task.

    trainer = Trainer(config.train, run_dir=Path("runs/x"), callbacks=[RichProgress()])
    result = trainer.fit(model, train_batches, valid_batches)          # FitResult
    result = trainer.fit(model, train_batches, valid_batches, resume=True)   # after a kill

One run, drawn as time flows (``C`` = ``last.pt`` every ``checkpoint_every`` steps and at every
epoch end, ``B`` = ``best.pt`` when the monitored metric improves)::

    seed → [epoch 1: step step C step … step | evaluate B C] → [epoch 2: …] → restore best

A resumed run loads ``last.pt`` (weights, optimizer, schedule, counters, random generators),
replays the interrupted epoch's batch order, skips the batches already trained and carries on;
it ends with the same history and weights as a run that was never interrupted (on the CPU).

Early stopping follows ``train.monitor`` in the validation metrics (``train.monitor_mode``);
an epoch that ties the best score but has a lower validation loss counts as better (accuracy
on a few hundred texts moves in steps of one text and often stays put for epochs while the
model still improves). Without a validation source it follows the training loss, lower being
better. At the end the model holds the weights of the best epoch.

Under ``torchrun`` the same loop trains under DistributedDataParallel: each rank trains on its
shard of the batches, only rank 0 writes files, and every rank ends with the same weights (see
:mod:`rnnlab.train.distributed`).
"""

from __future__ import annotations

import itertools
import json
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rnnlab.config import TrainConfig
from rnnlab.errors import ConfigError, DataError
from rnnlab.fileio import atomic_write_text
from rnnlab.threads import torch_threads
from rnnlab.train.callbacks import FitStart, StepInfo, check_callbacks, dispatch
from rnnlab.train.checkpoint import (
    TrainState,
    capture_rng,
    check_same_config,
    checkpoint_path,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from rnnlab.train.distributed import current as current_place
from rnnlab.train.distributed import shard
from rnnlab.train.memory import keep_freed_memory
from rnnlab.train.optim import (
    averaged_weights,
    averaging_optimizer,
    build_optimizer,
    build_scheduler,
    layer_groups,
    not_improving,
    unfrozen_groups,
)
from rnnlab.train.precision import resolve_precision
from rnnlab.train.protocols import BatchSource, TrainableModel
from rnnlab.train.steps import evaluate, resolve_device, seed_everything, train_step

__all__ = ["FitResult", "Trainer", "resolve_monitor"]


def resolve_monitor(config: TrainConfig, has_validation: bool) -> TrainConfig:
    """``config`` with the monitor the Trainer follows: its own with validation data, else
    ``train_loss`` (mode ``min``), the only score there is.

    A workflow that trains without validation data resolves its config with this before
    writing ``config.toml``, so that the run records the metric that chose its best epoch.
    """
    if has_validation or (config.monitor, config.monitor_mode) == ("train_loss", "min"):
        return config
    return replace(config, monitor="train_loss", monitor_mode="min")


@dataclass(frozen=True)
class FitResult:
    """What ``fit`` returns; the model itself already holds the best epoch's weights."""

    best_metrics: dict[str, float]  # validation metrics of the best epoch ({"train_loss"} if none)
    best_epoch: int  # counting from 1; 0 if no epoch produced a finite score
    history: list[dict[str, float]]  # one record per epoch, as in history.jsonl
    stopped_early: bool
    seconds: float  # training + evaluation time of all epochs
    monitor: str  # the metric followed ("train_loss" without validation data)
    best_score: float | None


class Trainer:
    """Trains any model that follows :class:`~rnnlab.train.protocols.TrainableModel`.

    Args:
        config: optimisation, early stopping, checkpoint and device settings.
        run_dir: where ``checkpoints/{last,best}.pt`` and ``history.jsonl`` go; ``None`` keeps
            everything in memory (no resume).
        callbacks: observers of the events in :data:`~rnnlab.train.callbacks.EVENTS`.
    """

    def __init__(
        self,
        config: TrainConfig,
        run_dir: str | Path | None = None,
        callbacks: Sequence[Any] = (),
    ) -> None:
        if not isinstance(config, TrainConfig):
            raise TypeError(f"Trainer: config must be a TrainConfig, got {type(config).__name__}.")
        check_callbacks(callbacks)
        self.config = config
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.callbacks = tuple(callbacks)

    def fit(
        self,
        model: TrainableModel,
        train: BatchSource,
        valid: BatchSource | None = None,
        resume: bool = False,
    ) -> FitResult:
        """Train ``model`` on ``train`` for ``config.epochs``, evaluating on ``valid``.

        With ``resume=True`` the run continues from ``run_dir/checkpoints/last.pt`` when it
        exists (and starts afresh when it does not); the settings that shape the result must
        equal the saved ones. Without it, old checkpoints and history in ``run_dir`` are
        replaced.
        """
        _check_inputs(model, train, valid)
        if resume and self.run_dir is None:
            raise ConfigError(
                "Trainer.fit(resume=True) needs a run_dir holding checkpoints/last.pt; "
                "pass run_dir= to Trainer."
            )
        keep_freed_memory()  # the same tensors come back every step (rnnlab.train.memory)
        with torch_threads(self.config.num_threads):
            run = _Run(self, model, train, valid)
            if not (resume and run.load_last()):
                run.clear_files()
            return run.loop()


class _Run:
    """The mutable state of one ``fit`` call: model, optimizer, counters, best weights."""

    def __init__(
        self, trainer: Trainer, model: Any, train: BatchSource, valid: BatchSource | None
    ) -> None:
        cfg = self.cfg = trainer.config
        self.callbacks = trainer.callbacks
        self.run_dir = trainer.run_dir
        self.place = current_place()
        self.writes = self.run_dir is not None and self.place.is_main
        self.model, self.valid = model, valid
        self.train = shard(train, self.place)
        self.device = resolve_device(cfg.device)
        if self.place.active and self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", self.place.local_rank)
        self.precision = resolve_precision(cfg.precision, self.device)
        self.scaler = self.precision.grad_scaler()
        followed = resolve_monitor(cfg, has_validation=valid is not None)
        self.monitor, self.mode = followed.monitor, followed.monitor_mode
        # Rank r draws its dropout masks from seed + r; DDP copies rank 0's weights to all.
        seed_everything(cfg.seed + self.place.rank)
        model.to(self.device)
        if valid is not None:
            self._check_monitor(valid)
        self.groups = layer_groups(model)
        if self.groups is None and (cfg.gradual_unfreezing or cfg.layer_lr_decay != 1.0):
            raise ConfigError(
                f"train.gradual_unfreezing and train.layer_lr_decay need a model that names its "
                f"layer groups; {type(model).__name__} does not — leave them at their defaults."
            )
        self.trainable = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = build_optimizer(model, cfg)
        needs_total = cfg.schedule != "none"
        total = sum(self.train.num_batches(e) for e in range(cfg.epochs)) if needs_total else 0
        self.scheduler = build_scheduler(self.optimizer, cfg, total)
        self.state = TrainState()
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.forward: Any = None  # the DDP wrapper's forward, under torchrun

    def _wrap(self) -> None:
        """Under torchrun, a DistributedDataParallel wrapper of the parameters that train
        now (rebuilt when gradual unfreezing opens a group: DDP fixes its set at creation)."""
        if not self.place.active:
            return
        device_ids = None if self.device.type != "cuda" else [self.device]
        with warnings.catch_warnings():
            # torch ≥ 2.13 names the setting differently; this one keeps working everywhere.
            warnings.filterwarnings("ignore", message=".*broadcast_buffers", category=FutureWarning)
            wrapper = nn.parallel.DistributedDataParallel(
                _TrainingStep(self.model), device_ids=device_ids, broadcast_buffers=False
            )
        self.forward = wrapper

    # ---- files

    def _path(self, name: str) -> Path:
        assert self.run_dir is not None
        return checkpoint_path(self.run_dir, name)

    def clear_files(self) -> None:
        """A fresh run: remove the checkpoints and history a previous run left in run_dir."""
        if self.writes:
            for name in ("last", "best", "history"):
                self._path(name).unlink(missing_ok=True)

    def load_last(self) -> bool:
        """Continue from ``last.pt``; False when there is none."""
        path = self._path("last")
        # Rank 0 reads the files and hands them to the others: no shared disk needed.
        found = self.place.broadcast(path.exists() if self.place.is_main else None)
        if not found:
            return False
        ckpt = self.place.broadcast(load_checkpoint(path) if self.place.is_main else None)
        check_same_config(ckpt["config"], self.cfg, path)
        try:
            self.model.load_state_dict(ckpt["model"])
        except RuntimeError as exc:
            reason = str(exc).strip().splitlines()[0]
            raise ConfigError(
                f"Cannot resume from {path}: the model does not match the checkpoint "
                f"({reason}); resume with the original model settings or start a new run "
                f"directory."
            ) from None
        state = self.state = TrainState.from_dict(ckpt["state"])
        if state.averaging:
            self.optimizer = averaging_optimizer(self.model, self.cfg)
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None and ckpt["scheduler"] is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        if state.batch and self.train.num_batches(state.epoch) != state.num_batches:
            raise DataError(
                f"Cannot resume from {path}: epoch {state.epoch + 1} had {state.num_batches} "
                f"training batches and now has {self.train.num_batches(state.epoch)}; resume "
                f"with the same training data and batch size."
            )
        if state.best_epoch:
            best = load_checkpoint(self._path("best"))["model"] if self.place.is_main else None
            self.best_weights = self.place.broadcast(best)
        ranks = ckpt.get("ranks")  # under DDP: each rank's generators and partial sums
        own = ranks[self.place.rank] if ranks and len(ranks) == self.place.world_size else None
        if own is not None:
            state.loss_sum, state.tokens = own["loss_sum"], own["tokens"]
        restore_rng(own["rng"] if own is not None else ckpt["rng"])
        self._write_history()
        return True

    def _save_last(self) -> None:
        if self.run_dir is None:
            return
        rng = capture_rng()
        # Each rank's generators and its share of the epoch's loss, to resume every rank.
        ranks = self.place.gather(
            {"rng": rng, "loss_sum": self.state.loss_sum, "tokens": self.state.tokens}
        )
        if self.writes:
            save_checkpoint(
                self._path("last"),
                {
                    "kind": "last",
                    "model": self.model.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
                    "state": self.state.to_dict(),
                    "config": asdict(self.cfg),
                    "rng": rng,
                    **({"ranks": ranks} if self.place.active else {}),
                },
            )
        self.place.barrier()  # no rank runs ahead of a checkpoint that may be resumed

    def _write_history(self) -> None:
        if self.writes:
            lines = (json.dumps(_finite_or_none(r)) + "\n" for r in self.state.history)
            atomic_write_text(self._path("history"), "".join(lines))

    # ---- the loop

    def loop(self) -> FitResult:
        st, cfg = self.state, self.cfg
        info = FitStart(
            epochs=cfg.epochs,
            start_epoch=st.epoch + 1,
            start_batch=st.batch,
            global_step=st.step,
            device=str(self.device),
            num_parameters=sum(p.numel() for p in self.model.parameters() if p.requires_grad),
            monitor=self.monitor,
            monitor_mode=self.mode,
            best_score=st.best_score,
        )
        dispatch(self.callbacks, "on_fit_start", info)
        try:
            while st.epoch < cfg.epochs and not st.stopped_early:
                self._unfreeze()
                self._train_epoch()
                self._end_epoch()
        finally:
            for p in self.trainable:  # gradual unfreezing leaves the model as it found it
                p.requires_grad_(True)
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        result = FitResult(
            best_metrics=dict(st.best_metrics),
            best_epoch=st.best_epoch,
            history=[dict(r) for r in st.history],
            stopped_early=st.stopped_early,
            seconds=st.total_seconds,
            monitor=self.monitor,
            best_score=st.best_score,
        )
        dispatch(self.callbacks, "on_fit_end", result)
        return result

    def _unfreeze(self) -> None:
        """Gradual unfreezing: only the layer groups of this epoch compute gradients (the
        others keep ``grad`` None, so the optimizer skips them and no backward pass runs
        below the lowest open group)."""
        if not self.cfg.gradual_unfreezing or self.groups is None:
            return
        open_groups = unfrozen_groups(len(self.groups), self.state.epoch)
        trainable = {id(p) for p in self.trainable}
        for k, group in enumerate(self.groups):
            for p in group:
                if id(p) in trainable:
                    p.requires_grad_(k in open_groups)

    def _train_epoch(self) -> None:
        st, cfg = self.state, self.cfg
        st.num_batches = n = self.train.num_batches(st.epoch)
        if n == 0:
            raise DataError(
                f"The training data yields no batches in epoch {st.epoch + 1}; check that "
                f"the training set is not empty."
            )
        dispatch(self.callbacks, "on_epoch_start", st.epoch + 1, n)
        self.model.train()
        self._wrap()
        start = time.perf_counter() - st.train_seconds
        for batch in itertools.islice(self.train.batches(st.epoch), st.batch, None):
            batch = batch.to(self.device)
            lr = float(self.optimizer.param_groups[0]["lr"])
            out = train_step(
                self.model, self.optimizer, batch, cfg.clip_norm, self.forward, self.place,
                precision=self.precision, scaler=self.scaler,
            )  # fmt: skip
            if self.scheduler is not None:
                self.scheduler.step()
            st.batch += 1
            st.step += 1
            st.loss_sum += out.loss
            st.tokens += int(batch.num_tokens)
            st.train_seconds = time.perf_counter() - start
            step = StepInfo(
                epoch=st.epoch + 1,
                batch=st.batch,
                num_batches=n,
                global_step=st.step,
                loss=out.loss,
                mean_loss=st.loss_sum / st.batch,
                grad_norm=out.grad_norm,
                lr=lr,
                num_tokens=int(batch.num_tokens),
                tokens_per_s=st.tokens / max(st.train_seconds, 1e-9),
            )
            if cfg.checkpoint_every and st.step % cfg.checkpoint_every == 0:
                self._save_last()
            dispatch(self.callbacks, "on_step_end", step)

    def _end_epoch(self) -> None:
        with averaged_weights(self.optimizer):  # NT-ASGD's average, once it averages
            self._evaluate_epoch()
        self._maybe_start_averaging()
        self._write_history()  # before last.pt: a resume rewrites it from last.pt's history
        self._save_last()
        dispatch(self.callbacks, "on_epoch_end", dict(self.state.history[-1]))

    def _evaluate_epoch(self) -> None:
        """Score the epoch, keep the best weights, close the epoch's record and counters."""
        st = self.state
        eval_start = time.perf_counter()
        metrics: dict[str, float] = {}
        if self.valid is not None:
            if self.place.is_main:  # the ranks hold the same weights: rank 0 scores them
                batches = (b.to(self.device) for b in self.valid.batches(st.epoch))
                metrics = evaluate(self.model, batches)
            metrics = self.place.broadcast(metrics)
            self._require_monitor(metrics)
        loss_sum, num_batches, tokens = self.place.sum(st.loss_sum, st.batch, st.tokens)
        st.tokens = int(tokens)
        train_loss = loss_sum / max(num_batches, 1)
        seconds = st.train_seconds + (time.perf_counter() - eval_start)
        record: dict[str, float] = {"epoch": st.epoch + 1, "train_loss": train_loss}
        record.update({f"valid_{k}": v for k, v in metrics.items()})
        record["lr"] = float(self.optimizer.param_groups[0]["lr"])
        record["seconds"] = seconds
        record["tokens_per_s"] = st.tokens / max(st.train_seconds, 1e-9)
        score = metrics[self.monitor] if self.valid is not None else train_loss
        if self._improves(score, metrics.get("loss", math.nan)):
            st.best_score, st.best_epoch, st.bad_epochs = score, st.epoch + 1, 0
            st.best_metrics = dict(metrics) if self.valid is not None else {"train_loss": score}
            self.best_weights = {k: _cpu_copy(v) for k, v in self.model.state_dict().items()}
            if self.writes:
                best = {"kind": "best", "model": self.best_weights, "epoch": st.best_epoch}
                best.update(metrics=st.best_metrics, monitor=self.monitor, score=score)
                save_checkpoint(self._path("best"), best)
        else:
            st.bad_epochs += 1
        st.history.append(record)
        st.total_seconds += seconds
        st.stopped_early = 0 < self.cfg.patience <= st.bad_epochs
        st.epoch += 1
        st.batch, st.loss_sum, st.tokens, st.train_seconds = 0, 0.0, 0, 0.0

    def _maybe_start_averaging(self) -> None:
        """NT-ASGD: switch SGD to averaged SGD when the monitored score stops improving."""
        st, cfg = self.state, self.cfg
        if cfg.optimizer != "nt-asgd" or st.averaging:
            return
        key = self.monitor if self.valid is None else f"valid_{self.monitor}"
        scores = [record[key] for record in st.history]
        if not_improving(scores, cfg.nonmono, self.mode):
            st.averaging = True
            st.history[-1]["averaging_starts"] = 1.0
            self.optimizer = averaging_optimizer(self.model, cfg)

    def _improves(self, score: float, valid_loss: float) -> bool:
        """Whether the epoch beats the best so far: a better monitored score, or the same
        score with a lower validation loss (NaN losses never break a tie)."""
        if math.isnan(score):
            return False
        best = self.state.best_score
        if best is None:
            return True
        if score == best:
            return valid_loss < self.state.best_metrics.get("loss", math.nan)
        return score > best if self.mode == "max" else score < best

    # ---- checks

    def _check_monitor(self, valid: BatchSource) -> None:
        """Evaluate one validation batch now, so a misnamed monitor fails before an epoch."""
        if valid.num_batches(0) == 0:
            raise DataError("The validation data yields no batches; pass valid=None or data.")
        first = itertools.islice(valid.batches(0), 1)
        self._require_monitor(evaluate(self.model, (b.to(self.device) for b in first)))

    def _require_monitor(self, metrics: dict[str, float]) -> None:
        if self.monitor not in metrics:
            raise ConfigError(
                f"Config key 'train.monitor' is {self.monitor!r} but "
                f"{type(self.model).__name__}.evaluate() returns {sorted(metrics)}; set "
                f"train.monitor to one of them."
            )


class _TrainingStep(nn.Module):
    """``model.training_step`` as a module's forward: DistributedDataParallel averages the
    gradients of what its wrapped module's forward returns."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Any) -> torch.Tensor:
        return self.model.training_step(batch)  # type: ignore[operator]


def _check_inputs(model: Any, train: Any, valid: Any) -> None:
    if not (isinstance(model, torch.nn.Module) and isinstance(model, TrainableModel)):
        raise TypeError(
            f"Trainer.fit: model must be a torch.nn.Module with training_step(batch) and "
            f"evaluate(batches), got {type(model).__name__}."
        )
    for name, source in (("train", train), ("valid", valid)):
        if source is not None and not isinstance(source, BatchSource):
            raise TypeError(
                f"Trainer.fit: {name} must have batches(epoch) and num_batches(epoch), "
                f"got {type(source).__name__}."
            )


def _cpu_copy(value: Any) -> Any:
    """A CPU copy of a state-dict entry: a tensor, or a module's extra state (a language
    model's carried hidden state: a dict of tensors, possibly empty)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _cpu_copy(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_cpu_copy(v) for v in value)
    return value


def _finite_or_none(record: dict[str, float]) -> dict[str, float | None]:
    """JSON has no NaN or infinity; write them as null."""
    return {
        k: v if not isinstance(v, float) or math.isfinite(v) else None for k, v in record.items()
    }
