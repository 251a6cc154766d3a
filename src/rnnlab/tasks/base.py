"""The task contract: what every task package provides, and the registry that finds it.

A task is a package with the same files, so a reader who knows one knows all::

    tasks/<task>/
      config.py      its config sections and run config (TrainConfig is shared)
      data.py        reading its inputs into splits; batches for the Trainer
      model.py       the nn.Module: embedding → rnnlab.nn encoder → head, its loss
      estimator.py   the scikit-learn-compatible Python API (fit / predict / score)
      predictor.py   a trained model ready to use (what ``rnnlab.load`` returns)
      workflow.py    a run end to end: splits → training → evaluation → the run directory
      export.py      its ONNX graph, where the task has one

and its ``__init__.py`` registers one :class:`Task` naming them. ``rnnlab.load``,
``rnnlab.evaluate``, ``rnnlab predict``, ``rnnlab export`` and ``rnnlab serve`` read the
task recorded in the model file and look it up here (:func:`get_task`), never by
``if task == …``; a new task is a new package that registers itself, with no change to them.
The shape follows fairseq's ``FairseqTask`` registry and Hugging Face's per-task pipelines.

The built-in tasks are imported on first lookup, so ``import rnnlab`` stays light.
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rnnlab.config import RunConfig
from rnnlab.data import datasets
from rnnlab.errors import ConfigError, DataError
from rnnlab.fileio import atomic_write_json
from rnnlab.runs import evaluation_dir, load_model_file, model_task, read_run_config

__all__ = [
    "Evaluation",
    "Predictor",
    "Task",
    "TrainCommand",
    "TrainSummary",
    "evaluation_source",
    "evaluation_target",
    "get_task",
    "load_predictor",
    "plan_evaluation",
    "register_task",
    "task_names",
    "task_of_run",
    "with_read_options",
    "write_evaluation_metrics",
]

# Built-in tasks: name → the package whose import registers it.
_BUILTIN = {
    "classify": "rnnlab.tasks.classify",
    "classify_series": "rnnlab.tasks.classify_series",
    "forecast": "rnnlab.tasks.forecast",
    "lm": "rnnlab.tasks.lm",
    "tag": "rnnlab.tasks.tag",
    "translate": "rnnlab.tasks.translate",
}
_REGISTRY: dict[str, Task] = {}

# A door of a task (Task.app, …): a function, a "module:function" string naming one, or None.
Door = Callable[..., Any] | str | None


class Predictor(ABC):
    """A trained model ready to use: what :func:`rnnlab.load` returns, for every task.

    Subclasses set ``task`` and implement :meth:`from_file` and :meth:`predict`; ``labels``
    are the classes (or tags) the model chooses between; ``model`` is the ``nn.Module`` and
    ``engine`` what runs its batches (the model itself unless :meth:`use_engine` says);
    ``engines`` names the engines its batches can run on.
    """

    model: Any
    engine: Any

    task: ClassVar[str] = ""
    engines: ClassVar[tuple[str, ...]] = ("torch", "onnx")

    @property
    @abstractmethod
    def labels(self) -> list: ...

    @classmethod
    @abstractmethod
    def from_file(cls, path: str | Path, device: Any = "cpu") -> Predictor: ...

    @abstractmethod
    def predict(self, inputs: Any, batch_size: int = 64) -> list: ...

    def use_engine(self, engine: Any) -> Predictor:
        """Run the batches on ``engine`` (one with the model's batch interface, e.g. an
        onnxruntime session from :mod:`rnnlab.deploy.engines`) instead of the model."""
        self.engine = engine
        return self


@dataclass
class TrainSummary:
    """A finished training run: its directory, the metrics of its evaluation split (``test``
    or ``valid``), seconds spent training, the best epoch, and task-specific extras."""

    run_dir: Path
    metrics: dict[str, Any]
    evaluated_on: str
    seconds: float
    best_epoch: int
    padding: dict[str, float] = field(default_factory=dict)
    report: Path | None = None  # report.html (None when matplotlib is not installed)


@dataclass
class Evaluation:
    """What ``evaluate`` found and where it went.

    Attributes:
        metrics: flat metrics (``data`` names what was scored).
        directory: where ``metrics.json`` (and ``analysis/``) were written: the run directory
            for its own test data, ``RUN/evaluations/<name>/`` for other data, ``None`` when
            nothing was written (a bare model file, or ``write=False``).
        report: the run's report.html when it was rewritten.
    """

    metrics: dict[str, Any]
    directory: Path | None = None
    report: Path | None = None


@dataclass(frozen=True)
class TrainCommand:
    """What ``rnnlab train <task>`` offers beyond its config's flags (which
    :mod:`rnnlab.cli.config_flags` writes from the config's fields).

    Attributes:
        help: what the command trains, one sentence (its ``--help`` line).
        examples: command lines shown under ``--help``.
        seeds: the metrics ``--seeds N`` summarises (mean ± sd over N runs); empty: the
            command has no ``--seeds``.
        folds: whether ``--folds K`` (cross-validation) is offered.
        flag_defaults: ``flag_defaults(overrides) -> dict``: defaults implied by the flags
            given (the classifier's ``--init-from`` brings ULMFiT's schedule), applied under
            them when no ``--config`` is given; None: none.
        headline: ``headline(metrics, split) -> str``: the one line that sums the run up
            (``"test accuracy 0.9176  macro-F1 …"``); None: none.
    """

    help: str = ""
    examples: tuple[str, ...] = ()
    seeds: tuple[str, ...] = ()
    folds: bool = False
    flag_defaults: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    headline: Callable[[dict[str, Any], str], str] | None = None


@dataclass(frozen=True)
class Task:
    """One task, as the registry knows it.

    Attributes:
        name: the name recorded in model files and used on the command line.
        title: what its model is, in words ("text classifier"), for messages.
        config_type: the run config (``config.toml``) of its runs.
        predictor_type: what :func:`rnnlab.load` builds from its model files.
        train: ``train(config, run_dir, *, resume, callbacks) -> TrainSummary``.
        evaluate: ``evaluate(run, data=None, *, name=None, options=None, write=True)
            -> Evaluation``; ``options`` are data-reading keys of its ``[data]`` section.
        read_options: the ``data.*`` keys that say how its files are read (columns,
            format, schemes); ``train``, ``evaluate`` and ``predict`` all accept them.
        predict_options: the subset of ``read_options`` that applies to unlabelled input.
        export_graph: ``model -> ExportGraph`` (:mod:`rnnlab.tasks.graph`), None when the
            task has no ONNX export.
        export_metadata: ``predictor -> dict``, what a consumer of the graph needs.
        export_graphs: for a task whose export is more than one graph (translation: an
            encoder graph and a one-step decoder graph, the search loop outside them):
            ``export_graphs(predictor, opset) -> graphs``, where ``graphs`` has ``files``
            (file name → serialised ONNX graph), ``max_abs_diff`` (onnxruntime against
            PyTorch on a check batch of unseen shapes; a decoded output counts the outputs
            that differ), ``checked_shape`` (batch, steps) and ``compared`` (what was
            compared, in words). ``rnnlab export --onnx DIR`` writes the files into ``DIR``,
            each with the ``export_metadata``; None: the task exports ``export_graph``.
        onnx_engine: ``onnx_engine(model) -> engine``, what runs its batches on onnxruntime
            for ``rnnlab.load(RUN, engine="onnx")`` when that is not the one graph of
            ``export_graph`` (translation: both graphs, in memory, behind the model's
            ``encode`` / ``decode_step``); None: the engine of ``export_graph``'s graph.
        endpoints: the HTTP endpoints ``rnnlab serve`` offers for it (``predict``, …).
        explainable: whether ``rnnlab explain`` works on its runs.
        explain: how ``rnnlab explain`` shows its runs, ``explain(run, texts, *, plot,
            as_json, console, err_console, options) -> None`` (``options``: the command's
            attribution flags, ``method``, ``target``, ``steps``); None: token attributions
            and the gate trace of a classifier.
        compare: ``compare(run, other, data=None, *, options=None) -> dict``, the run against
            another run of the task on the same data with the significance of the
            difference (translation: both BLEUs, their difference and the p-value of paired
            bootstrap resampling), for ``rnnlab evaluate RUN --compare OTHER``; None: refused.
        app: its FastAPI application, ``app(predictor, *, run, engine, config) -> app``;
            None: ``rnnlab serve`` refuses its runs.
        write_predictions: how ``rnnlab predict`` reads its input and writes its output,
            ``write_predictions(request) -> None``; None: one input per line, ``input TAB
            prediction`` back.
        print_metrics: how ``train`` / ``evaluate`` show its metrics, ``print_metrics(metrics,
            title, console) -> None``; None: a flat table of every number.
        predict_backends: where ``rnnlab predict`` runs its batches besides this process
            (``"ray"``: Ray Data over a folder or glob of files).
        output_columns: ``output_columns(predictor, texts, batch_size) -> dict[str, list]``,
            the columns a batch of input texts becomes on Ray (beside the id column; one
            value per text); None: ``label`` and one ``p_<label>`` per label, a classifier's.
        command: its ``rnnlab train`` command (help, examples, ``--seeds``/``--folds``); its
            flags come from ``config_type``. The command's name is :attr:`command_name`.

    The doors ``app``, ``write_predictions``, ``print_metrics``, ``explain``, ``compare``,
    ``export_graphs``, ``onnx_engine`` and ``output_columns`` are functions or
    ``"module:function"`` strings,
    imported when first opened (:meth:`door`): the code behind them lives in the layer that
    owns that kind of output (``rnnlab.serve``, ``rnnlab.cli``), which a task package never
    imports, and loading a model never brings FastAPI, rich or onnx.
    """

    name: str
    title: str
    config_type: type[RunConfig]
    predictor_type: type[Predictor]
    train: Callable[..., TrainSummary]
    evaluate: Callable[..., Evaluation]
    read_options: tuple[str, ...] = ()
    predict_options: tuple[str, ...] = ()
    export_graph: Callable[[Any], Any] | None = None
    export_metadata: Callable[[Any], dict[str, Any]] | None = None
    export_graphs: Door = None
    onnx_engine: Door = None
    endpoints: tuple[str, ...] = ()
    explainable: bool = False
    explain: Door = None
    compare: Door = None
    app: Door = None
    write_predictions: Door = None
    print_metrics: Door = None
    predict_backends: tuple[str, ...] = ()
    output_columns: Door = None
    command: TrainCommand = TrainCommand()

    @property
    def command_name(self) -> str:
        """Its name on the command line: ``classify_series`` → ``classify-series``."""
        return self.name.replace("_", "-")

    def door(self, name: str) -> Callable[..., Any] | None:
        """The function behind the door ``name`` (``"app"``, ``"write_predictions"``,
        ``"print_metrics"``, ``"explain"``, …): the field itself, or what its
        ``"module:function"`` string names, imported now; None where the task declares
        none."""
        reference = getattr(self, name)
        if reference is None or callable(reference):
            return reference
        module, _, function = reference.partition(":")
        try:
            found = getattr(importlib.import_module(module), function, None)
        except ModuleNotFoundError as error:
            if not error.name or not f"{module}.".startswith(f"{error.name}."):
                raise  # a dependency of the module is missing: its own message says which
            found = None
        if not callable(found):
            raise ConfigError(
                f"The {self.name!r} task's {name} is {reference!r}, which names no function; "
                "fix the task's registration."
            )
        return found


def register_task(task: Task) -> Task:
    """Add ``task`` to the registry (replacing one of the same name); returns it."""
    _REGISTRY[task.name] = task
    return task


def task_names() -> list[str]:
    """Every task known: the built-in ones and any registered since."""
    return sorted({*_BUILTIN, *_REGISTRY})


def get_task(name: str) -> Task:
    """The registered task ``name``; a built-in one is imported on first use."""
    if name not in _REGISTRY and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    if name not in _REGISTRY:
        raise ConfigError(
            f"Unknown task {name!r}; the tasks are {', '.join(task_names())} — a model file "
            "of another task needs the rnnlab release (or plug-in) that wrote it."
        )
    return _REGISTRY[name]


def task_of_run(path: str | Path) -> Task:
    """The task of a run directory or model file, read from the model file's header."""
    name = model_task(path)
    if name is None:
        load_model_file(path)  # raises the explanatory error (missing, damaged, not rnnlab)
        raise DataError(f"{path} is an rnnlab model file without a task; save it again.")
    return get_task(name)


