"""A tiny trained run directory (seconds on one thread) for export, batch and server tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnnlab.runs import MODEL_FILE
from rnnlab.tasks.classify.estimator import TextClassifier
from rnnlab.threads import torch_threads

TINY: dict[str, Any] = {
    "embedding_dim": 16,
    "hidden_size": 16,
    "num_layers": 1,
    "epochs": 1,
    "max_len": 40,
    "device": "cpu",
    "num_threads": 1,
    "seed": 0,
}


def train_tiny_run(folder: Path, data: Any, n: int = 1000, **overrides: Any) -> Path:
    """Train on ``n`` rotten_tomatoes texts; write model, config.toml and metrics.json."""
    with torch_threads(1):
        clf = TextClassifier(**{**TINY, **overrides}).fit(
            data.train.texts[:n], data.train.labels[:n]
        )
        accuracy = clf.score(data.test.texts[:300], data.test.labels[:300])
    folder.mkdir(parents=True, exist_ok=True)
    clf.save(folder / MODEL_FILE)
    (folder / "config.toml").write_text(clf.config_.to_toml(), encoding="utf-8")
    metrics = {"split": "test", "accuracy": accuracy, "labels": list(clf.classes_)}
    (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    return folder
