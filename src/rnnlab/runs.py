"""The model file and the run directory: save a trained model as one file, load a Predictor.

The model file is a safetensors file: the weights as tensors, and everything else needed to
use them — task, model configuration, tokenizer settings, vocabulary, label set,
preprocessing (maximum length, truncation side), format version — as JSON strings in its
metadata header. Loading reads tensors and JSON only; nothing is ever unpickled, so a model
file from a stranger cannot run code. A run directory holds the model file as
``model.safetensors`` beside ``config.toml``, ``metrics.json``, ``history.jsonl``, …
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from safetensors import safe_open
from safetensors.torch import save as safetensors_save

from rnnlab import __version__
from rnnlab.config import ModelConfig
from rnnlab.errors import DataError, RnnlabFileNotFoundError
from rnnlab.fileio import atomic_write_bytes
from rnnlab.text.tokenize import Tokenizer
from rnnlab.text.vocab import Vocab

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MODEL_FILE",
    "load_model_file",
    "resolve_model_path",
    "save_model_file",
]

FORMAT = "rnnlab-model"
FORMAT_VERSION = 1
MODEL_FILE = "model.safetensors"


def save_model_file(
    path: str | Path,
    state_dict: dict[str, Any],
    *,
    task: str,
    model_config: ModelConfig,
    tokenizer: Tokenizer,
    vocab: Vocab,
    labels: list,
    preprocessing: dict[str, Any],
) -> Path:
    """Write weights and everything needed to use them to one safetensors file, atomically."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in state_dict.items()}
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "rnnlab_version": __version__,
        "task": task,
        "model_config": json.dumps(asdict(model_config)),
        "tokenizer": json.dumps(tokenizer.to_dict(), ensure_ascii=False),
        "vocab": json.dumps(vocab.to_dict(), ensure_ascii=False),
        "labels": json.dumps(labels, ensure_ascii=False),
        "preprocessing": json.dumps(preprocessing),
    }
    path = Path(path)
    atomic_write_bytes(path, safetensors_save(tensors, metadata=metadata))
    return path


def resolve_model_path(path: str | Path) -> Path:
    """A run directory → its model file; a file → itself. Clear error if neither exists."""
    path = Path(path)
    if path.is_dir():
        candidate = path / MODEL_FILE
        if not candidate.is_file():
            raise RnnlabFileNotFoundError(
                f"Run directory {path} has no {MODEL_FILE}; train into it first "
                f"(rnnlab train classify --out {path}) or pass the model file itself."
            )
        return candidate
    if not path.is_file():
        raise RnnlabFileNotFoundError(f"No run directory or model file at {path}; check the path.")
    return path


def load_model_file(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read (tensors, decoded metadata) from a model file; never unpickles."""
    path = resolve_model_path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        raise DataError(
            f"{path} is not a readable safetensors model file ({exc}); "
            "pass a file written by rnnlab."
        ) from exc
    if raw.get("format") != FORMAT:
        raise DataError(
            f"{path} is a safetensors file but not an rnnlab model (no '{FORMAT}' tag)."
        )
    try:
        version = int(raw.get("format_version", "0"))
        if version > FORMAT_VERSION:
            raise DataError(
                f"{path} has model format version {version}, newer than this rnnlab reads "
                f"({FORMAT_VERSION}); upgrade rnnlab."
            )
        meta: dict[str, Any] = {"task": raw["task"], "rnnlab_version": raw.get("rnnlab_version")}
        for key in ("model_config", "tokenizer", "vocab", "labels", "preprocessing"):
            meta[key] = json.loads(raw[key])
    except (KeyError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise DataError(
            f"{path} is an rnnlab model file with damaged metadata ({what}); "
            "save the model again or use an intact copy."
        ) from None
    return tensors, meta
