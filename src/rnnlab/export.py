"""ONNX export: token ids and lengths in, probabilities out, for any batch size and length.

The exported graph::

    ids      int64  (batch, time)   token ids, each row padded with the vocabulary's pad id
    lengths  int64  (batch,)        valid tokens per row, 1 ≤ length ≤ time
        │
        ▼  embedding → recurrent layers → head   (the trained weights)
    probabilities  float32  (batch, K)          classify: one distribution per text
                            (batch, time, K)    tag: one distribution per token (emissions)

PyTorch cannot export packed sequences with dynamic shapes (pytorch#26462): the traced
``pack_padded_sequence`` bakes the example's lengths into the graph. While a graph is traced,
``rnnlab.nn``'s layers run :func:`rnnlab.nn.fused.padded_per_layer` instead — each layer and
direction over the padded batch, the backward direction reversed within each row's own
length, final states gathered at each row's last valid step — so the graph is exact for
lengths it never saw. :func:`export_onnx` checks that on a padded batch of other lengths and
sizes than the tracing example before it writes anything.

Everything a consumer needs to turn text into ``ids`` travels with the graph: the JSON
document of :func:`export_metadata` (task, labels, tokenizer and its pattern, vocabulary,
maximum length, truncation side, the graph's inputs and outputs) is stored in the ONNX
file's ``metadata_props`` under the key ``rnnlab`` and written beside it as a sidecar
``model.json``, readable without an ONNX library.

Each task registers how its model becomes a graph with :func:`register_graph`; a task whose
predictor exposes ``task``, ``model``, ``tokenizer``, ``vocab``, ``labels``, ``max_len`` and
``truncate`` exports with no other change.

Example::

    >>> from rnnlab.export import export_onnx
    >>> result = export_onnx("runs/imdb", "imdb.onnx")
    >>> result.max_abs_diff < 1e-4
    True
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab import __version__
from rnnlab.errors import ConfigError, DataError, MissingDependencyError
from rnnlab.fileio import atomic_write_bytes, atomic_write_json

__all__ = [
    "ExportGraph",
    "ExportResult",
    "check_onnx",
    "export_metadata",
    "export_onnx",
    "graph_for",
    "onnx_model_bytes",
    "read_onnx_metadata",
    "register_graph",
]

METADATA_KEY = "rnnlab"
METADATA_FORMAT = "rnnlab-onnx"
OPSET = 17
TOLERANCE = 1e-4


@dataclass(frozen=True)
class ExportGraph:
    """A model as an exportable function ``(ids, lengths) → probabilities``.

    Attributes:
        module: maps ids (B, T) and lengths (B,) to probabilities.
        per_token: True when the output is (B, T, K) (tagging), False for (B, K).
    """

    module: nn.Module
    per_token: bool


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and how closely onnxruntime matched PyTorch on unseen shapes."""

    path: Path
    sidecar: Path | None
    max_abs_diff: float
    checked_shape: tuple[int, int]


