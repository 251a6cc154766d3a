"""Inference engines for every task's predictor: PyTorch or onnxruntime; and :func:`load`.

An engine turns batches of padded token ids into probabilities; the predictor keeps doing
everything around it (tokenising, sorting by length, restoring input order), so both
engines see exactly the same batches and return the same numbers to float precision.

* ``"torch"`` — the model itself (:meth:`RecurrentClassifier.predict_batches`).
* ``"onnx"`` — the model exported by :func:`rnnlab.deploy.onnx.onnx_model_bytes` (the graph
  ``rnnlab export`` writes), run by onnxruntime on the CPU with as many threads as torch
  uses. No file is written: the graph is built in memory when the predictor loads.

A tagger's engine (:class:`TagOnnxEngine`) has the tagger's batch interface instead:
``predict_batch(batch)`` → the best tag ids of each sentence, read from the graph's ``tags``.
A task whose model is not one graph names its own engine in its registry entry
(``Task.onnx_engine``: a translation model's encoder and one-step decoder graphs behind the
model's ``encode`` / ``decode_step``, so the search loop runs unchanged on onnxruntime).

Example::

    >>> import rnnlab
    >>> texts = ["a wonderful, moving film", "dull and far too long", "lovely acting", "dull plot"]
    >>> labels = ["pos", "neg", "pos", "neg"]
    >>> clf = rnnlab.TextClassifier(epochs=1, hidden_size=8).fit(texts * 5, labels * 5)
    >>> clf.save("films.safetensors")
    PosixPath('films.safetensors')
    >>> from rnnlab.deploy.engines import load
    >>> predictor = load("films.safetensors", engine="onnx")  # what rnnlab.load does
    >>> predictor.predict_proba(["A quiet, lovely film."]).shape
    (1, 2)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from rnnlab.errors import ConfigError, MissingDependencyError
from rnnlab.tasks.base import Predictor, get_task, load_predictor

__all__ = ["ENGINES", "BatchEngine", "OnnxEngine", "TagOnnxEngine", "load", "make_engine"]

ENGINES: tuple[str, ...] = ("torch", "onnx")


class BatchEngine(Protocol):
    """Probabilities for batches with ``ids`` (B, T), ``lengths`` (B,) and row ``index``."""

    def predict_batches(self, batches: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]: ...


def _session(model_bytes: bytes, threads: int | None) -> Any:
    """A CPU onnxruntime session with ``threads`` intra-op threads (default: torch's)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingDependencyError(
            "engine='onnx' needs onnxruntime; install it with pip install 'rnnlab[onnx]'."
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


class OnnxEngine:
    """An onnxruntime session over an exported graph, with the batch interface of the model.

    Args:
        model_bytes: the serialised ONNX graph (inputs ``ids``, ``lengths``; output
            ``probabilities``).
        num_outputs: K, the number of labels (shapes the empty result).
        threads: intra-op threads; default torch's current setting, for a fair comparison.
    """

    def __init__(self, model_bytes: bytes, num_outputs: int, threads: int | None = None) -> None:
        self.session = _session(model_bytes, threads)
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


class TagOnnxEngine:
    """A tagger's exported graph on onnxruntime, with the batch interface of the tagger
    (:meth:`rnnlab.tasks.tag.model.RecurrentTagger.predict_batch`).

    Args:
        model_bytes: the serialised graph of :mod:`rnnlab.tasks.tag.export`.
        threads: intra-op threads; default torch's current setting.
    """

    def __init__(self, model_bytes: bytes, threads: int | None = None) -> None:
        self.session = _session(model_bytes, threads)
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tags_output = [o.name for o in self.session.get_outputs()].index("tags")

    def predict_batch(self, batch: Any) -> list[list[int]]:
        """Best tag ids of each sentence of a :class:`~rnnlab.tasks.tag.data.TagBatch`."""
        feeds = {name: getattr(batch, name).cpu().numpy() for name in self.inputs}
        tags = self.session.run(None, feeds)[self.tags_output]  # (B, T), -1 past each length
        lengths = batch.lengths.tolist()
        return [row[:n] for row, n in zip(tags.tolist(), lengths, strict=True)]


def make_engine(name: str, model: nn.Module, task: str) -> Any:
    """The engine called ``name`` for a ``task`` model (``"torch"`` returns the model itself):
    the task's own ``onnx_engine`` where it names one, else a :class:`BatchEngine` for a
    classifier, a :class:`TagOnnxEngine` for a tagger."""
    if name not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}.")
    if name == "torch":
        return model
    own = get_task(task).door("onnx_engine")
    if own is not None:
        return own(model)
    from rnnlab.deploy.onnx import onnx_model_bytes

    graph = onnx_model_bytes(model, task)
    if hasattr(model, "predict_batch"):  # a model that decodes per sequence (the tagger)
        return TagOnnxEngine(graph)
    return OnnxEngine(graph, num_outputs=len(model.labels))


def load(path: Any, device: Any = "cpu", engine: str = "torch") -> Predictor:
    """A run directory or model file as its task's predictor (found through the task
    registry), its batches run by ``engine``: ``"torch"`` or ``"onnx"`` (onnxruntime)."""
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}.")
    predictor = load_predictor(path, device=device)
    if engine not in predictor.engines:
        raise ConfigError(
            f"engine={engine!r}: a '{predictor.task}' model runs on "
            f"{' or '.join(predictor.engines)} only; use engine='torch' (rnnlab export RUN "
            "--onnx writes its graph for use outside rnnlab)."
        )
    if engine != "torch":
        predictor.use_engine(make_engine(engine, predictor.model.eval(), predictor.task))
    return predictor
