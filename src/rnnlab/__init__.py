"""rnnlab: recurrent sequence models (RNN, LSTM, GRU) for text and time series.

>>> import rnnlab
>>> predictor = rnnlab.load("runs/imdb")
>>> predictor.predict(["What a film!"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "load"]

if TYPE_CHECKING:
    from rnnlab.predictor import Predictor


def load(path: Any, device: Any = "cpu") -> Predictor:
    """Load a run directory or model file as a ``Predictor`` (see :mod:`rnnlab.predictor`)."""
    from rnnlab.predictor import load as _load

    return _load(path, device=device)