class _Probabilities(nn.Module):
    """softmax over the last axis of a model's ``forward(ids, lengths)`` logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        return torch.softmax(self.model(ids, lengths), dim=-1)


def _classifier_graph(model: nn.Module) -> ExportGraph:
    return ExportGraph(_Probabilities(model).eval(), per_token=False)


_GRAPHS: dict[str, Callable[[nn.Module], ExportGraph]] = {"classify": _classifier_graph}


def register_graph(task: str, builder: Callable[[nn.Module], ExportGraph]) -> None:
    """Make ``task``'s models exportable: ``builder(model)`` returns its :class:`ExportGraph`.

    A tagger registers a module that returns per-token probabilities (B, T, K) computed
    from its emission scores, with ``per_token=True``.
    """
    _GRAPHS[task] = builder


def graph_for(model: nn.Module, task: str) -> ExportGraph:
    """The exportable graph of a ``task`` model (clear error for a task with none)."""
    if task not in _GRAPHS:
        raise ConfigError(
            f"ONNX export: a '{task}' model has no exportable graph; export works for "
            f"{', '.join(sorted(_GRAPHS))} runs."
        )
    if any(p.device.type != "cpu" for p in model.parameters()):
        model = copy.deepcopy(model).cpu()  # leave the caller's model on its device
    graph = _GRAPHS[task](model.eval())
    graph.module.eval()  # the exporter restores the wrapper's mode onto the model after tracing
    return graph


def _require_onnx() -> None:
    for name in ("onnx", "onnxruntime"):
        try:
            __import__(name)
        except ImportError:
            raise MissingDependencyError(
                f"ONNX export needs the '{name}' package; install it with "
                "pip install 'rnnlab[onnx]'."
            ) from None


@contextlib.contextmanager
def _quiet_tracing() -> Iterator[None]:
    """Silence the tracer's warnings: the graph is checked numerically instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _example(vocab_size: int, batch: int, steps: int, seed: int) -> tuple[Tensor, Tensor]:
    """A padded batch with distinct lengths (the longest equal to ``steps``), ids ≥ 1."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, steps + 1, (batch,), generator=generator)
    lengths[0] = steps
    ids = torch.randint(1, max(vocab_size, 2), (batch, steps), generator=generator)
    ids = ids.masked_fill(torch.arange(steps).unsqueeze(0) >= lengths.unsqueeze(1), 0)
    return ids, lengths


def onnx_model_bytes(model: nn.Module, task: str, *, opset: int = OPSET) -> bytes:
    """The serialised ONNX graph of ``model`` (no metadata), batch and time axes dynamic."""
    _require_onnx()
    graph = graph_for(model, task)
    vocab_size = _vocab_size(model)
    ids, lengths = _example(vocab_size, batch=2, steps=5, seed=0)
    lengths[1] = 3
    output_axes = {0: "batch", 1: "time"} if graph.per_token else {0: "batch"}
    buffer = io.BytesIO()
    with _quiet_tracing(), torch.no_grad():
        torch.onnx.export(
            graph.module,
            (ids, lengths),
            buffer,
            input_names=["ids", "lengths"],
            output_names=["probabilities"],
            dynamic_axes={
                "ids": {0: "batch", 1: "time"},
                "lengths": {0: "batch"},
                "probabilities": output_axes,
            },
            opset_version=opset,
            dynamo=False,
        )
    return buffer.getvalue()


def _vocab_size(model: nn.Module) -> int:
    embeddings = [m for m in model.modules() if isinstance(m, nn.Embedding)]
    if not embeddings:
        raise ConfigError("ONNX export: the model has no token embedding to take ids.")
    return embeddings[0].num_embeddings


def export_metadata(predictor: Any) -> dict[str, Any]:
    """What a consumer in any language needs to tokenise, encode and read the outputs."""
    tokenizer = predictor.tokenizer.to_dict()
    per_token = graph_for(predictor.model, predictor.task).per_token
    meta: dict[str, Any] = {
        "format": METADATA_FORMAT,
        "format_version": 1,
        "rnnlab_version": __version__,
        "task": predictor.task,
        "labels": list(predictor.labels),
        "tokenizer": tokenizer,
        "vocab": predictor.vocab.to_dict(),
        "preprocessing": {
            "max_len": predictor.max_len,
            "truncate": predictor.truncate,
            "pad_id": predictor.vocab.pad_id,
            "unk_id": predictor.vocab.unk_id,
            "empty_text": "a text with no known tokens is encoded as [unk_id]",
        },
        "inputs": {
            "ids": "int64 (batch, time): token ids; row i holds lengths[i] ids, then pad_id",
            "lengths": "int64 (batch,): valid tokens per row, 1 <= length <= time",
        },
        "outputs": {
            "probabilities": (
                "float32 (batch, time, K): per-token label probabilities; rows past a "
                "sequence's length are padding"
                if per_token
                else "float32 (batch, K): label probabilities, column k is labels[k]"
            )
        },
    }
    pattern = _tokenizer_pattern(tokenizer)
    if pattern is not None:
        meta["tokenizer"] = {**tokenizer, **pattern}
    return meta


def _tokenizer_pattern(tokenizer: dict[str, Any]) -> dict[str, Any] | None:
    """For the English tokenizer, the exact steps and regular expression it applies."""
    if tokenizer.get("name") != "english":
        return None
    from rnnlab.text.tokenize import _BREAK, _english_pattern

    options = tokenizer.get("options", {})
    regex = _english_pattern(
        bool(options.get("keep_digits", False)), bool(options.get("keep_punctuation", False))
    )
    return {
        "steps": [
            "lowercase",
            "replace U+2018 and U+2019 with '",
            f"replace matches of {_BREAK.pattern} (case-insensitive) with a space",
            *(
                []
                if options.get("keep_digits", False)
                else ["replace Unicode numbers that are not decimal digits (e.g. '½') with a space"]
            ),
            "tokens = all non-overlapping matches of pattern (Unicode-aware)",
        ],
        "pattern": regex.pattern,
    }


def _load_predictor(source: Any, device: str = "cpu") -> Any:
    if isinstance(source, (str, os.PathLike)):
        from rnnlab.predictor import load

        return load(source, device=device)
    return source


def _with_metadata(model_bytes: bytes, metadata: dict[str, Any]) -> bytes:
    import onnx

    proto = onnx.load_from_string(model_bytes)
    entry = proto.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = json.dumps(metadata, ensure_ascii=False)
    proto.producer_name = "rnnlab"
    proto.producer_version = __version__
    return proto.SerializeToString()


def check_onnx(
    model_bytes: bytes, module: nn.Module, vocab_size: int, *, batch: int = 7, steps: int = 13
) -> float:
    """Largest |onnxruntime − PyTorch| on a padded batch whose shape and lengths differ
    from the tracing example's."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    ids, lengths = _example(vocab_size, batch, steps, seed=1)
    (got,) = session.run(None, {"ids": ids.numpy(), "lengths": lengths.numpy()})
    with torch.no_grad():
        expected = module(ids, lengths).numpy()
    return float(np.abs(got - expected).max())


