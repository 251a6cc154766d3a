"""Commands built when they are named, so that ``rnnlab --help`` stays quick.

``evaluate`` and ``predict`` take the data-reading flags of every registered task, and
``train`` has one command per task: building them imports every task package (and torch,
about two seconds). :class:`LazyCommands` builds such a command only when the command line
names it, and lists it in ``--help`` under a short help line given beforehand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup

__all__ = ["LazyCommands", "command_of"]


def command_of(function: Callable[..., Any], name: str, epilog: str | None = None) -> Any:
    """The click command typer makes of ``function`` (its signature: the options)."""
    single = typer.Typer(add_completion=False, rich_markup_mode=None)
    single.command(name, epilog=epilog)(function)
    return typer.main.get_command(single)


class LazyCommands(TyperGroup):
    """A group whose ``lazy`` commands (name → (short help, builder)) are built when named;
    ``order`` places them among the commands registered the usual way."""

    lazy: ClassVar[dict[str, tuple[str, Callable[[], Any]]]] = {}
    order: ClassVar[tuple[str, ...]] = ()

    def list_commands(self, ctx: Any) -> list[str]:
        names = [*self.commands, *(n for n in self.lazy if n not in self.commands)]
        rank = {name: i for i, name in enumerate(self.order)}
        return sorted(names, key=lambda name: rank.get(name, len(rank)))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.lazy:
            return self.lazy[cmd_name][1]()
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][0]))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
