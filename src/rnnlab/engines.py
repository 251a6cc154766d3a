"""Inference engines for :class:`~rnnlab.predictor.Predictor`: PyTorch or onnxruntime.

An engine turns batches of padded token ids into probabilities; the predictor keeps doing
everything around it (tokenising, sorting by length, restoring input order), so both
engines see exactly the same batches and return the same numbers to float precision.

* ``"torch"`` — the model itself (:meth:`RecurrentClassifier.predict_batches`).
* ``"onnx"`` — the model exported by :func:`rnnlab.export.onnx_model_bytes` (the graph
  ``rnnlab export`` writes), run by onnxruntime on the CPU with as many threads as torch
  uses. No file is written: the graph is built in memory when the predictor loads.

Example::

    >>> from rnnlab.predictor import Predictor
    >>> predictor = Predictor.from_file("runs/imdb", engine="onnx")
    >>> predictor.predict_proba(["A quiet, lovely film."])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from rnnlab.errors import ConfigError, MissingDependencyError

__all__ = ["ENGINES", "BatchEngine", "OnnxEngine", "make_engine"]

ENGINES: tuple[str, ...] = ("torch", "onnx")


class BatchEngine(Protocol):
    """Probabilities for batches with ``ids`` (B, T), ``lengths`` (B,) and row ``index``."""

    def predict_batches(self, batches: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]: ...


class OnnxEngine:
    """An onnxruntime session over an exported graph, with the batch interface of the model.

    Args:
        model_bytes: the serialised ONNX graph (inputs ``ids``, ``lengths``; output
            ``probabilities``).
        num_outputs: K, the number of labels (shapes the empty result).
        threads: intra-op threads; default torch's current setting, for a fair comparison.
    """

    def __init__(self, model_bytes: bytes, num_outputs: int, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependencyError(
                "engine='onnx' needs onnxruntime; install it with pip install 'rnnlab[onnx]'."
            ) from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            model_bytes, options, providers=["CPUExecutionProvider"]
        )
        self.num_outputs = num_outputs

    def predict_batches(self, batches: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N, K) in the order of the batches' ``index``, and that index."""
        probs, order = [], []
        for batch in batches:
            feeds = {"ids": batch.ids.numpy(), "lengths": batch.lengths.numpy()}
            probs.append(self.session.run(None, feeds)[0])
            order.append(batch.index.numpy())
        if not probs:
            return np.zeros((0, self.num_outputs), dtype=np.float32), np.zeros(0, dtype=np.int64)
        return np.concatenate(probs), np.concatenate(order)


def make_engine(name: str, model: nn.Module, task: str) -> BatchEngine:
    """The engine called ``name`` for ``model`` (``"torch"`` returns the model itself)."""
    if name not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}.")
    if name == "torch":
        return model  # type: ignore[return-value]
    from rnnlab.export import onnx_model_bytes

    return OnnxEngine(onnx_model_bytes(model, task), num_outputs=len(model.labels))
