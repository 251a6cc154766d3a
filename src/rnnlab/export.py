"""ONNX export: token ids and lengths in, probabilities out, for any batch size and length.

The exported graph of a classifier::

    ids      int64  (batch, time)   token ids, each row padded with the vocabulary's pad id
    lengths  int64  (batch,)        valid tokens per row, 1 ≤ length ≤ time
        │
        ▼  embedding → recurrent layers → head   (the trained weights)
    probabilities  float32  (batch, K)          one distribution per text

A tagger's graph (:mod:`rnnlab.tasks.tag_export`) adds the character inputs and returns the
emission scores (batch, time, K) and the decoded tags (batch, time); :func:`viterbi_decode`
is the same decoding in a few lines of numpy, for consumers that decode themselves.

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

Each task registers how its model becomes a graph, and what its metadata holds, with
:func:`register_graph`.

Example::

    >>> from rnnlab.export import export_onnx
    >>> result = export_onnx("runs/imdb", "imdb.onnx")
    >>> result.max_abs_diff < 1e-4
    True
"""

from __future__ import annotations

import contextlib
import copy
import importlib
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
    "padded_example",
    "read_onnx_metadata",
    "register_graph",
    "viterbi_decode",
]

METADATA_KEY = "rnnlab"
METADATA_FORMAT = "rnnlab-onnx"
OPSET = 17
TOLERANCE = 1e-4


Axes = tuple[str | None, ...]


@dataclass(frozen=True)
class ExportGraph:
    """A model as an exportable function of named inputs to named outputs.

    Attributes:
        module: ``forward(*inputs)`` with the inputs in the order of ``inputs``; returns one
            tensor, or a tuple in the order of ``outputs``.
        inputs: input name → its axes' names (every input axis varies from call to call).
        outputs: output name → its axes' names, ``None`` for a fixed axis (the K labels).
        example: ``example(batch, steps, seed)`` → one padded input batch (a tuple in the
            order of ``inputs``) whose longest row has ``steps`` tokens; it traces the graph
            and checks it on other shapes.
    """

    module: nn.Module
    inputs: dict[str, Axes]
    outputs: dict[str, Axes]
    example: Callable[[int, int, int], tuple[Tensor, ...]]


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and how closely onnxruntime matched PyTorch on unseen shapes
    (largest difference over the ``outputs`` compared)."""

    path: Path
    sidecar: Path | None
    max_abs_diff: float
    checked_shape: tuple[int, int]
    outputs: tuple[str, ...] = ("probabilities",)


class _Probabilities(nn.Module):
    """softmax over the last axis of a model's ``forward(ids, lengths)`` logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        return torch.softmax(self.model(ids, lengths), dim=-1)


def _classifier_graph(model: nn.Module) -> ExportGraph:
    vocab_size = _vocab_size(model)
    return ExportGraph(
        _Probabilities(model).eval(),
        inputs={"ids": ("batch", "time"), "lengths": ("batch",)},
        outputs={"probabilities": ("batch", None)},
        example=lambda batch, steps, seed: padded_example(vocab_size, batch, steps, seed),
    )


def _classifier_metadata(predictor: Any) -> dict[str, Any]:
    tokenizer = predictor.tokenizer.to_dict()
    pattern = _tokenizer_pattern(tokenizer)
    return {
        "labels": list(predictor.labels),
        "tokenizer": tokenizer if pattern is None else {**tokenizer, **pattern},
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
            "probabilities": "float32 (batch, K): label probabilities, column k is labels[k]"
        },
    }


GraphBuilder = Callable[[nn.Module], ExportGraph]
MetadataBuilder = Callable[[Any], dict[str, Any]]
_GRAPHS: dict[str, tuple[GraphBuilder, MetadataBuilder]] = {
    "classify": (_classifier_graph, _classifier_metadata)
}
_BUILT_IN = {"tag": "rnnlab.tasks.tag_export"}  # registered when first asked for


def register_graph(task: str, builder: GraphBuilder, metadata: MetadataBuilder) -> None:
    """Make ``task``'s models exportable.

    Args:
        task: the task name of the model file (``"classify"``, ``"tag"``).
        builder: ``builder(model)`` → the model's :class:`ExportGraph`.
        metadata: ``metadata(predictor)`` → what a consumer needs beyond the graph (labels,
            tokenisation, vocabularies, and a description of every input and output);
            stored in the ONNX file and the sidecar under the common header.
    """
    _GRAPHS[task] = (builder, metadata)


