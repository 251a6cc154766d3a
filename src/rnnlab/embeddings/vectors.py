"""``Vectors``: a trained word-vector table, the artefact users keep (not the training state).

A ``Vectors`` holds the words (most frequent first when counts are known), a float32 matrix
with one row per word, the training counts, free-form metadata (method, parameters, corpus)
and, for FastText, the character n-gram table that gives vectors to unseen words. It answers
lookups, cosine similarities and nearest neighbours; :mod:`rnnlab.embeddings.formats` reads and
writes it.

Example::

    >>> v = Vectors(["a", "b"], np.eye(2, dtype=np.float32))
    >>> v.similarity("a", "b")
    0.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnlab.errors import DataError, ShapeError

__all__ = ["Subwords", "Vectors"]


@dataclass(frozen=True)
class Subwords:
    """FastText's character n-gram table: a vector for any word, seen in training or not.

    The vector of an unseen word is the mean of the rows ``hash(g) % bucket`` over its
    n-grams ``g`` (``min_n`` to ``max_n`` characters of ``<word>``), hashed exactly as
    gensim and Facebook's fastText do (gensim's ``ft_ngram_hashes``).
    """

    ngrams: np.ndarray  # (bucket, dim) float32
    min_n: int
    max_n: int

    def vector(self, word: str) -> np.ndarray | None:
        """Mean n-gram vector of ``word``; ``None`` when it has no n-gram."""
        from rnnlab.embeddings._gensim import require_gensim

        require_gensim("a vector for an unseen word from FastText n-grams")
        from gensim.models.fasttext import ft_ngram_hashes

        hashes = ft_ngram_hashes(word, self.min_n, self.max_n, self.ngrams.shape[0])
        if not hashes:
            return None
        return self.ngrams[hashes].mean(axis=0, dtype=np.float32)


class Vectors:
    """Word vectors: ``words[i]`` has the vector ``matrix[i]``.

    Args:
        words: distinct words, in row order (most frequent first when ``counts`` are given).
        matrix: ``(len(words), dim)`` array, stored as float32.
        counts: training count of each word, or ``None`` (e.g. vectors read from a text file).
        metadata: JSON-ready description (``method``, ``params``, ``corpus``, ...).
        subwords: FastText n-grams for words outside ``words``, or ``None``.

    Shape:
        matrix: ``(V, D)``.
    """

    def __init__(
        self,
        words: Sequence[str],
        matrix: np.ndarray,
        counts: Sequence[int] | np.ndarray | None = None,
        metadata: Mapping[str, Any] | None = None,
        subwords: Subwords | None = None,
    ) -> None:
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ShapeError(
                f"matrix: expected shape ({len(words)}, dim) for {len(words)} words, got "
                f"{tuple(matrix.shape)}; pass one row per word."
            )
        self.words: list[str] = list(words)
        self.key_to_index: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        if len(self.key_to_index) != len(self.words):
            seen: set[str] = set()
            dup = next(w for w in self.words if w in seen or seen.add(w))  # type: ignore[func-returns-value]
            raise DataError(f"words: expected distinct words, got {dup!r} twice; remove one.")
        if counts is not None and len(counts) != len(self.words):
            raise ShapeError(
                f"counts: expected {len(self.words)} counts (one per word), got {len(counts)}."
            )
        self.matrix = matrix
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.subwords = subwords
        self._unit: np.ndarray | None = None

    # ----------------------------------------------------------------- lookup
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.key_to_index

    def __repr__(self) -> str:
        method = self.metadata.get("method", "?")
        return f"Vectors({len(self)} words x {self.dim} dims, method={method!r})"

    @property
    def dim(self) -> int:
        """Vector size ``D``."""
        return int(self.matrix.shape[1])

    def __getitem__(self, word: str) -> np.ndarray:
        """Vector of ``word``; an unseen word gets its n-gram vector when FastText made it."""
        found = self.key_to_index.get(word)
        if found is not None:
            return self.matrix[found]
        if self.subwords is not None:
            vec = self.subwords.vector(word)
            if vec is not None:
                return vec
        raise KeyError(f"word {word!r} is not in the vocabulary ({len(self)} words)")

    def has_vector(self, word: str) -> bool:
        """True if :meth:`__getitem__` can give ``word`` a vector."""
        return word in self.key_to_index or self.subwords is not None

    @property
    def unit(self) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero), computed once. ``(V, D)``."""
        if self._unit is None:
            norms = np.linalg.norm(self.matrix, axis=1, keepdims=True)
            self._unit = self.matrix / np.where(norms == 0, 1, norms)
        return self._unit

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        va, vb = self[a], self[b]
        denom = float(np.linalg.norm(va) * np.linalg.norm(vb))
        return float(np.dot(va, vb) / denom) if denom else 0.0

    def most_similar(
        self,
        query: str | np.ndarray,
        topn: int = 10,
        restrict_vocab: int | None = None,
        exclude: Iterable[str] = (),
    ) -> list[tuple[str, float]]:
        """The ``topn`` words nearest to ``query`` (a word or a vector) by cosine similarity.

        A query word is left out of its own answer. ``restrict_vocab`` searches only the
        first (most frequent) words.
        """
        skip = set(exclude)
        if isinstance(query, str):
            skip.add(query)
            vec = self[query]
        else:
            vec = np.asarray(query, dtype=np.float32)
            if vec.shape != (self.dim,):
                raise ShapeError(
                    f"query: expected a vector of {self.dim} numbers, got shape {vec.shape}."
                )
        norm = float(np.linalg.norm(vec))
        unit = self.unit[:restrict_vocab]
        scores = unit @ (vec / norm if norm else vec)
        k = min(len(scores), topn + len(skip))
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        out = [(self.words[i], float(scores[i])) for i in best if self.words[i] not in skip]
        return out[:topn]

    # ----------------------------------------------------------------- interop
    def to_gensim(self) -> Any:
        """A gensim ``KeyedVectors`` with the same words, order and vectors."""
        from rnnlab.embeddings._gensim import require_gensim

        require_gensim("Vectors.to_gensim")
        from gensim.models import KeyedVectors

        kv = KeyedVectors(self.dim, count=0, dtype=np.float32)
        kv.add_vectors(self.words, self.matrix)
        if self.counts is not None:
            for word, count in zip(self.words, self.counts, strict=True):
                kv.set_vecattr(word, "count", int(count))
        return kv

    @classmethod
    def from_gensim(cls, kv: Any, metadata: Mapping[str, Any] | None = None) -> Vectors:
        """Copy a gensim ``KeyedVectors`` (or ``FastTextKeyedVectors``, n-grams included)."""
        words = list(kv.index_to_key)
        counts = None
        if words and "count" in getattr(kv, "expandos", {}):
            counts = [int(kv.get_vecattr(w, "count")) for w in words]
        subwords = None
        if getattr(kv, "vectors_ngrams", None) is not None and getattr(kv, "bucket", 0):
            subwords = Subwords(
                np.ascontiguousarray(kv.vectors_ngrams, dtype=np.float32),
                int(kv.min_n),
                int(kv.max_n),
            )
        return cls(words, np.asarray(kv.vectors), counts, metadata, subwords)
