"""Checkpoint files: random generator state, safe loading, readable errors."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from rnnlab.config import TrainConfig
from rnnlab.errors import ConfigError, DataError
from rnnlab.train.checkpoint import (
    capture_rng,
    check_same_config,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)


def draws():
    return (random.random(), random.gauss(0, 1), np.random.rand(), np.random.randn(),
            torch.rand(3).tolist())  # fmt: skip


def test_rng_state_survives_a_file_round_trip(tmp_path):
    random.gauss(0, 1)  # leave a cached Gaussian in Python's generator
    np.random.randn()
    save_checkpoint(tmp_path / "c.pt", {"rng": capture_rng()})
    expected = draws()
    draws()
    restore_rng(load_checkpoint(tmp_path / "c.pt")["rng"])
    assert draws() == expected


def test_files_are_plain_tensors_and_containers(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(2)}, "rng": capture_rng(), "n": 3})
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == "rnnlab.train.checkpoint" and payload["n"] == 3
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_torn_and_foreign_files_are_clear_errors(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"n": 1})
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match=r"Checkpoint .*last.pt cannot be read .*; delete it"):
        load_checkpoint(path)
    torch.save({"weights": torch.ones(1)}, path)
    with pytest.raises(DataError, match=r"last.pt is not an rnnlab training checkpoint"):
        load_checkpoint(path)


def test_only_result_changing_settings_block_a_resume(tmp_path):
    saved = vars(TrainConfig(schedule="none")).copy()
    check_same_config(
        saved,
        TrainConfig(schedule="none", device="cpu", num_threads=2, checkpoint_every=5),
        tmp_path,
    )
    check_same_config(saved, TrainConfig(schedule="none", epochs=10), tmp_path)  # train longer
    with pytest.raises(ConfigError, match=r"train.batch_size was 32 there and is 64 now"):
        check_same_config(saved, TrainConfig(schedule="none", batch_size=64), tmp_path)
    with pytest.raises(ConfigError, match=r"train.seed was 0 there and is 1 now"):
        check_same_config(saved, TrainConfig(schedule="none", seed=1), tmp_path)
