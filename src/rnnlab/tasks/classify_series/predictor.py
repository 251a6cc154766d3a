"""A trained series classifier: ``rnnlab.load(run).predict([[v1, v2, …], …])`` → labels,
``predict_proba`` → (N, C) class probabilities (the name scikit-learn and ``TextPredictor`` use).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.data.ucr import parse_values
from rnnlab.errors import ShapeError
from rnnlab.runs import load_model_file, rebuilding
from rnnlab.tasks.base import Predictor
from rnnlab.tasks.classify_series.config import SeriesClassifyModelConfig
from rnnlab.tasks.classify_series.data import znorm
from rnnlab.tasks.classify_series.model import SeriesClassifier

__all__ = ["SeriesPredictor"]


class SeriesPredictor(Predictor):
    """Labels series of the training length with a trained :class:`SeriesClassifier`."""

    task = "classify_series"
    engines = ("torch",)

    def __init__(self, model: SeriesClassifier, labels: list[str], length: int,
                 normalise: bool) -> None:  # fmt: skip
        self.model = self.engine = model.eval()
        self._labels, self.length, self.normalise = labels, length, normalise

    @property
    def labels(self) -> list:
        return list(self._labels)

    @classmethod
    def from_file(cls, path: str | Path, device: Any = "cpu") -> SeriesPredictor:
        tensors, meta = load_model_file(path)
        with rebuilding(path, "classify_series"):
            config = SeriesClassifyModelConfig(**meta["model_config"])
            model = SeriesClassifier(len(meta["labels"]), config)
            model.load_state_dict(tensors)
            extra = meta["preprocessing"]
            length, normalise = int(extra["length"]), bool(extra["znorm"])
        return cls(model.to(device), meta["labels"], length, normalise)

    def predict_proba(self, inputs: Any, batch_size: int = 64) -> np.ndarray:
        """(N, C) class probabilities of series of the training length: rows of numbers, or
        lines of text ``v1,v2,…`` (a ``:label`` after them, as in .ts files, is ignored);
        column k belongs to ``labels[k]``."""
        values = np.asarray(
            [parse_values(row.split(":", 1)[0], f"input {i + 1}", "give one series per line "
                          "as comma-separated values") if isinstance(row, str) else row
             for i, row in enumerate(inputs)],
            dtype=float,
        )  # fmt: skip
        if values.ndim != 2 or values.shape[1] != self.length:
            raise ShapeError(
                f"expected series of {self.length} values each (the training length), got an "
                f"array of shape {values.shape}."
            )
        values = znorm(values) if self.normalise else values
        found = []
        with torch.no_grad():
            for start in range(0, len(values), batch_size):
                chunk = torch.as_tensor(values[start : start + batch_size], dtype=torch.float32)
                found.append(torch.softmax(self.model(chunk.unsqueeze(-1)), -1).numpy())
        return np.concatenate(found) if found else np.zeros((0, len(self._labels)))

    def probabilities(self, inputs: Any, batch_size: int = 64) -> np.ndarray:
        """Deprecated name of :meth:`predict_proba` (the name every predictor with class
        probabilities shares); it still works, and warns."""
        warnings.warn(
            "SeriesPredictor.probabilities is deprecated; call predict_proba (same arguments, "
            "same result).",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.predict_proba(inputs, batch_size)

    def predict(self, inputs: Any, batch_size: int = 64) -> list:
        """The most probable label of each series (see :meth:`predict_proba`)."""
        return [self._labels[i] for i in self.predict_proba(inputs, batch_size).argmax(1)]