def load_predictor(path: str | Path, device: Any = "cpu") -> Predictor:
    """A run directory or model file as its task's predictor, on PyTorch
    (``rnnlab.load(path, engine="onnx")`` adds onnxruntime)."""
    return task_of_run(path).predictor_type.from_file(path, device=device)


def refuse_options(task: Task, given: Sequence[str], allowed: Sequence[str], command: str) -> None:
    """One sentence when data-reading ``given`` keys (``text_col``) are not among ``allowed``
    for ``task`` in ``command``, naming them as flags and the ones that apply."""
    unknown = [key for key in given if key not in allowed]
    if unknown:
        flags = ", ".join("--" + key.replace("_", "-") for key in unknown)
        usable = ", ".join("--" + key.replace("_", "-") for key in allowed) or "none"
        raise ConfigError(
            f"{flags}: not used by rnnlab {command} on a '{task.name}' run, which reads its "
            f"data with: {usable}; drop {'it' if len(unknown) == 1 else 'them'}."
        )


def with_read_options(config: RunConfig, options: dict[str, Any] | None) -> Any:
    """``config`` with data-reading ``options`` (``{"text_col": "review"}``) in its ``[data]``
    section, checked like any config key; the run's own settings fill the rest."""
    if not options:
        return config
    return config.merge({f"data.{key}": value for key, value in options.items()})


