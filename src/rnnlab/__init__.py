"""rnnlab: recurrent sequence models (RNN, LSTM, GRU) for text and time series."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
