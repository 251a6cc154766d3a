"""Labelled time series for classification: UCR/UEA ``.ts`` files and the two UCR sets sktime
ships (``gunpoint``, ``italy_power_demand``).

The ``.ts`` format (sktime's, the UCR/UEA archive's): ``@`` header lines (``@problemName``,
``@classLabel true 1 2``, …) up to ``@data``, then one series per line, its values separated
by commas and the class label after the last colon: ``-0.64,-0.64,…,-0.65:2``. Univariate
series only; a missing value (``?``) or a multivariate line (several ``:``-separated
dimensions) is refused with the line number. Written by hand: sktime's reader is heavy to
import for a format this small.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.data.builtin import SKTIME, package_file
from rnnlab.errors import DataError, RnnlabFileNotFoundError

__all__ = ["UCR_SETS", "LabelledSeries", "is_ucr_name", "load_ucr", "parse_values", "read_ts"]

# Built-in name → the folder inside sktime's datasets/data.
UCR_SETS = {"gunpoint": "GunPoint", "italy_power_demand": "ItalyPowerDemand"}


@dataclass
class LabelledSeries:
    """Equal-length series (N, T) and their labels, with where they came from."""

    values: np.ndarray
    labels: list[str]
    source: str


def is_ucr_name(name: str) -> bool:
    return name in UCR_SETS


def read_ts(path: str | Path) -> LabelledSeries:
    """The series and labels of a univariate ``.ts`` file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise RnnlabFileNotFoundError(f"{path}: no such file; pass a .ts file or gunpoint.")
    try:
        lines = path.read_text(encoding="utf-8").split("\n")  # numbered as editors do
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    rows: list[list[float]] = []
    labels: list[str] = []
    in_data = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        if line.count(":") != 1:
            raise DataError(
                f"{path} line {number}: expected 'v1,v2,…:label' (one dimension and a "
                f"label), found {line.count(':')} colon(s); only univariate series are read."
            )
        values, label = line.rsplit(":", 1)
        rows.append(parse_values(values, f"{path} line {number}",
                                 "missing values ('?') are not supported; fill or drop "
                                 "the series"))  # fmt: skip
        if len(rows[-1]) != len(rows[0]):
            raise DataError(
                f"{path} line {number}: {len(rows[-1])} values, but the first series has "
                f"{len(rows[0])}; series must have equal lengths."
            )
        labels.append(label.strip())
    if not rows:
        raise DataError(f"{path}: no series after @data; is it a .ts file?")
    return LabelledSeries(np.asarray(rows, float), labels, str(path))


def parse_values(text: str, where: str, fix: str) -> list[float]:
    """``"1.5,2,-0.3"`` → floats; a value that is not a number is one sentence naming
    ``where`` it stands, and the ``fix``."""
    values = text.split(",")
    try:
        return [float(v) for v in values]
    except ValueError:
        bad = next(v for v in values if not _is_number(v))
        raise DataError(f"{where}: value {bad.strip()!r} is not a number; {fix}.") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_ucr(name: str, split: str) -> LabelledSeries:
    """The ``split`` ("TRAIN" or "TEST") of a built-in UCR set, from sktime's files."""
    folder = UCR_SETS[name]
    path = package_file("sktime", f"datasets/data/{folder}/{folder}_{split}.ts", SKTIME, name)
    found = read_ts(path)
    found.source = f"{name} ({split.lower()})"
    return found
