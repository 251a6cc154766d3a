"""The flag a user typed for each config key a command sets, so errors speak in flags.

A command turns its options into dotted config keys (``--epochs 0`` → ``train.epochs = 0``);
when the config rejects a value, the message should name ``--epochs``, not
``Config key 'train.epochs'`` — the user never wrote the latter. The commands name each flag
after the last part of its key (``data.text_col`` → ``--text-col``); the one exception,
``--freeze/--fine-tune`` for ``model.freeze_embeddings``, is a switch whose values cannot be
wrong.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["flag_name", "typed_flags"]


def flag_name(key: str) -> str:
    """``"train.batch_size"`` → ``"--batch-size"``."""
    return "--" + key.rsplit(".", 1)[-1].replace("_", "-")


def typed_flags(keys: Iterable[str]) -> dict[str, str]:
    """``{dotted key: "--flag"}`` for config ``keys`` that came from command-line flags."""
    return {key: flag_name(key) for key in keys}
