"""ONNX export: token ids and lengths in, probabilities out, for any batch size and length.

The exported graph of a classifier::

    ids      int64  (batch, time)   token ids, each row padded with the vocabulary's pad id
    lengths  int64  (batch,)        valid tokens per row, 1 ≤ length ≤ time
        │
        ▼  embedding → recurrent layers → head   (the trained weights)
    probabilities  float32  (batch, K)          one distribution per text

A tagger's graph (:mod:`rnnlab.tasks.tag.export`) adds the character inputs and returns the
emission scores (batch, time, K) and the decoded tags (batch, time);
:func:`rnnlab.nn.crf.viterbi_decode` is the same decoding, for consumers that decode the
emissions themselves.

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

Each task's registry entry (:mod:`rnnlab.tasks.base`) says how its model becomes a graph
(``export_graph``, building a :class:`~rnnlab.tasks.graph.ExportGraph`) and what its
metadata holds (``export_metadata``). A task whose export is more than one graph (a
translation model: an encoder graph and a one-step decoder graph, the search loop outside
them) names ``export_graphs`` instead: it builds and checks its graphs itself, and
:func:`export_onnx` writes them into the directory ``--onnx`` names, each file with the
metadata and the sidecar ``model.json`` beside them.

Example::

    >>> import rnnlab
    >>> texts = ["a wonderful, moving film", "dull and far too long", "lovely acting", "dull plot"]
    >>> labels = ["pos", "neg", "pos", "neg"]
    >>> clf = rnnlab.TextClassifier(epochs=1, hidden_size=8).fit(texts * 5, labels * 5)
    >>> clf.save("films.safetensors")
    PosixPath('films.safetensors')
    >>> from rnnlab.deploy.onnx import export_onnx
    >>> result = export_onnx("films.safetensors", "films.onnx")  # or a run directory
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab import __version__
from rnnlab.errors import ConfigError, DataError, MissingDependencyError
from rnnlab.fileio import atomic_write_bytes, atomic_write_json
from rnnlab.tasks.base import get_task, load_predictor, task_names
from rnnlab.tasks.graph import ExportGraph

__all__ = [
    "ExportResult",
    "check_onnx",
    "export_metadata",
    "export_onnx",
    "graph_for",
    "onnx_model_bytes",
    "read_onnx_metadata",
]

METADATA_KEY = "rnnlab"
METADATA_FORMAT = "rnnlab-onnx"
OPSET = 17
TOLERANCE = 1e-4


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and how closely onnxruntime matched PyTorch on unseen shapes
    (largest difference over the ``outputs`` compared)."""

    path: Path
    sidecar: Path | None
    max_abs_diff: float
    checked_shape: tuple[int, int]
    outputs: tuple[str, ...] = ("probabilities",)
    files: tuple[Path, ...] = ()  # the graphs written, for a task whose export is several
    compared: str = ""  # what was compared, in words, where the task's check says


def graph_for(model: nn.Module, task: str) -> ExportGraph:
    """The exportable graph of a ``task`` model, from the task's registry entry (a clear
    error for a task with none)."""
    builder = get_task(task).export_graph
    if builder is None:
        _refuse(task)
    if any(p.device.type != "cpu" for p in model.parameters()):
        model = copy.deepcopy(model).cpu()  # leave the caller's model on its device
    graph = builder(model.eval())
    graph.module.eval()  # the exporter restores the wrapper's mode onto the model after tracing
    return graph


def _exportable(name: str) -> bool:
    task = get_task(name)
    return task.export_graph is not None or task.export_graphs is not None


def _refuse(task: str) -> None:
    """One sentence: a ``task`` model has no ONNX export, naming the tasks that have one."""
    exportable = [name for name in task_names() if _exportable(name)]
    raise ConfigError(
        f"ONNX export: a '{task}' model has no exportable graph; export works for "
        f"{', '.join(exportable)} runs."
    )


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


def onnx_model_bytes(model: nn.Module, task: str, *, opset: int = OPSET) -> bytes:
    """The serialised ONNX graph of ``model`` (no metadata), batch and time axes dynamic."""
    _require_onnx()
    return _graph_bytes(graph_for(model, task), opset)


def _graph_bytes(graph: ExportGraph, opset: int) -> bytes:
    """``graph`` traced on its example batch and serialised, batch and time axes dynamic."""
    axes = {**graph.inputs, **graph.outputs}
    buffer = io.BytesIO()
    with _quiet_tracing(), torch.no_grad():
        torch.onnx.export(
            graph.module,
            graph.example(2, 5, 0),
            buffer,
            input_names=list(graph.inputs),
            output_names=list(graph.outputs),
            dynamic_axes={
                name: {i: axis for i, axis in enumerate(names) if axis is not None}
                for name, names in axes.items()
            },
            opset_version=opset,
            dynamo=False,
        )
    return buffer.getvalue()


