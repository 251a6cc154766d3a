"""The model file and the run directory: save a trained model as one file, read it back.

The model file is a safetensors file: the weights as tensors, and everything else needed to
use them — task, model configuration, tokenizer settings, vocabulary, label set,
preprocessing (maximum length, truncation side), format version — as JSON strings in its
metadata header. Loading reads tensors and JSON only; nothing is ever unpickled, so a model
file from a stranger cannot run code. A run directory holds the model file as
``model.safetensors`` beside ``config.toml``, ``metrics.json``, ``history.jsonl``, …
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any

from safetensors import safe_open
from safetensors.torch import save as safetensors_save

from rnnlab import __version__
from rnnlab.config import RunConfig
from rnnlab.errors import (
    ConfigError,
    DataError,
    RnnlabError,
    RnnlabFileNotFoundError,
    WriteError,
)
from rnnlab.fileio import atomic_write_bytes, atomic_write_text, make_dir

__all__ = [
    "CONFIG_FILE",
    "EVALUATIONS_DIR",
    "FORMAT",
    "FORMAT_VERSION",
    "MODEL_FILE",
    "check_run_target",
    "evaluation_dir",
    "evaluation_name",
    "load_model_file",
    "model_task",
    "read_run_config",
    "rebuilding",
    "replacing_run",
    "resolve_model_path",
    "run_contents",
    "save_model_file",
    "training_run",
]

FORMAT = "rnnlab-model"
FORMAT_VERSION = 1
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.toml"
EVALUATIONS_DIR = "evaluations"


def save_model_file(
    path: str | Path,
    state_dict: dict[str, Any],
    *,
    task: str,
    model_config: Any,
    tokenizer: dict[str, Any],
    vocab: dict[str, Any],
    labels: list,
    preprocessing: dict[str, Any],
) -> Path:
    """Write weights and everything needed to use them to one safetensors file, atomically.

    ``model_config`` is the task's model config section (a dataclass); ``tokenizer`` and
    ``vocab`` their ``to_dict()`` forms; ``preprocessing`` whatever else the task's
    predictor needs (maximum length, character vocabulary, tag schemes, …).
    """
    tensors = {name: t.detach().cpu().contiguous() for name, t in state_dict.items()}
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "rnnlab_version": __version__,
        "task": task,
        "model_config": json.dumps(asdict(model_config)),
        "tokenizer": json.dumps(tokenizer, ensure_ascii=False),
        "vocab": json.dumps(vocab, ensure_ascii=False),
        "labels": json.dumps(labels, ensure_ascii=False),
        "preprocessing": json.dumps(preprocessing, ensure_ascii=False),
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
                f"(rnnlab train <task> --out {path}) or pass the model file itself."
            )
        return candidate
    if not path.is_file():
        raise RnnlabFileNotFoundError(f"No run directory or model file at {path}; check the path.")
    return path


def load_model_file(
    path: str | Path, *, weights: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read (tensors, decoded metadata) from a model file; never unpickles. With
    ``weights=False`` only the header is read and the tensors dict is empty."""
    path = resolve_model_path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = handle.metadata() or {}
            names = handle.keys() if weights else []
            tensors = {name: handle.get_tensor(name) for name in names}
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


