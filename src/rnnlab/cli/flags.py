"""The flag a user typed for each config key a command sets, so errors speak in flags.

A command turns its options into dotted config keys (``--epochs 0`` → ``train.epochs = 0``);
when the config rejects a value, the message should name ``--epochs``, not
``Config key 'train.epochs'`` — the user never wrote the latter. The running click command
knows its options; a key maps to the option whose parameter name is the key's last part.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

__all__ = ["typed_flags"]


def typed_flags(keys: Iterable[str]) -> dict[str, str]:
    """``{dotted key: "--flag"}`` for the ``keys`` the running command has an option for;
    empty outside a command (the Python API keeps naming config keys)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return {}
    options = {
        param.name: param.opts[0]
        for param in context.command.params
        if isinstance(param, click.Option) and param.name and param.opts
    }
    out = {}
    for key in keys:
        flag = options.get(key.rsplit(".", 1)[-1])
        if flag is not None and flag.startswith("--"):
            out[key] = flag
    return out
