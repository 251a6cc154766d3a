"""Typed configuration: one frozen dataclass per concern, filled from TOML files and flags.

A run is described by a :class:`RunConfig` holding one section per concern. Each task
declares its own (``rnnlab.tasks.classify.config.ClassifyRunConfig``: ``model``, ``data`` and
the shared ``train`` section, :class:`TrainConfig`). TOML files and command-line flags fill
it; flags win::

    config = RunConfig.from_toml("c.toml").merge({"train.lr": 0.01})
    config.save("runs/x/config.toml")           # the resolved configuration, defaults included

Every value is checked when a section is built (type, choices, range), and unknown keys are
errors with a "did you mean" suggestion, so a typo never trains with a silent default.

Everything below works by walking the dataclass fields, so a task adds its own section without
touching this module::

    @dataclass(frozen=True)
    class LMConfig(ConfigSection):
        section: ClassVar[str] = "lm"
        bptt: int = setting(35, low=1)

    @dataclass(frozen=True)
    class LMRunConfig(RunConfig):
        lm: LMConfig = field(default_factory=LMConfig)
        train: TrainConfig = field(default_factory=TrainConfig)

A section that shares fields with another inherits them; :func:`override_defaults` changes
only their defaults, keeping each field's constraints in one place.

Field constraints live in the field metadata written by :func:`setting` (``choices``, ``low``,
``below``, ``pattern``, ``aliases`` — other spellings users try, used for suggestions).

The TOML writer is written by hand because the standard library only reads TOML; the shape
written here (flat ``[section]`` tables of strings, numbers, booleans, lists and inline tables)
is small enough that a dependency is not worth it.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import inspect
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, TypeVar, get_args, get_origin, get_type_hints

from rnnlab.errors import ConfigError, MissingDependencyError, RnnlabFileNotFoundError
from rnnlab.fileio import atomic_write_text

__all__ = [
    "ConfigSection",
    "RunConfig",
    "TrainConfig",
    "inherited",
    "override_defaults",
    "refuse_bucketing",
    "refuse_dropout_without_layers",
    "setting",
    "toml_dumps",
]

_RunT = TypeVar("_RunT", bound="RunConfig")


def refuse_dropout_without_layers(model: Any, alternatives: Sequence[str]) -> None:
    """One sentence when ``model.dropout`` is set with one recurrent layer: it drops between
    stacked layers, so there is nothing to drop into (torch.nn only warns); ``alternatives``
    are the model's other dropout keys, named in the fix."""
    if model.dropout and model.num_layers == 1:
        others = [f"model.{name}" for name in alternatives]
        them = ", ".join(others[:-1]) + f" or {others[-1]}" if len(others) > 1 else others[0]
        raise ConfigError(
            f"Config key 'model.dropout' is {model.dropout}, but it drops between stacked "
            f"recurrent layers and model.num_layers is 1; set model.num_layers >= 2, or use "
            f"{them}."
        )


def refuse_bucketing(train: Any, why: str) -> None:
    """One sentence when ``train.bucketing`` is turned off in a task that never buckets
    (``why``: the reason it has no lengths to bucket)."""
    if not train.bucketing:
        raise ConfigError(
            f"Config key 'train.bucketing' is false, but {why}, so there are no lengths to "
            "bucket; remove it."
        )


