"""Checkpoints: everything needed to continue a run exactly, saved safely, loaded safely.

``checkpoints/last.pt`` holds the model, optimizer and scheduler state, the loop counters
(:class:`TrainState`), the training config and the random number generators (torch, CUDA,
Python ``random``, NumPy), so a run killed at any point continues from its last checkpoint and
ends with the same numbers as a run that was never interrupted. ``checkpoints/best.pt`` holds
the weights of the best epoch and its metrics.

Files hold only tensors and plain containers and are read with
``torch.load(..., weights_only=True)``: loading a checkpoint never runs pickled code. Writes go
through a temporary file and ``os.replace``, so a kill mid-write leaves the previous file.
"""

from __future__ import annotations

import io
import os
import pickle
import random
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.config import TrainConfig
from rnnlab.errors import ConfigError, DataError
from rnnlab.fileio import atomic_write_bytes

__all__ = [
    "FORMAT",
    "VERSION",
    "TrainState",
    "capture_rng",
    "check_same_config",
    "checkpoint_path",
    "load_checkpoint",
    "restore_rng",
    "save_checkpoint",
]

FORMAT = "rnnlab.train.checkpoint"
VERSION = 1

# Keys of TrainConfig that do not change the numbers a run produces (on one device type).
_NEUTRAL_KEYS = frozenset({"device", "num_threads", "checkpoint_every"})


@dataclass
class TrainState:
    """The training loop's counters; saved in ``last.pt`` to continue where it stopped."""

    epoch: int = 0  # index (from 0) of the epoch in progress; equals `epochs` when done
    batch: int = 0  # batches of that epoch already trained
    num_batches: int = 0  # batches in that epoch, to notice changed training data
    step: int = 0  # optimizer steps since the start
    loss_sum: float = 0.0  # sum of this epoch's batch losses so far
    tokens: int = 0  # tokens trained on in this epoch so far
    train_seconds: float = 0.0  # training time in this epoch so far
    total_seconds: float = 0.0  # time of all finished epochs
    best_score: float | None = None
    best_epoch: int = 0  # counting from 1; 0 = none yet
    best_metrics: dict[str, float] = field(default_factory=dict)
    bad_epochs: int = 0  # epochs since the last improvement
    stopped_early: bool = False
    averaging: bool = False  # NT-ASGD has switched to averaged SGD
    history: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def checkpoint_path(run_dir: str | os.PathLike[str], name: str) -> Path:
    """Where a run directory keeps ``name``: ``"last"`` and ``"best"`` →
    ``checkpoints/NAME.pt``, ``"history"`` → ``history.jsonl`` (the Trainer's files)."""
    file = "history.jsonl" if name == "history" else f"checkpoints/{name}.pt"
    return Path(run_dir) / file


def capture_rng() -> dict[str, Any]:
    """The state of every random number generator training may draw from, as tensors."""
    version, words, gauss = random.getstate()
    np_state = np.random.get_state(legacy=False)
    state: dict[str, Any] = {
        "python": {"version": version, "words": torch.tensor(words), "gauss": gauss},
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Put every generator back to the state :func:`capture_rng` recorded."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(w) for w in py["words"].tolist()), py["gauss"]))
    npy = state["numpy"]
    np.random.set_state(
        {
            "bit_generator": npy["bit_generator"],
            "state": {"key": npy["key"].numpy().astype(np.uint32), "pos": npy["pos"]},
            "has_gauss": npy["has_gauss"],
            "gauss": npy["gauss"],
        }
    )
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """Write ``payload`` (tensors and plain containers) to ``path`` atomically."""
    # Serialised in memory first: torch's zip writer turns a failed write (a full disk) into
    # an opaque RuntimeError, while a plain write of bytes says what happened.
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, **payload}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` onto the CPU; check its format."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError:  # weights_only refused an object: it could run code
        raise DataError(
            f"Checkpoint {path} holds Python objects other than tensors and plain values, and "
            "loading it could run code, so it is refused; delete it to start the run again."
        ) from None
    except Exception as exc:  # torch raises several types for torn or foreign files
        reason = " ".join(str(exc).split())[:200]
        raise DataError(
            f"Checkpoint {path} cannot be read ({type(exc).__name__}: {reason}); delete it to "
            f"start the run again."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DataError(f"{path} is not an rnnlab training checkpoint; delete it or move it.")
    if payload.get("version", 0) > VERSION:
        raise DataError(
            f"Checkpoint {path} has format version {payload['version']}, newer than this "
            f"rnnlab reads ({VERSION}); upgrade rnnlab."
        )
    return payload


def check_same_config(saved: dict[str, Any], config: TrainConfig, path: Path) -> None:
    """Raise ConfigError when ``config`` would not continue the run saved with ``saved``.

    The device, thread count and checkpoint interval may change; so may ``epochs`` when no
    schedule depends on the total number of steps (training longer continues the same run).
    """
    current = asdict(config)
    neutral = set(_NEUTRAL_KEYS)
    if config.schedule == "none" and saved.get("schedule") == "none":
        neutral.add("epochs")
    for key in current:
        if key in neutral or key not in saved or saved[key] == current[key]:
            continue
        raise ConfigError(
            f"Cannot resume from {path}: train.{key} was {saved[key]!r} there and is "
            f"{current[key]!r} now; resume with the original setting or start a new run "
            f"directory."
        )