def _registered(task: str) -> tuple[GraphBuilder, MetadataBuilder]:
    if task not in _GRAPHS and task in _BUILT_IN:
        importlib.import_module(_BUILT_IN[task])
    if task not in _GRAPHS:
        raise ConfigError(
            f"ONNX export: a '{task}' model has no exportable graph; export works for "
            f"{', '.join(sorted({*_GRAPHS, *_BUILT_IN}))} runs."
        )
    return _GRAPHS[task]


def graph_for(model: nn.Module, task: str) -> ExportGraph:
    """The exportable graph of a ``task`` model (clear error for a task with none)."""
    builder, _ = _registered(task)
    if any(p.device.type != "cpu" for p in model.parameters()):
        model = copy.deepcopy(model).cpu()  # leave the caller's model on its device
    graph = builder(model.eval())
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


def padded_example(vocab_size: int, batch: int, steps: int, seed: int) -> tuple[Tensor, Tensor]:
    """ids (batch, steps) and lengths (batch,): a padded batch of random ids ≥ 1 with random
    lengths, the first row ``steps`` long (the second 3 long at the tracing shape)."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, steps + 1, (batch,), generator=generator)
    lengths[0] = steps
    ids = torch.randint(1, max(vocab_size, 2), (batch, steps), generator=generator)
    if batch == 2 and steps == 5:  # the tracing shape: two rows of different lengths
        lengths[1] = 3
    ids = ids.masked_fill(torch.arange(steps).unsqueeze(0) >= lengths.unsqueeze(1), 0)
    return ids, lengths


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


def _vocab_size(model: nn.Module) -> int:
    embeddings = [m for m in model.modules() if isinstance(m, nn.Embedding)]
    if not embeddings:
        raise ConfigError("ONNX export: the model has no token embedding to take ids.")
    return embeddings[0].num_embeddings


def export_metadata(predictor: Any) -> dict[str, Any]:
    """What a consumer in any language needs to tokenise, encode and read the outputs."""
    _, metadata = _registered(predictor.task)
    return {
        "format": METADATA_FORMAT,
        "format_version": 1,
        "rnnlab_version": __version__,
        "task": predictor.task,
        **metadata(predictor),
    }


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
    _require_onnx()
    predictor = _load_predictor(source)
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


def viterbi_decode(
    emissions: np.ndarray,
    lengths: np.ndarray,
    transitions: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> list[list[int]]:
    r"""The best tag path of each sentence under a linear-chain CRF, in plain numpy.

    The same decoding as :meth:`rnnlab.nn.CRF.decode` and as a tagger graph's ``tags``
    output, for a consumer that decodes the graph's ``emissions`` itself (e.g. to forbid
    transitions); it needs nothing but numpy and the ``crf`` scores of the export metadata.

    .. math::
        \delta_1(j) = \pi^{start}_j + E_{1,j},\qquad
        \delta_t(j) = \max_i\,(\delta_{t-1}(i) + A_{ij}) + E_{t,j},\qquad
        y_n = \arg\max_j\,(\delta_n(j) + \pi^{end}_j)

    then back through the argmax pointers.

    Args:
        emissions: (B, T, K) emission scores (the graph's ``emissions`` output).
        lengths: (B,) valid tokens per sentence, 1 ≤ length ≤ T.
        transitions: (K, K), ``transitions[i, j]`` scores tag i followed by tag j.
        start: (K,) scores of the first tag; end: (K,) scores of the last tag.

    Returns:
        one list of ``lengths[b]`` tag ids per sentence.

    Example::

        >>> crf = meta["crf"]   # the sidecar JSON of a CRF tagger
        >>> viterbi_decode(emissions, lengths, np.array(crf["transitions"]),
        ...                np.array(crf["start_transitions"]), np.array(crf["end_transitions"]))
    """
    paths = []
    for scores, n in zip(np.asarray(emissions), np.asarray(lengths).tolist(), strict=True):
        delta = start + scores[0]  # (K,)
        pointers = []
        for t in range(1, n):
            candidates = delta[:, None] + transitions  # (K_prev, K)
            pointers.append(candidates.argmax(axis=0))
            delta = candidates.max(axis=0) + scores[t]
        tag = int((delta + end).argmax())
        path = [tag]
        for back in reversed(pointers):
            tag = int(back[tag])
            path.append(tag)
        paths.append(path[::-1])
    return paths