def setting(
    default: Any,
    *,
    choices: tuple[Any, ...] = (),
    low: float | None = None,
    below: float | None = None,
    pattern: tuple[str, str] | None = None,
    aliases: tuple[str, ...] = (),
    help: str = "",
    flag: str | None = None,
    flag_aliases: tuple[str, ...] = (),
) -> Any:
    """A dataclass field with its constraints: ``choices``, ``low`` ≤ value, value < ``below``.

    ``pattern`` is ``(regex, description)`` for strings; ``aliases`` are other names users
    try for this key (``learning_rate`` for ``lr``), offered as "did you mean" suggestions.
    Mutable defaults (dicts, lists) are copied per instance.

    The command line is written from the same place: ``help`` is the flag's help line;
    ``flag`` its name (default: ``--`` + the key with dashes; ``""``: the key has no flag,
    it is set in TOML only); ``flag_aliases`` are older spellings that keep working, hidden
    from ``--help``.
    """
    meta = {
        "choices": choices,
        "low": low,
        "below": below,
        "pattern": pattern,
        "aliases": aliases,
        "help": help,
        "flag": flag,
        "flag_aliases": flag_aliases,
    }
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def override_defaults(**defaults: Any) -> Callable[[type], type]:
    """Class decorator (put it below ``@dataclass``): inherited fields with new defaults.

    The fields keep their constraints and aliases from the base section, so two sections
    that share fields (the classifier's and the tagger's model) declare them once::

        @dataclass(frozen=True)
        @override_defaults(num_layers=1, bidirectional=True)
        class TagModelConfig(EncoderConfig): ...
    """

    def apply(cls: type) -> type:
        inherited = {f.name: f for f in fields(cls)}
        annotations = dict(inspect.get_annotations(cls))
        for name, value in defaults.items():
            if name not in inherited:
                raise TypeError(f"override_defaults: {cls.__name__} inherits no field {name!r}")
            base = inherited[name]
            replacement = setting(value, **_constraints(base))
            setattr(cls, name, replacement)
            annotations[name] = base.type
        cls.__annotations__ = annotations
        return cls

    return apply


def inherited(base: type, name: str, default: Any, **changes: Any) -> Any:
    """Field ``name`` of the section ``base`` with a new ``default`` (and, in ``changes``, a
    new ``help`` or other metadata), its constraints and aliases kept from the one place they
    are declared: for a section that inherits a field but says more about it than
    :func:`override_defaults` can (a translator's ``hidden_size`` is also its decoder's)."""
    field_of = {f.name: f for f in fields(base)}
    if name not in field_of:
        raise TypeError(f"inherited: {base.__name__} has no field {name!r}")
    return setting(default, **{**_constraints(field_of[name]), **changes})


def _constraints(f: dataclasses.Field) -> dict[str, Any]:
    """The field's constraints as :func:`setting` takes them (``low = 0`` kept: 0 is a bound,
    not a missing one)."""
    return {key: f.metadata.get(key, default) for key, default in _NO_CONSTRAINTS.items()}


_NO_CONSTRAINTS: dict[str, Any] = {
    "choices": (),
    "low": None,
    "below": None,
    "pattern": None,
    "aliases": (),
    "help": "",
    "flag": None,
    "flag_aliases": (),
}


# --------------------------------------------------------------------------- value checking


def _type_name(hint: Any) -> str:
    origin = get_origin(hint) or hint
    return {
        bool: "a boolean (true or false)",
        int: "an integer",
        float: "a number",
        str: "a string",
        dict: "a table (an inline {key = value, ...})",
        list: "a list",
    }.get(origin, str(hint))


def _is_toml_value(value: Any) -> bool:
    if isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_toml_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_toml_value(v) for k, v in value.items())
    return False


def _subject(key: str, where: str) -> str:
    """How an error names a setting: ``Config key 'train.epochs' in run.toml``, or, where
    ``where`` starts with ``--`` (a command-line flag the user typed), the flag itself."""
    if where.startswith("--"):
        return where if "[" not in key else f"{where} item {key.rsplit('[', 1)[1].rstrip(']')}"
    return f"Config key '{key}'{where}"


def _coerce(key: str, hint: Any, value: Any, where: str) -> Any:
    """Return ``value`` as the type ``hint`` asks for, or raise a ConfigError naming ``key``
    (``where``: `` in FILE``, or the flag that gave it, see :func:`_subject`)."""
    origin = get_origin(hint) or hint
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
        dict: isinstance(value, dict),
        list: isinstance(value, (list, tuple)),
    }.get(origin)
    if ok is None:
        raise TypeError(f"config field {key!r} has unsupported type {hint!r}")
    if not ok:
        fix = ""
        if isinstance(value, str) and origin in (int, float, bool):
            fix = "; write it without quotes"
        raise ConfigError(
            f"{_subject(key, where)} must be {_type_name(hint)}, "
            f"got {type(value).__name__} {value!r}{fix}."
        )
    if origin is float:
        return float(value)
    if origin in (dict, list):
        if not _is_toml_value(value):
            raise ConfigError(
                f"{_subject(key, where)} may hold only strings, numbers, booleans, lists and "
                f"tables with string keys, got {value!r}."
            )
        args = get_args(hint)
        if origin is list and args and args[0] is not Any:
            return [_coerce(f"{key}[{i}]", args[0], v, where) for i, v in enumerate(value)]
        return copy.deepcopy(dict(value) if origin is dict else list(value))
    return value


