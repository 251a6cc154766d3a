"""rnnlab: recurrent sequence models (RNN, LSTM, GRU) for text and time series.

>>> import rnnlab
>>> predictor = rnnlab.load("runs/imdb")
>>> predictor.predict(["What a film!"])
>>> clf = rnnlab.TextClassifier(epochs=2).fit(texts, labels)

Heavy modules (torch) load on first use, so ``import rnnlab`` and ``rnnlab --help`` stay quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["TextClassifier", "__version__", "load"]

if TYPE_CHECKING:
    from rnnlab.predictor import Predictor
    from rnnlab.tasks.text_classifier import TextClassifier


def __getattr__(name: str) -> Any:
    if name == "TextClassifier":
        from rnnlab.tasks.text_classifier import TextClassifier

        return TextClassifier
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")


def load(path: Any, device: Any = "cpu", engine: str = "torch") -> Predictor:
    """Load a run directory or model file as a ``Predictor`` (see :mod:`rnnlab.predictor`);
    ``engine="onnx"`` runs the model on onnxruntime."""
    from rnnlab.predictor import load as _load

    return _load(path, device=device, engine=engine)
