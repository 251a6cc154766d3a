"""Command-line options written from a run config's fields, so each setting is declared once.

Every field of every section of a task's :class:`~rnnlab.config.RunConfig` is a flag of its
``rnnlab train`` command: the name, the help line, the choices and the older spellings come
from the field's metadata (:func:`rnnlab.config.setting`), the default shown from the task's
own defaults. A new config key therefore gets its flag and its help with no edit here::

    batch_size: int = setting(32, low=1, help="Examples per training batch.")
    # → --batch-size INTEGER  Examples per training batch. [default: 32]

The flag is ``--`` + the key's last part with dashes, unless the field names another
(``flag="--freeze/--fine-tune"``, a switch with two spellings) or none (``flag=""``: TOML
only). ``flag_aliases`` are older spellings that keep working, hidden from ``--help``.
Values are checked by the config, not here, so a bad value gets the config's one sentence
(naming the flag the user typed) and its "did you mean".

Typer builds commands from function signatures; :func:`config_parameters` writes the
``inspect.Parameter`` list of one, and :func:`flag_values` turns the values typer passes back
into dotted config keys.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, fields
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import typer

from rnnlab.errors import ConfigError

__all__ = ["ConfigFlag", "config_flags", "config_parameters", "flag_values"]


@dataclass(frozen=True)
class ConfigFlag:
    """One config key as a command-line option.

    Attributes:
        key: the dotted config key (``"train.batch_size"``).
        param: the Python parameter typer fills (``"train__batch_size"``).
        decls: the option's spellings as typer takes them (``"--batch-size"``, or a switch
            ``"--freeze/--fine-tune"``).
        kind: ``bool``, ``int``, ``float``, ``str``, or ``list`` (comma-separated).
        item: for lists, the type of each item.
        help: the help line, with choices and the task's default.
        hidden: an older spelling, accepted but not shown.
    """

    key: str
    param: str
    decls: str
    kind: type
    item: type = str
    help: str = ""
    hidden: bool = False

    @property
    def names(self) -> list[str]:
        """Every spelling this option answers to (both sides of a switch)."""
        return [name for part in self.decls.split("/") for name in [part] if name]

    @property
    def flag(self) -> str:
        """The spelling used in messages (the first)."""
        return self.names[0]


def _kind(annotation: Any) -> tuple[type, type]:
    """The option's type and, for lists, its items' type, from the field's annotation."""
    origin = get_origin(annotation)
    if origin is list:
        (item,) = get_args(annotation) or (str,)
        return list, item
    if origin is dict:
        return dict, str
    return annotation, str


def _shown(value: Any) -> str:
    """A default as the help shows it (``""`` when there is nothing to show)."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return ""
    return str(value)


def config_flags(config_type: Any) -> list[ConfigFlag]:
    """Every flag of ``config_type``'s fields: ``[data]`` first, then the other sections in
    their order, aliases last.

    Raises:
        TypeError: two keys claim one spelling (a mistake in the task's config: give one of
            them ``flag=``).
    """
    defaults = config_type()
    found: list[ConfigFlag] = []
    aliases: list[ConfigFlag] = []
    sections = config_type.sections()
    order = sorted(sections, key=lambda name: name != "data")  # what to read comes first
    for section in order:
        section_type = sections[section]
        hints = get_type_hints(section_type)
        for field in fields(section_type):
            meta = field.metadata
            flag = meta.get("flag")
            kind, item = _kind(hints[field.name])
            if flag == "" or kind is dict:
                continue
            key = f"{section}.{field.name}"
            param = key.replace(".", "__")
            name = field.name.replace("_", "-")
            decls = flag or (f"--{name}/--no-{name}" if kind is bool else f"--{name}")
            text = meta.get("help", "")
            choices = [c for c in meta.get("choices", ()) if c != ""]
            if choices and not any(str(c) in text for c in choices):
                text += f" One of: {', '.join(map(str, choices))}."
            default = _shown(getattr(getattr(defaults, section), field.name))
            if default and f"default {default}" not in text:
                text += f" [default: {default}]"
            found.append(ConfigFlag(key, param, decls, kind, item, text.strip()))
            for number, alias in enumerate(meta.get("flag_aliases", ())):
                aliases.append(
                    ConfigFlag(key, f"{param}__alias{number}", alias, kind, item, hidden=True)
                )
    owners: dict[str, str] = {}
    for option in found + aliases:
        for spelling in option.names:
            if owners.setdefault(spelling, option.key) != option.key:
                raise TypeError(
                    f"{config_type.__name__}: {spelling} is claimed by {owners[spelling]} and "
                    f"{option.key}; give one of them flag= in its setting()."
                )
    return found + aliases


def config_parameters(options: list[ConfigFlag]) -> list[inspect.Parameter]:
    """The keyword parameters of a typer command taking ``options`` (all default to None:
    a flag not given leaves the config file's value or the default)."""
    parameters = []
    for option in options:
        annotation: Any = str if option.kind is list else option.kind
        parameters.append(
            inspect.Parameter(
                option.param,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    annotation | None,
                    typer.Option(
                        option.decls,
                        help=option.help or None,
                        hidden=option.hidden,
                        show_default=False,
                    ),
                ],
            )
        )
    return parameters


def flag_values(options: list[ConfigFlag], given: dict[str, Any]) -> tuple[dict, dict]:
    """``(overrides, flags)``: the dotted config keys the user set from ``given`` (the
    command's keyword arguments), and the flag each came from (for messages). Lists are read
    comma-separated; a key given under two spellings is refused."""
    values: dict[str, Any] = {}
    spoken: dict[str, str] = {}
    for option in options:
        value = given.get(option.param)
        if value is None:
            continue
        if option.key in values:
            raise ConfigError(
                f"{spoken[option.key]} and {option.flag} set the same thing; give one of them."
            )
        if option.kind is list:
            value = _items(value, option)
        values[option.key] = value
        spoken[option.key] = option.flag
    return values, spoken


def _items(text: str, option: ConfigFlag) -> list[Any]:
    """``"a, b"`` → ``["a", "b"]``, each converted to the list's item type."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if option.item is str:
        return parts
    items = []
    for part in parts:
        try:
            items.append(option.item(part))
        except ValueError:
            raise ConfigError(
                f"{option.flag}: {part!r} is not a number; write comma-separated numbers "
                "such as 0.1,0.5,0.9."
            ) from None
    return items
