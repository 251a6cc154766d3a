"""Intrinsic evaluation: Google analogies (3CosAdd) and word-similarity correlation.

Both follow gensim's ``KeyedVectors.evaluate_word_analogies`` / ``evaluate_word_pairs``
exactly, so numbers are comparable with published gensim results (tests check equality):

- Only the first ``restrict_vocab`` words (the most frequent) are searched and accepted;
  questions or pairs with another word are skipped and counted as out-of-vocabulary.
- Matching is case-insensitive: words are upper-cased and each upper-case form maps to its
  most frequent spelling.
- Analogy ``a : b :: c : ?`` is answered by 3CosAdd: the word whose unit vector has the
  largest dot product with ``unit(b) + unit(c) − unit(a)``, excluding ``a``, ``b``, ``c``
  (among the top 5, the first whose upper-case form is none of them).
- Similarity is the Spearman rank correlation between cosine similarities and human scores.

The defaults read the test sets gensim ships (``questions-words.txt``, ``wordsim353.tsv``,
``simlex999.txt``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.embeddings.vectors import Vectors
from rnnlab.errors import DataError, RnnlabFileNotFoundError

__all__ = [
    "AnalogyResult",
    "SimilarityResult",
    "default_file",
    "evaluate_analogies",
    "evaluate_similarity",
]

DEFAULT_FILES = {
    "analogies": "questions-words.txt",
    "wordsim353": "wordsim353.tsv",
    "simlex999": "simlex999.txt",
}


def default_file(name: str) -> Path:
    """Path of a test set shipped with gensim (``analogies``, ``wordsim353``, ``simlex999``)."""
    from rnnlab.embeddings._gensim import require_gensim

    require_gensim(f"the default {name} test set")
    from gensim.test.utils import datapath

    return Path(datapath(DEFAULT_FILES[name]))


def _ok_vocab(vectors: Vectors, restrict_vocab: int) -> dict[str, int]:
    """Upper-cased word -> index of its most frequent spelling, among the first words."""
    words = vectors.words[:restrict_vocab]
    return {w.upper(): i for i, w in reversed(list(enumerate(words)))}


def _open(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise RnnlabFileNotFoundError(f"test set: {str(p)!r} does not exist; check the path.")
    return p


@dataclass
class AnalogyResult:
    """Analogy accuracy overall and per section.

    Attributes:
        accuracy: correct / answered, over all sections.
        sections: section name -> (correct, answered).
        questions: questions in the file; ``oov``: skipped for a word outside the vocabulary.
        restrict_vocab: how many of the most frequent words were searched.
    """

    accuracy: float
    sections: dict[str, tuple[int, int]]
    questions: int
    oov: int
    restrict_vocab: int
    path: str = ""

    @property
    def oov_ratio(self) -> float:
        return self.oov / self.questions if self.questions else 0.0


def evaluate_analogies(
    vectors: Vectors,
    path: str | os.PathLike[str] | None = None,
    restrict_vocab: int = 30_000,
    batch: int = 512,
) -> AnalogyResult:
    """3CosAdd accuracy on an analogy file (``: section`` headers, then ``a b c d`` lines)."""
    p = default_file("analogies") if path is None else _open(path)
    ok = _ok_vocab(vectors, restrict_vocab)
    unit = vectors.unit[:restrict_vocab]
    names: list[str] = []
    queries: list[tuple[int, tuple[str, str, str, str]]] = []  # (section, upper-cased words)
    questions = oov = 0
    with open(p, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.startswith(": "):
                names.append(line.lstrip(": ").strip())
                continue
            if not names:
                raise DataError(f"{p} line {line_no}: expected a ': section' header first.")
            parts = [w.upper() for w in line.split()]
            if len(parts) != 4:
                continue
            questions += 1
            if any(w not in ok for w in parts):
                oov += 1
                continue
            queries.append((len(names) - 1, tuple(parts)))  # type: ignore[arg-type]
    counts = {name: [0, 0] for name in names}
    for lo in range(0, len(queries), batch):
        part = queries[lo : lo + batch]
        idx = np.array([[ok[w] for w in q[:3]] for _, q in part])  # (B, 3): a, b, c
        mean = unit[idx[:, 1]] + unit[idx[:, 2]] - unit[idx[:, 0]]
        mean /= np.linalg.norm(mean, axis=1, keepdims=True)
        scores = mean @ unit.T  # (B, V)
        scores[np.arange(len(part))[:, None], idx] = -np.inf
        top = np.argpartition(-scores, 5, axis=1)[:, :5]
        for row, (section, (a, b, c, expected)) in enumerate(part):
            ranked = top[row][np.argsort(-scores[row, top[row]], kind="stable")]
            predicted = None
            for i in ranked:
                predicted = vectors.words[i].upper()
                if predicted not in (a, b, c):
                    break
            counts[names[section]][1] += 1
            counts[names[section]][0] += predicted == expected
    correct = sum(c for c, _ in counts.values())
    answered = sum(n for _, n in counts.values())
    return AnalogyResult(
        accuracy=correct / answered if answered else 0.0,
        sections={k: (c, n) for k, (c, n) in counts.items()},
        questions=questions,
        oov=oov,
        restrict_vocab=min(restrict_vocab, len(vectors)),
        path=str(p),
    )


@dataclass
class SimilarityResult:
    """Spearman ρ between cosine similarity and human judgements, and the coverage."""

    spearman: float
    pairs: int
    oov: int
    path: str = ""
    details: list[tuple[str, str, float, float]] = field(default_factory=list, repr=False)

    @property
    def oov_ratio(self) -> float:
        total = self.pairs + self.oov
        return self.oov / total if total else 0.0


def evaluate_similarity(
    vectors: Vectors,
    path: str | os.PathLike[str] | None = None,
    restrict_vocab: int = 300_000,
    delimiter: str = "\t",
) -> SimilarityResult:
    """Spearman ρ on a word-pair file (``word1<TAB>word2<TAB>score``; ``#`` comments)."""
    from scipy.stats import spearmanr

    p = default_file("wordsim353") if path is None else _open(path)
    ok = _ok_vocab(vectors, restrict_vocab)
    unit = vectors.unit
    details = []
    oov = 0
    with open(p, encoding="utf-8") as handle:
        for line in handle:
            if not line or line.startswith("#"):
                continue
            parts = [w.upper() for w in line.split(delimiter)]
            try:
                a, b, score = parts[0], parts[1], float(parts[2])
                if len(parts) != 3:
                    continue
            except (IndexError, ValueError):
                continue
            if a not in ok or b not in ok:
                oov += 1
                continue
            details.append((a, b, score, float(np.dot(unit[ok[a]], unit[ok[b]]))))
    if not details:
        raise DataError(
            f"{p}: no word pair with both words in the vocabulary (or the file is not "
            "'word1<TAB>word2<TAB>score' lines); check the file and the vectors."
        )
    rho = spearmanr([d[2] for d in details], [d[3] for d in details]).statistic
    return SimilarityResult(float(rho), len(details), oov, str(p), details)
