"""Streaming corpora: raw texts in, one line of space-separated tokens per document out.

A corpus is a text file (one document per line, UTF-8) or a built-in dataset name (its train
split's texts, see :mod:`rnnlab.data.datasets`). :func:`tokenize_corpus` reads it once, tokenises
each document with an rnnlab tokenizer and writes the tokens to a work file while counting
words, so only the counts and one document are in memory at a time. Trainers then re-read
that file every epoch (:class:`TokenFile`), which is what lets a corpus larger than memory
train, and what gensim's fast ``corpus_file`` mode reads directly.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rnnlab.embeddings.events import ProgressEvent, ProgressFn
from rnnlab.errors import DataError, RnnlabFileNotFoundError
from rnnlab.text.tokenize import TOKENIZERS, Tokenizer, get_tokenizer, guess_tokenizer

__all__ = ["RawTexts", "TokenFile", "TokenizedCorpus", "tokenize_corpus"]

_REPORT_EVERY = 2000  # documents between progress events


class RawTexts:
    """The documents of a corpus, read afresh on every iteration.

    Args:
        source: a text file path (one document per line) or a dataset name such as ``imdb``
            (its train split's texts).
    """

    def __init__(self, source: str | os.PathLike[str]) -> None:
        from rnnlab.data.datasets import is_dataset_name, names

        self.source = str(source)
        path = Path(source)
        self.dataset: str | None = None
        if not path.exists() and is_dataset_name(self.source):
            self.dataset = self.source
        elif not path.is_file():
            raise RnnlabFileNotFoundError(
                f"corpus: expected a text file (one document per line) or a dataset name "
                f"({', '.join(names('classify'))}), got {self.source!r}, which is "
                "neither; check the path."
            )
        self.path = path

    def __iter__(self) -> Iterator[str]:
        if self.dataset is not None:
            from rnnlab.data import datasets

            yield from datasets.load(self.dataset).train.texts
            return
        with open(self.path, encoding="utf-8", errors="strict") as handle:
            line_no = 0
            try:
                for line_no, line in enumerate(handle, start=1):  # noqa: B007
                    yield line
            except UnicodeDecodeError:
                raise DataError(
                    f"{self.path} line {line_no + 1}: expected UTF-8 text, got undecodable "
                    "bytes; re-save the corpus as UTF-8."
                ) from None


class TokenFile:
    """Token lists from a file of space-separated tokens, re-read on every iteration."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __iter__(self) -> Iterator[list[str]]:
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                yield line.split()


@dataclass
class TokenizedCorpus:
    """A corpus after :func:`tokenize_corpus`.

    Attributes:
        path: the work file, one document of space-separated tokens per line.
        counts: how often each token occurs.
        documents: number of non-empty documents.
        tokens: number of tokens.
        tokenizer: the tokenizer used (``auto`` resolved).
        source: the corpus as the user named it.
    """

    path: Path
    counts: Counter[str]
    documents: int
    tokens: int
    tokenizer: Tokenizer
    source: str

    def __iter__(self) -> Iterator[list[str]]:
        return iter(TokenFile(self.path))


def resolve_tokenizer(name: str | Tokenizer, texts: Iterable[str]) -> Tokenizer:
    """The tokenizer called ``name``; ``auto`` looks at the first 2,000 documents."""
    if isinstance(name, Tokenizer):
        return name
    if name == "auto":
        name = guess_tokenizer(texts)
    elif name not in TOKENIZERS:
        # get_tokenizer names the choices
        return get_tokenizer(name)
    return get_tokenizer(name)


def tokenize_corpus(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    tokenizer: str | Tokenizer = "auto",
    progress: ProgressFn | None = None,
) -> TokenizedCorpus:
    """Tokenise every document of ``source`` into the work file ``out``, counting tokens.

    Empty documents (no tokens) are skipped. Raises :class:`DataError` when the corpus holds
    no token at all.
    """
    raw = RawTexts(source)
    tok = resolve_tokenizer(tokenizer, itertools.islice(raw, 2000))
    counts: Counter[str] = Counter()
    documents = tokens = 0
    start = time.perf_counter()
    out = Path(out)
    with open(out, "w", encoding="utf-8", newline="\n") as handle:
        for i, text in enumerate(raw, start=1):
            words = [w for w in tok(text) if w and not any(c.isspace() for c in w)]
            if not words:
                continue
            counts.update(words)
            documents += 1
            tokens += len(words)
            handle.write(" ".join(words))
            handle.write("\n")
            if progress is not None and i % _REPORT_EVERY == 0:
                progress(ProgressEvent("tokenize", 0, 0, tokens, 0, time.perf_counter() - start))
    if tokens == 0:
        raise DataError(
            f"corpus {raw.source!r}: expected text to learn from, got no tokens with the "
            f"{tok.name!r} tokenizer; check the file (one document per line) or the --tokenizer."
        )
    if progress is not None:
        progress(ProgressEvent("tokenize", 0, 0, tokens, tokens, time.perf_counter() - start))
    return TokenizedCorpus(out, counts, documents, tokens, tok, raw.source)
