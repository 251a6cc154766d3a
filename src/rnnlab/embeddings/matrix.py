"""``embedding_matrix``: the rows of an embedding layer for a :class:`~rnnlab.text.vocab.Vocab`.

A token found in the vectors gets its vector copied; ``<pad>`` gets zeros; every other row
(unknown tokens, ``<sos>``, ``<unk>``, OOV buckets) gets small random values drawn from a
normal distribution with the standard deviation of the pretrained vectors, so new rows start
on the same scale as copied ones.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from rnnlab.embeddings.vectors import Vectors
from rnnlab.errors import ConfigError, ShapeError
from rnnlab.text.vocab import SPECIALS, Vocab

__all__ = ["EmbeddingMatrix", "embedding_matrix"]


class EmbeddingMatrix(NamedTuple):
    """``(matrix, covered, coverage)``; unpacks like a tuple.

    Attributes:
        matrix: ``(len(vocab), D)`` float32 tensor, ready for ``nn.Embedding.from_pretrained``.
        covered: ``(len(vocab),)`` bool tensor, True where a vector was copied.
        coverage: share of the vocabulary's regular tokens that were found.
    """

    matrix: torch.Tensor
    covered: torch.Tensor
    coverage: float


def embedding_matrix(
    vectors: Vectors,
    vocab: Vocab,
    *,
    embedding_dim: int | None = None,
    lowercase_fallback: bool = False,
    init_std: float | None = None,
    seed: int = 0,
) -> EmbeddingMatrix:
    """Map ``vocab``'s ids to rows of ``vectors``.

    Args:
        vectors: pretrained vectors.
        vocab: the model's vocabulary; row ``i`` is for id ``i``.
        embedding_dim: the size the model expects; a different ``vectors.dim`` raises
            :class:`~rnnlab.errors.ShapeError`.
        lowercase_fallback: also try ``token.lower()`` when ``token`` itself is missing.
        init_std: standard deviation of the random rows (``None``: that of the vectors).
        seed: seed of the random rows.

    Example::

        >>> vectors = Vectors(["film", "fine"], np.ones((2, 4), dtype=np.float32))
        >>> vocab = Vocab.build([["a", "fine", "film"]])
        >>> m, covered, coverage = embedding_matrix(vectors, vocab)
        >>> m.shape, round(coverage, 3)  # 2 of the 3 regular tokens have a vector
        (torch.Size([6, 4]), 0.667)
        >>> layer = torch.nn.Embedding.from_pretrained(m, freeze=True, padding_idx=0)
    """
    if not isinstance(vocab, Vocab):
        raise ConfigError(
            f"vocab: expected an rnnlab.text.vocab.Vocab, got {type(vocab).__name__}; build "
            "one with Vocab.build."
        )
    if embedding_dim is not None and embedding_dim != vectors.dim:
        raise ShapeError(
            f"embedding_dim: the model expects {embedding_dim}-dimensional embeddings, but the "
            f"vectors have {vectors.dim} dimensions; set embedding_dim to {vectors.dim} or use "
            "other vectors."
        )
    std = float(vectors.matrix.std()) if init_std is None else init_std
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, std, size=(len(vocab), vectors.dim)).astype(np.float32)
    matrix[vocab.pad_id] = 0.0
    covered = np.zeros(len(vocab), dtype=bool)
    index = vectors.key_to_index
    for i, token in enumerate(vocab.itos):
        if i < len(SPECIALS):
            continue
        row = index.get(token)
        if row is None and lowercase_fallback:
            row = index.get(token.lower())
        if row is not None:
            matrix[i] = vectors.matrix[row]
            covered[i] = True
    coverage = float(covered.sum() / vocab.num_tokens) if vocab.num_tokens else 0.0
    return EmbeddingMatrix(torch.from_numpy(matrix), torch.from_numpy(covered), coverage)