def _check_value(key: str, f: dataclasses.Field, hint: Any, value: Any, where: str = "") -> Any:
    """Type-check ``value`` for field ``f`` and apply its constraints; return the coerced value."""
    value = _coerce(key, hint, value, where)
    meta = f.metadata
    choices = meta.get("choices") or ()
    if choices and value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        fix = f"; did you mean {close[0]!r}?" if close else "."
        allowed = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{_subject(key, where)} must be one of {allowed}, got {value!r}{fix}")
    low, below = meta.get("low"), meta.get("below")
    if low is not None or below is not None:
        in_range = not (isinstance(value, float) and math.isnan(value))
        in_range = in_range and (low is None or value >= low) and (below is None or value < below)
        if not in_range:
            kind = "an integer" if isinstance(value, int) else "a number"
            if low is not None and below is not None:
                expected = f"{kind} in [{low}, {below})"
            elif low is not None:
                expected = f"{kind} >= {low}"
            else:
                expected = f"{kind} < {below}"
            raise ConfigError(f"{_subject(key, where)} must be {expected}, got {value!r}.")
    pattern = meta.get("pattern")
    if pattern and not re.fullmatch(pattern[0], value):
        raise ConfigError(f"{_subject(key, where)} must be {pattern[1]}, got {value!r}.")
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class ConfigSection:
    """Base of every config section: checks each field on construction.

    Subclasses are frozen dataclasses that set ``section`` (the TOML table name) and declare
    fields with :func:`setting`; override :meth:`check` for rules that span several fields.
    """

    section: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in fields(self):
            key = f"{self.section}.{f.name}"
            value = _check_value(key, f, hints[f.name], getattr(self, f.name))
            object.__setattr__(self, f.name, value)
        self.check()

    def check(self) -> None:
        """Rules that involve several fields; raise ConfigError. The default has none."""


# Metrics where lower is better; monitoring them with mode "max" would keep the worst epoch.
_LOWER_IS_BETTER = ("loss", "perplexity", "mae", "mse", "rmse", "mase", "error")