def evaluation_source(
    run_dir: Path,
    data_config: Any,
    data: str | None,
    kind: str,
    builtin: Callable[[str], bool] = datasets.is_dataset_name,
) -> str:
    """What ``evaluate`` scores: ``data`` if given, else the run's test data, else the test
    part of the built-in corpus it was trained on (``builtin`` says which names are one) —
    never its own training data, which would overstate its accuracy (refused, asking for
    ``--data`` with ``kind``)."""
    trained_on_dataset = builtin(data_config.data)
    source = (
        data or getattr(data_config, "test", "") or (data_config.data if trained_on_dataset else "")
    )
    if not source:
        raise ConfigError(
            f"{run_dir} was trained without --test data, and scoring its training data "
            f"would overstate its accuracy; pass --data with {kind}."
        )
    return source


def evaluation_target(
    run_dir: Path, data: str | None, source: str, name: str | None, write: bool
) -> Path | None:
    """Where an evaluation is written: the run directory itself when it scores the run's
    own test data (``data`` not given), ``RUN/evaluations/<name>/`` for other data, ``None``
    for a bare model file or ``write=False``. ``--name`` without ``--data`` is refused."""
    if name and data is None:
        raise ConfigError(
            "--name names an evaluation on other data; pass --data too (without --data, "
            "evaluate refreshes the run's own test evaluation)."
        )
    if not write or not run_dir.is_dir():
        return None
    return run_dir if data is None else evaluation_dir(run_dir, source, name)


