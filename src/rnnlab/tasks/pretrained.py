"""Initialise a model's embedding layer from pretrained word vectors.

Rows of vocabulary words found in the vectors (exactly, or lower-cased) are copied; ``<pad>``
stays zero; every other row keeps a small random start on the vectors' own scale (see
:func:`rnnlab.embeddings.matrix.embedding_matrix`). ``freeze`` keeps the layer fixed during
training — the usual choice with little labelled data — otherwise the vectors are fine-tuned.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from rnnlab.text.vocab import Vocab

__all__ = ["init_embeddings"]

logger = logging.getLogger("rnnlab")


@torch.no_grad()
def init_embeddings(
    embedding: nn.Embedding, source: str, vocab: Vocab, *, freeze: bool, seed: int = 0
) -> float:
    """Copy vectors from ``source`` (a path or packaged name) into ``embedding``.

    Returns the share of the vocabulary's regular tokens that were found, and logs it.
    Raises :class:`~rnnlab.errors.ShapeError` when the vectors' dimension differs from the
    layer's, naming the setting to change.
    """
    from rnnlab import embeddings  # the vector readers; imported only when vectors are used
    from rnnlab.embeddings.matrix import embedding_matrix

    vectors = embeddings.load(source)
    result = embedding_matrix(
        vectors,
        vocab,
        embedding_dim=embedding.embedding_dim,
        lowercase_fallback=True,
        seed=seed,
    )
    embedding.weight.copy_(result.matrix.to(embedding.weight.device))
    embedding.weight.requires_grad_(not freeze)
    logger.info(
        "embeddings: %d of %d vocabulary words (%.1f%%) initialised from %s%s",
        int(result.covered.sum()),
        vocab.num_tokens,
        100 * result.coverage,
        source,
        " (frozen)" if freeze else "",
    )
    return result.coverage