@dataclass(frozen=True)
class TrainConfig(ConfigSection):
    """Optimisation, early stopping, checkpoints and the device (read by ``rnnlab.train``)."""

    section: ClassVar[str] = "train"

    epochs: int = setting(
        4,
        low=1,
        aliases=("num_epochs", "max_epochs", "n_epochs"),
        help="Passes over the training data.",
    )
    batch_size: int = setting(32, low=1, aliases=("batch",), help="Examples per training batch.")
    lr: float = setting(
        1e-3,
        low=0,
        aliases=("learning_rate", "lr0"),
        help="Learning rate (the peak rate under a schedule).",
    )
    # "adam", "adamw" (decoupled weight decay), "sgd" (plain, as AWD-LSTM), or "nt-asgd":
    # SGD until the monitored metric has not beaten the best of the epochs before the last
    # `nonmono` ones, then averaged SGD, evaluated on the average (Merity et al. 2017).
    optimizer: str = setting(
        "adam",
        choices=("adam", "adamw", "sgd", "nt-asgd"),
        help=(
            "adam, adamw (decoupled weight decay), sgd, or nt-asgd (SGD, then averaged SGD once "
            "validation stops improving; Merity et al. 2017)."
        ),
    )
    nonmono: int = setting(
        5, low=1, help="nt-asgd: epochs without improvement before averaging starts."
    )
    weight_decay: float = setting(
        0.0, low=0, aliases=("l2",), help="L2 weight decay (decoupled under adamw)."
    )
    clip_norm: float = setting(
        5.0,
        low=0,
        aliases=("grad_clip", "clip", "max_grad_norm"),
        help="Clip the gradients' global norm to this value (0: no clipping).",
    )
    # "slanted": Howard & Ruder's slanted triangular rates (warmup_steps, or the first 10 %
    # of the steps, rising from lr/32 to lr, then a linear fall back to lr/32).
    schedule: str = setting(
        "linear",
        choices=("none", "linear", "cosine", "slanted"),
        aliases=("scheduler",),
        help=(
            "Learning-rate schedule: none, linear (decay to 0), cosine, or slanted (Howard & "
            "Ruder's "
            "triangle)."
        ),
    )
    warmup_steps: int = setting(
        0,
        low=0,
        aliases=("warmup",),
        help="Steps of linear warm-up from 0 (slanted: 0 means the first 10 %).",
    )
    # Discriminative fine-tuning (Howard & Ruder 2018), for models that name their layer
    # groups (input side first): the group k places below the top trains at lr / decay**k.
    layer_lr_decay: float = setting(
        1.0,
        low=1,
        aliases=("discriminative_lr",),
        help=(
            "Discriminative fine-tuning: layer group k below the top trains at lr / decay**k (1: "
            "off)."
        ),
    )
    # Gradual unfreezing: epoch e trains only the top e layer groups, every group after that.
    gradual_unfreezing: bool = setting(
        False,
        aliases=("unfreeze",),
        help="Epoch e trains only the top e layer groups (fine-tuning).",
    )
    # Early stopping: end after this many epochs without a better validation `monitor` (the
    # same score with a lower validation loss counts as better); 0 = run every epoch.
    patience: int = setting(
        0,
        low=0,
        aliases=("early_stopping", "early_stopping_patience"),
        help=(
            "Early stopping: stop after this many epochs without a better validation score (0: run "
            "every epoch)."
        ),
    )
    monitor: str = setting(
        "accuracy",
        pattern=(r".+", "a metric name"),
        aliases=("metric",),
        help=(
            "Validation metric that picks the best epoch (accuracy, macro_f1, loss, perplexity, …)."
        ),
    )
    monitor_mode: str = setting(
        "max",
        choices=("max", "min"),
        aliases=("mode",),
        help="max or min: whether a higher or a lower monitored value is better.",
    )
    seed: int = setting(
        0,
        low=0,
        below=2**32,
        aliases=("random_seed",),
        help="Random seed: draws the validation split, the initial weights and the batch order.",
    )
    device: str = setting(
        "auto",
        pattern=(r"auto|cpu|cuda(:\d+)?", "'auto', 'cpu', 'cuda' or 'cuda:N'"),
        help="auto (a GPU when there is one), cpu, cuda or cuda:N.",
    )
    precision: str = setting(
        "fp32",
        choices=("fp32", "bf16", "fp16"),
        aliases=("mixed_precision", "amp"),
        help=(
            "fp32, or mixed precision: bf16 (CPUs with AMX or AVX512-BF16, recent GPUs) or fp16 "
            "(CUDA, with loss scaling); weights, optimizer state and checkpoints stay fp32."
        ),
    )
    checkpoint_every: int = setting(
        200,
        low=0,
        aliases=("save_every", "checkpoint_steps"),
        help="Save a resumable checkpoint every N steps (0: at epoch ends only).",
    )
    bucketing: bool = setting(
        True,
        aliases=("bucket",),
        help=(
            "Batch texts of similar length together (less padding); --no-bucketing draws batches "
            "at "
            "random."
        ),
    )
    num_threads: int = setting(
        0, low=0, aliases=("threads",), help="CPU threads for PyTorch (0: its default)."
    )

    def check(self) -> None:
        if self.optimizer == "nt-asgd" and (self.schedule != "none" or self.warmup_steps):
            raise ConfigError(
                "Config key 'train.optimizer' is 'nt-asgd', which sets its own pace (a constant "
                "rate, then averaging); set train.schedule = 'none' and train.warmup_steps = 0."
            )
        lower_better = self.monitor.lower().endswith(_LOWER_IS_BETTER)
        if lower_better and self.monitor_mode == "max":
            raise ConfigError(
                f"Config key 'train.monitor_mode' is 'max' but train.monitor {self.monitor!r} "
                f"is lower-is-better; set train.monitor_mode = 'min'."
            )