def plan_evaluation(
    run_dir: Path,
    config_type: type[RunConfig],
    data: str | None,
    *,
    name: str | None,
    options: dict[str, Any] | None,
    write: bool,
    kind: str,
    builtin: Callable[[str], bool] = datasets.is_dataset_name,
) -> tuple[Any, str, Path | None]:
    """The start every task's ``evaluate`` shares: the run's config with the reading
    ``options`` applied, what to score (:func:`evaluation_source`, ``kind`` naming the data
    it takes) and where to write (:func:`evaluation_target`)."""
    config = with_read_options(read_run_config(run_dir, config_type), options)
    source = evaluation_source(run_dir, config.data, data, kind, builtin)
    return config, source, evaluation_target(run_dir, data, source, name, write)


def write_evaluation_metrics(directory: Path, metrics: dict[str, Any], run_dir: Path) -> None:
    """Write ``metrics`` to ``directory/metrics.json``. Refreshing the run's own record
    (``directory == run_dir``) keeps the training-time keys (``train_seconds``,
    ``best_epoch``, ``embedding_coverage``, ``embedding_source``) of the file it replaces."""
    path = directory / "metrics.json"
    if directory == run_dir and path.exists():
        previous = json.loads(path.read_text(encoding="utf-8"))
        for key in ("train_seconds", "best_epoch", "embedding_coverage", "embedding_source"):
            if key in previous:
                metrics[key] = previous[key]
    atomic_write_json(path, metrics)