@contextmanager
def rebuilding(path: str | Path, task: str) -> Iterator[None]:
    """Wrap the rebuilding of a model from a file's metadata and weights: what the config
    classes and ``load_state_dict`` raise for a damaged header or tensors (an unknown or
    missing key, a wrong type, a shape that does not fit) becomes one sentence naming the
    file, as every other fault of a model file does."""
    try:
        yield
    except (RnnlabError, AttributeError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else type(exc).__name__
        raise DataError(
            f"{path} is marked as a '{task}' model but its metadata or weights do not make "
            f"one ({reason}); save the model again or use an intact copy."
        ) from None


def model_task(path: str | Path) -> str | None:
    """The task (``"classify"``, ``"tag"``, …) a model file or run directory holds, read from
    its header only; ``None`` when it is not a readable rnnlab model file."""
    try:
        with safe_open(str(resolve_model_path(path)), framework="pt") as handle:
            meta = handle.metadata() or {}
    except Exception:  # missing or damaged files: load_model_file raises the explanatory error
        return None
    return meta.get("task") if meta.get("format") == FORMAT else None


def read_run_config(run_dir: str | Path, config_type: type[RunConfig]) -> RunConfig:
    """The run's ``config.toml`` as ``config_type``; the defaults when there is none (a bare
    model file, or a run directory copied without it)."""
    path = Path(run_dir) / CONFIG_FILE
    return config_type.from_toml(path) if path.is_file() else config_type()


@contextmanager
def training_run(run_dir: str | Path, config: RunConfig, *, resume: bool) -> Iterator[Path]:
    """Open ``run_dir`` for a training run: the start every task shares.

    With ``resume``, a ``config`` that differs from the run's ``config.toml`` is refused. The
    directory is created and the resolved configuration written first. Bad input found inside
    the block (an :class:`~rnnlab.errors.RnnlabError`, e.g. vectors of the wrong size) removes
    a directory this call created, so no half-made run is left; interruptions keep it, with
    its checkpoints, for ``--resume``.
    """
    run_dir = Path(run_dir)
    path = run_dir / CONFIG_FILE
    if resume and path.exists():
        previous = type(config).from_toml(path)
        if previous.to_dict() != config.to_dict():
            raise ConfigError(
                f"--resume: the configuration differs from the one in {path}; resume with the "
                "same settings or train into a new --out directory."
            )
    created = not run_dir.exists()
    make_dir(run_dir)
    atomic_write_text(path, config.to_toml())
    try:
        yield run_dir
    except RnnlabError:
        if created:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


# What marks a directory as holding a run: its files, or the runs of --seeds / --folds.
_RUN_MARKS = (CONFIG_FILE, MODEL_FILE, "checkpoints", "summary.json")
_REPEAT_RUNS = ("seed-*", "fold-*")


def run_contents(path: str | Path) -> list[str]:
    """What in the directory ``path`` marks a training run (``config.toml``, the model,
    ``checkpoints/``, the ``seed-*``/``fold-*`` runs of repeated training); ``[]`` when it
    holds none (absent, empty, or other files only)."""
    folder = Path(path)
    if not folder.is_dir():
        return []
    found = [name for name in _RUN_MARKS if (folder / name).exists()]
    for pattern in _REPEAT_RUNS:
        found += sorted(
            f"{run.name}/" for run in folder.glob(pattern) if (run / CONFIG_FILE).is_file()
        )
    return found


def check_run_target(out: str | Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse, in one sentence, to train into ``out`` when it already holds a run and neither
    ``resume`` (continue it) nor ``overwrite`` (replace it) was asked for, so that no run is
    lost to a repeated command; the two together are refused as well."""
    if resume and overwrite:
        raise ConfigError(
            f"--resume and --overwrite cannot be combined: --resume continues the run in {out}, "
            "--overwrite replaces it; pass one of them."
        )
    held = run_contents(out)
    if held and not resume and not overwrite:
        shown = ", ".join(held[:3]) + (", …" if len(held) > 3 else "")
        raise ConfigError(
            f"{out} already holds a run ({shown}); pass --resume to continue it, --overwrite to "
            "replace it, or choose another --out."
        )


@contextmanager
def replacing_run(out: str | Path, overwrite: bool) -> Iterator[None]:
    """Train inside the block into ``out``, replacing the run it holds only when the block
    succeeds (``overwrite``; otherwise this does nothing).

    The old run is moved aside at the start (renamed to ``<out>.being-replaced-<pid>`` beside
    it, one atomic rename) so that the new run starts in a fresh directory; it is deleted
    when the block finishes and moved back, the new run's files removed, if the block raises
    or is interrupted. Should the process be killed in between, the old run is still whole
    under that name. (Training into a temporary sibling and swapping it in at the end would
    leave the temporary path in the run: ``--folds`` runs record the paths of their tables,
    written inside the run directory, in their ``config.toml``; so the old run moves
    instead, and the new one is written where it will stay.)
    """
    out = Path(out)
    if not overwrite or not run_contents(out):
        yield
        return
    aside = out.with_name(f"{out.name}.being-replaced-{os.getpid()}")
    copies = 1
    while aside.exists():  # an old run kept by a process killed mid-overwrite: keep it
        aside, copies = (
            out.with_name(f"{out.name}.being-replaced-{os.getpid()}-{copies}"),
            copies + 1,
        )
    try:
        out.rename(aside)
    except OSError as exc:
        raise WriteError(
            f"--overwrite: cannot move the run in {out} aside ({exc.strerror or exc}); "
            "remove it yourself or choose another --out."
        ) from None
    try:
        yield
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        with suppress(OSError):  # failing that, the old run stays whole aside
            aside.rename(out)
        raise
    shutil.rmtree(aside, ignore_errors=True)


_UNSAFE = re.compile(r"[^\w.+-]+")


def evaluation_name(data: str, name: str | None = None) -> str:
    """The folder name of an evaluation on ``data``: ``name`` when given, else the file's
    stem or the dataset's name (``reviews/test.csv`` → ``test``), made safe as a path part."""
    chosen = name if name else Path(data).stem if Path(data).suffix else Path(data).name
    safe = _UNSAFE.sub("-", chosen).strip(".-")
    if not safe:
        raise ConfigError(
            f"--name {chosen!r}: an evaluation name needs letters or digits; pass another --name."
        )
    return safe


def evaluation_dir(run_dir: str | Path, data: str, name: str | None = None) -> Path:
    """``RUN/evaluations/<name>/`` for an evaluation on ``data``, refusing to replace the
    evaluation of *other* data that already holds that name (``--name`` tells them apart)."""
    folder = Path(run_dir) / EVALUATIONS_DIR / evaluation_name(data, name)
    previous = folder / "metrics.json"
    if previous.is_file():
        try:
            recorded = json.loads(previous.read_text(encoding="utf-8")).get("data")
        except ValueError:
            recorded = None
        if recorded is not None and recorded != data:
            raise ConfigError(
                f"{folder} already holds the evaluation of {recorded}; pass --name to keep "
                f"the evaluation of {data} beside it."
            )
    return folder