# --------------------------------------------------------------------------- the whole run


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs: one field per section; the unit written beside every run.

    The base declares no sections; each task's run config declares its own (fields whose
    types are :class:`ConfigSection` subclasses), in the order they are written to TOML.
    """

    def __post_init__(self) -> None:
        for name, section_cls in self.sections().items():
            value = getattr(self, name)
            if not isinstance(value, section_cls):
                raise ConfigError(
                    f"RunConfig.{name} must be a {section_cls.__name__}, "
                    f"got {type(value).__name__}; build it with RunConfig.from_dict."
                )
        self.check()

    def check(self) -> None:
        """Rules that involve several sections, or that bind a training run but not a model
        file (which rebuilds its model section alone); raise ConfigError. The default has
        none."""

    @classmethod
    def sections(cls) -> dict[str, type[ConfigSection]]:
        """Section name → section class, in declaration order."""
        hints = _hints(cls)
        return {f.name: hints[f.name] for f in fields(cls)}

    @classmethod
    def from_dict(cls: type[_RunT], data: Mapping[str, Any], source: str = "") -> _RunT:
        """Build from ``{"train": {"lr": 0.01}, ...}``; missing keys keep their defaults.

        ``source`` (a file name) is quoted in error messages.
        """
        where = f" in {source}" if source else ""
        sections = cls.sections()
        values: dict[str, dict[str, Any]] = {name: {} for name in sections}
        for name, table in data.items():
            if name not in sections:
                raise ConfigError(cls._unknown(name, where))
            if not isinstance(table, Mapping):
                raise ConfigError(
                    f"Config key '{name}'{where} must be a table of settings ([{name}]), "
                    f"got {type(table).__name__} {table!r}."
                )
            for key, value in table.items():
                values[name][key] = cls._checked(f"{name}.{key}", value, where)
        try:
            return cls(**{name: cls._section(name, kw) for name, kw in values.items()})
        except ConfigError as exc:  # a rule spanning several keys: say which file broke it
            if not source or source in str(exc):
                raise
            raise ConfigError(f"{str(exc).rstrip('.')} (in {source}).") from None

    @classmethod
    def _section(cls, name: str, values: Mapping[str, Any]) -> ConfigSection:
        """Section ``name`` with ``values`` over this run type's own defaults for it (a
        language model's ``[train]`` follows perplexity even when a file sets only ``lr``)."""
        field_ = next(f for f in fields(cls) if f.name == name)
        if field_.default_factory is not dataclasses.MISSING:
            return dataclasses.replace(field_.default_factory(), **values)
        return cls.sections()[name](**values)

    @classmethod
    def from_toml(cls: type[_RunT], path: str | os.PathLike[str]) -> _RunT:
        """Read a TOML file (sections as tables); unknown keys and bad values are errors."""
        path = Path(path)
        tomllib = _tomllib()
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise RnnlabFileNotFoundError(
                f"Config file {path} does not exist; check the path given to --config."
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Config file {path} is not valid TOML: {exc}.") from None
        return cls.from_dict(data, source=str(path))

    def merge(
        self: _RunT, overrides: Mapping[str, Any], flags: Mapping[str, str] | None = None
    ) -> _RunT:
        """A new config with dotted keys replaced (``{"train.lr": 0.01}``); overrides win.

        ``flags`` maps dotted keys to the command-line flag that set them (``"train.epochs":
        "--epochs"``), so that a bad value is reported as the user typed it: ``--epochs must
        be an integer >= 1, got 0.``
        """
        changes: dict[str, dict[str, Any]] = {}
        flags = flags or {}
        for dotted, value in overrides.items():
            value = self._checked(dotted, value, flags.get(dotted, ""))
            name, key = dotted.split(".", 1)
            changes.setdefault(name, {})[key] = value
        return dataclasses.replace(
            self,
            **{
                name: dataclasses.replace(getattr(self, name), **kw) for name, kw in changes.items()
            },
        )

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{section: {key: value}}`` with every key, defaults included (deep copies)."""
        return {
            name: {f.name: copy.deepcopy(getattr(section, f.name)) for f in fields(section)}
            for name, section in ((n, getattr(self, n)) for n in self.sections())
        }

    def to_toml(self) -> str:
        """The whole configuration as TOML; ``from_toml`` reads back an equal config."""
        return "# rnnlab run configuration\n\n" + toml_dumps(self.to_dict())

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_toml` to ``path`` atomically; return the path."""
        atomic_write_text(path, self.to_toml())
        return Path(path)

    @classmethod
    def dotted_keys(cls, params: Mapping[str, Any], owner: str) -> dict[str, Any]:
        """Bare keyword parameters as dotted keys (``lr`` → ``train.lr``); dotted ones pass.

        ``owner`` (an estimator's name) is quoted in errors: an unknown name, or one that
        several sections share (write it dotted then).
        """
        owners: dict[str, list[str]] = {}
        for name, section in cls.sections().items():
            for f in fields(section):
                owners.setdefault(f.name, []).append(name)
        dotted = {}
        for key, value in params.items():
            if "." in key:
                dotted[key] = value
                continue
            sections = owners.get(key)
            if not sections:
                close = difflib.get_close_matches(key, list(owners), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "."
                raise ConfigError(f"{owner}: unknown parameter {key!r}{hint}")
            if len(sections) > 1:
                raise ConfigError(
                    f"{owner}: {key!r} is ambiguous; write one of "
                    + ", ".join(f"'{s}.{key}'" for s in sections)
                    + "."
                )
            dotted[f"{sections[0]}.{key}"] = value
        return dotted

    # ---- key resolution

    @classmethod
    def _checked(cls, dotted: str, value: Any, where: str) -> Any:
        """Check one dotted key and its value; raise ConfigError for unknown keys."""
        sections = cls.sections()
        name, _, key = dotted.partition(".")
        section = sections.get(name)
        known = {f.name: f for f in fields(section)} if section else {}
        if key not in known:
            raise ConfigError(cls._unknown(dotted, where))
        return _check_value(dotted, known[key], _hints(section)[key], value, where)

    @classmethod
    def _unknown(cls, dotted: str, where: str) -> str:
        """The message for an unknown key or section, with the closest known key."""
        sections = cls.sections()
        name, dot, key = dotted.partition(".")
        kind, suggestion = "key", None
        if not dot and name in sections:
            first = fields(sections[name])[0].name
            return (
                f"Config key '{name}'{where} is a section, not a setting; name one of its keys, "
                f"such as '{name}.{first}'."
            )
        if dot:
            suggestion = _exact_key(sections, name, key) or _close_key(sections, name, key)
        else:  # a bare word: a misspelt section, or a key written without its section
            suggestion = _exact_key(sections, "", name)
            if suggestion is None:
                close = difflib.get_close_matches(name, list(sections), n=1)
                kind, suggestion = ("section", close[0]) if close else ("key", None)
            suggestion = suggestion or _close_key(sections, "", name)
        if suggestion:
            return f"Unknown config {kind} '{dotted}'{where}; did you mean '{suggestion}'?"
        if name in sections:
            keys = ", ".join(f.name for f in fields(sections[name]))
            return f"Unknown config key '{dotted}'{where}; the keys of [{name}] are: {keys}."
        return (
            f"Unknown config {'key' if dot else 'section'} '{dotted}'{where}; the sections are: "
            f"{', '.join(sections)} (keys are written 'section.key')."
        )


def _search_order(sections: Mapping[str, type], name: str) -> list[str]:
    return ([name] if name in sections else []) + [s for s in sections if s != name]


def _exact_key(sections: Mapping[str, type], name: str, key: str) -> str | None:
    """``section.field`` whose name or alias is ``key``, looking in section ``name`` first."""
    for section in _search_order(sections, name):
        for f in fields(sections[section]):
            if key == f.name or key in f.metadata.get("aliases", ()):
                return f"{section}.{f.name}"
    return None


def _close_key(sections: Mapping[str, type], name: str, key: str) -> str | None:
    """``section.field`` whose name or an alias is spelt most like ``key``, in ``name`` first."""
    for section in _search_order(sections, name):
        spellings = {}
        for f in fields(sections[section]):
            spellings.update({alias: f.name for alias in (f.name, *f.metadata.get("aliases", ()))})
        close = difflib.get_close_matches(key, list(spellings), n=1)
        if close:
            return f"{section}.{spellings[close[0]]}"
    return None


def _tomllib() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:
        import tomli
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "Reading TOML config files on Python 3.10 needs the 'tomli' package; "
            "run `pip install tomli`."
        ) from None
    return tomli


# --------------------------------------------------------------------------- TOML writing

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # shortest text that reads back to the same double
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }"
    raise ConfigError(
        f"Cannot write {type(value).__name__} {value!r} to TOML; use strings, numbers, "
        f"booleans, lists or tables."
    )


def toml_dumps(tables: Mapping[str, Mapping[str, Any]]) -> str:
    """TOML text for ``{table: {key: value}}``: one ``[table]`` per entry, values inline."""
    blocks = []
    for name, table in tables.items():
        lines = [f"[{_toml_key(name)}]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
