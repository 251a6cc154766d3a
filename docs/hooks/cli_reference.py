"""The command-line reference page, written from the ``rnnlab`` commands at build time.

The page ``reference/cli.md`` is not a file in ``docs/``: :func:`on_files` adds it to the
build, rendered by :func:`render` from the click commands themselves (typer's
``get_command``; typer ships its own copy of click, so commands are read by their click
interface, not checked against ``click`` classes), so a flag that is renamed, added or
removed changes the reference in the next build. The root group builds some commands only
when they are named (``rnnlab.cli.lazy.LazyCommands``) and ``rnnlab train`` builds one
command per registered task; walking every group through ``list_commands`` and
``get_command`` reaches them all.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

PAGE = "reference/cli.md"

_INTRO = """\
# Command line

Every command and option of `rnnlab`, written from the commands themselves when this site
is built: what `rnnlab COMMAND --help` prints. Options that take a value show its kind
(`<int>`, `<path>`, …) and their default. `rnnlab train TASK` also accepts `--nproc N`
(train on N processes of this machine under torchrun; see the
[scale-out guide](../guides/scale-out.md)).
"""


def root_command() -> Any:
    """The click group of ``rnnlab`` (what the console script runs)."""
    import typer

    from rnnlab.cli import app

    return typer.main.get_command(app)


def walk(command: Any, name: str = "rnnlab", parent: Any = None) -> Iterator[tuple[str, Any, Any]]:
    """Every command under ``command`` (itself first), depth first in the order of
    ``--help``: its full name (``rnnlab train classify``), the command and its context."""
    context = command.context_class(command, info_name=name, parent=parent)
    yield context.command_path, command, context
    if _is_group(command):
        for sub_name in command.list_commands(context):
            sub = command.get_command(context, sub_name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, sub_name, context)


def _is_group(command: Any) -> bool:
    return callable(getattr(command, "list_commands", None))


def _is_argument(param: Any) -> bool:
    return param.param_type_name == "argument"


def _escape(text: str) -> str:
    """Plain help text as Markdown that shows it literally."""
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", text)


def _paragraphs(text: str) -> str:
    """Click help text as Markdown: paragraphs rewrapped, ``\\b`` paragraphs kept line by
    line (click prints those as written)."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if lines and lines[0].strip() == "\b":
            out.append("<br>\n".join(_escape(line.strip()) for line in lines[1:]))
        else:
            out.append(_escape(" ".join(line.strip() for line in lines)))
    return "\n\n".join(out)


def _cell(text: str) -> str:
    return _escape(" ".join(text.split())) or " "


def _options_table(command: Any, context: Any) -> str:
    rows = []
    for param in command.get_params(context):
        record = None if _is_argument(param) else param.get_help_record(context)
        if record is None:
            continue
        names, help_text = record
        rows.append(f"| `{' '.join(names.split())}` | {_cell(help_text or '')} |")
    arguments = [p for p in command.get_params(context) if _is_argument(p)]
    lines = []
    if arguments:
        lines += ["**Arguments**", "", "| Argument | Description |", "| --- | --- |"]
        for argument in arguments:
            help_text = getattr(argument, "help", None) or ""
            metavar = (argument.name or "").upper()
            lines.append(f"| `{metavar}` | {_cell(help_text)} |")
        lines.append("")
    if rows:
        lines += ["**Options**", "", "| Option | Description |", "| --- | --- |", *rows]
    return "\n".join(lines)


def _section(full_name: str, command: Any, context: Any) -> str:
    level = "#" * min(2 + full_name.count(" ") - 1, 4)
    parts = [f"{level} {full_name}" if full_name != "rnnlab" else "## rnnlab", ""]
    usage = command.get_usage(context).strip()
    parts += ["```text", usage, "```", ""]
    if command.help:
        parts += [_paragraphs(command.help), ""]
    if _is_group(command):
        rows = ["| Command | Description |", "| --- | --- |"]
        for sub_name in command.list_commands(context):
            sub = command.get_command(context, sub_name)
            if sub is not None and not sub.hidden:
                anchor = _anchor(f"{full_name} {sub_name}")
                rows.append(f"| [`{sub_name}`](#{anchor}) | {_cell(sub.get_short_help_str(200))} |")
        parts += ["**Commands**", "", *rows, ""]
    table = _options_table(command, context)
    if table:
        parts += [table, ""]
    if command.epilog:
        epilog = command.epilog.replace("\b\n", "").strip("\n")
        parts += ["```text", epilog, "```", ""]
    return "\n".join(parts)


def _anchor(title: str) -> str:
    """The id Python-Markdown's toc extension gives a heading ``title``."""
    slug = re.sub(r"[^\w\s-]", "", title).strip().lower()
    return re.sub(r"[-\s]+", "-", slug)


def commands() -> list[str]:
    """The full name of every command, group and subcommand of ``rnnlab``."""
    return [name for name, _, _ in walk(root_command())]


def render() -> str:
    """The reference page: every command's usage, description, options and examples."""
    sections = [_section(name, command, context) for name, command, context in walk(root_command())]
    return _INTRO + "\n" + "\n".join(sections)


def on_files(files: Any, config: Any) -> Any:
    """mkdocs hook: add the generated page to the site's files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=render()))
    return files