def export_onnx(
    source: Any,
    path: str | os.PathLike[str],
    *,
    opset: int = OPSET,
    sidecar: bool = True,
    tolerance: float = TOLERANCE,
) -> ExportResult:
    """Export a run (directory, model file or predictor) to an ONNX file, checked and atomic.

    Args:
        source: a run directory, a model file, or a loaded predictor.
        path: the ``.onnx`` file to write; the sidecar goes to ``path`` with suffix ``.json``.
        opset: ONNX opset version.
        sidecar: also write the metadata as a JSON file beside the graph.
        tolerance: the largest probability difference onnxruntime may show against PyTorch
            on a check batch of unseen lengths; a larger one is an error and nothing is
            written.

    Returns:
        :class:`ExportResult` with the paths and the measured difference.
    """
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        raise ConfigError(
            f"--onnx {path}: the file name should end in .onnx (got "
            f"{path.suffix or 'no suffix'!r}); for example --onnx model.onnx."
        )
    predictor = _load_predictor(source)
    model = predictor.model
    graph = graph_for(model, predictor.task)
    model_bytes = onnx_model_bytes(model, predictor.task, opset=opset)
    batch, steps = 7, 13
    diff = check_onnx(model_bytes, graph.module, _vocab_size(model), batch=batch, steps=steps)
    if not diff <= tolerance:
        raise DataError(
            f"ONNX export of {source}: onnxruntime differs from PyTorch by {diff:.2e} on a "
            f"padded check batch (tolerance {tolerance:.0e}); nothing was written. Report this "
            "with the model's config.toml."
        )
    metadata = export_metadata(predictor)
    side = path.with_suffix(".json") if sidecar else None
    atomic_write_bytes(path, _with_metadata(model_bytes, metadata))
    if side is not None:
        try:
            atomic_write_json(side, metadata, indent=1)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return ExportResult(path, side, diff, (batch, steps))


def read_onnx_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The rnnlab metadata stored in an exported ONNX file."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    for entry in proto.metadata_props:
        if entry.key == METADATA_KEY:
            return json.loads(entry.value)
    raise DataError(
        f"{path}: an ONNX file without rnnlab metadata; export it with rnnlab export RUN --onnx."
    )