def export_metadata(predictor: Any) -> dict[str, Any]:
    """What a consumer in any language needs to tokenise, encode and read the outputs."""
    metadata = get_task(predictor.task).export_metadata
    assert metadata is not None  # graph_for refused tasks without an export first
    return {
        "format": METADATA_FORMAT,
        "format_version": 1,
        "rnnlab_version": __version__,
        "task": predictor.task,
        **metadata(predictor),
    }


def _load_predictor(source: Any, device: str = "cpu") -> Any:
    if isinstance(source, (str, os.PathLike)):
        return load_predictor(source, device=device)
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


def check_onnx(model_bytes: bytes, graph: ExportGraph, *, batch: int = 7, steps: int = 13) -> float:
    """Largest |onnxruntime − PyTorch| over all outputs (an integer output such as decoded
    tags counts its largest id difference) on a padded batch whose shape and lengths differ
    from the tracing example's."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    inputs = graph.example(batch, steps, 1)
    got = session.run(None, {n: x.numpy() for n, x in zip(graph.inputs, inputs, strict=True)})
    with torch.no_grad():
        expected = graph.module(*inputs)
    if isinstance(expected, Tensor):
        expected = (expected,)
    return max(
        float(np.abs(g.astype(np.float64) - e.numpy().astype(np.float64)).max())
        for g, e in zip(got, expected, strict=True)
    )


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
            For a task whose export is several graphs (``Task.export_graphs``), the
            directory they are written into, the sidecar ``model.json`` beside them.
        opset: ONNX opset version.
        sidecar: also write the metadata as a JSON file beside the graph.
        tolerance: the largest probability difference onnxruntime may show against PyTorch
            on a check batch of unseen lengths; a larger one is an error and nothing is
            written.

    Returns:
        :class:`ExportResult` with the paths and the measured difference.
    """
    path = Path(path)
    predictor = _load_predictor(source)
    several = get_task(predictor.task).door("export_graphs")
    if several is not None:
        return _export_several(several, predictor, source, path, opset, sidecar, tolerance)
    if path.suffix.lower() != ".onnx":
        raise ConfigError(
            f"--onnx {path}: the file name should end in .onnx (got "
            f"{path.suffix or 'no suffix'!r}); for example --onnx model.onnx."
        )
    _require_onnx()
    graph = graph_for(predictor.model, predictor.task)
    model_bytes = _graph_bytes(graph, opset)
    batch, steps = 7, 13
    diff = check_onnx(model_bytes, graph, batch=batch, steps=steps)
    if not diff <= tolerance:
        raise DataError(
            f"ONNX export of {source}: onnxruntime differs from PyTorch by {diff:.2e} on a "
            f"padded check batch ({', '.join(graph.outputs)}; tolerance {tolerance:.0e}); "
            "nothing was written. Report this with the model's config.toml."
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
    return ExportResult(path, side, diff, (batch, steps), tuple(graph.outputs))


def _export_several(
    export_graphs: Any,
    predictor: Any,
    source: Any,
    directory: Path,
    opset: int,
    sidecar: bool,
    tolerance: float,
) -> ExportResult:
    """Write the graphs of ``export_graphs(predictor, opset)`` into ``directory``, each with
    the metadata; nothing is written when onnxruntime differs from PyTorch beyond
    ``tolerance`` on the task's check, and a failed write leaves no graph behind."""
    if directory.suffix.lower() == ".onnx" or directory.is_file():
        raise ConfigError(
            f"--onnx {directory}: a '{predictor.task}' model exports several graphs, so "
            f"--onnx names a directory to write them into, for example --onnx "
            f"{directory.with_suffix('')}-onnx."
        )
    _require_onnx()
    graphs = export_graphs(predictor, opset)
    diff = float(graphs.max_abs_diff)
    if not diff <= tolerance:
        raise DataError(
            f"ONNX export of {source}: onnxruntime differs from PyTorch by {diff:.2e} on the "
            f"check ({graphs.compared}; tolerance {tolerance:.0e}); nothing was written. "
            "Report this with the model's config.toml."
        )
    metadata = export_metadata(predictor)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for name, model_bytes in graphs.files.items():
            atomic_write_bytes(directory / name, _with_metadata(model_bytes, metadata))
            written.append(directory / name)
        side = directory / "model.json" if sidecar else None
        if side is not None:
            atomic_write_json(side, metadata, indent=1)
    except BaseException:
        for file in written:
            file.unlink(missing_ok=True)
        raise
    return ExportResult(
        directory,
        side,
        diff,
        tuple(graphs.checked_shape),
        tuple(graphs.files),
        tuple(written),
        graphs.compared,
    )


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
