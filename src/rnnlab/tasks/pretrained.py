"""Initialise a model's embedding layer from pretrained word vectors.

Rows of vocabulary words found in the vectors (exactly, or lower-cased) are copied; ``<pad>``
stays zero; every other row keeps a small random start on the vectors' own scale (see
:func:`rnnlab.embeddings.matrix.embedding_matrix`). ``freeze`` keeps the layer fixed during
training — the usual choice with little labelled data — otherwise the vectors are fine-tuned.

``source = "skipgram"`` (:data:`SELF_TRAINED`) trains the vectors first, on the run's own
training texts (never its validation or test texts): gensim's skip-gram with negative sampling
(Mikolov et al., 2013), the layer's dimension, window 5, 5 epochs, the vocabulary's
``min_count``. One worker thread and a hash of the words that does not change between
processes make the vectors the same on every run with the same seed.

``source = "auto"`` (:data:`AUTO`, the classifier's default) means ``skipgram`` when gensim is
installed and no pretrained start otherwise; ``"none"`` or ``""`` means a random start.
"""

from __future__ import annotations

import importlib.util
import logging
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab.errors import ConfigError
from rnnlab.text.vocab import Vocab

__all__ = ["AUTO", "NONE", "SELF_TRAINED", "init_embeddings", "train_skipgram", "vectors_source"]

SELF_TRAINED = "skipgram"
AUTO = "auto"
NONE = "none"

logger = logging.getLogger("rnnlab")


def vectors_source(setting: str) -> str:
    """What ``model.embeddings = setting`` starts the embedding from: a path or packaged name,
    ``"skipgram"``, or ``""`` (a random start). ``"auto"`` is ``"skipgram"`` when gensim can be
    imported — co-occurrences over the training texts reach words the classifier sees too
    rarely to learn from labels alone (the README's "Why skip-gram vectors are the default" has
    the comparison with a random start) — and ``""`` (logged) when it cannot."""
    if setting in ("", NONE):
        return ""
    if setting != AUTO:
        return setting
    if importlib.util.find_spec("gensim") is None:
        logger.warning(
            "model.embeddings = 'auto': gensim is not installed, so the embedding starts "
            "random; install gensim for skip-gram vectors from the training texts."
        )
        return ""
    return SELF_TRAINED


@torch.no_grad()
def init_embeddings(
    embedding: nn.Embedding,
    source: str,
    vocab: Vocab,
    *,
    freeze: bool,
    seed: int = 0,
    corpus: Sequence[Sequence[str]] | None = None,
) -> float:
    """Copy vectors from ``source`` (a path or packaged name, or ``"skipgram"``: trained now
    on ``corpus``, the tokenised training texts) into ``embedding``.

    Returns the share of the vocabulary's regular tokens that were found, and logs it.
    Raises :class:`~rnnlab.errors.ShapeError` when the vectors' dimension differs from the
    layer's, naming the setting to change.
    """
    from rnnlab import embeddings  # the vector readers; imported only when vectors are used
    from rnnlab.embeddings.matrix import embedding_matrix

    if source == SELF_TRAINED:
        if corpus is None:
            raise ConfigError(
                "model.embeddings = 'skipgram' trains vectors on the training texts, which "
                "this model was not given; name a vectors file instead."
            )
        vectors = train_skipgram(corpus, embedding.embedding_dim, vocab, seed=seed)
        if not vectors.words:
            logger.info("embeddings: no vocabulary word in the training texts; random start")
            embedding.weight.requires_grad_(not freeze)
            return 0.0
    else:
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


def _stable_hash(text: str) -> int:
    """gensim seeds each word's starting vector with ``hashfxn(word + str(seed))``; Python's
    own ``hash`` of a str changes between processes, CRC-32 does not."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def train_skipgram(corpus: Sequence[Sequence[str]], dim: int, vocab: Vocab, *, seed: int) -> Any:
    """Skip-gram vectors of dimension ``dim`` for the words of ``vocab``, trained on
    ``corpus`` (lists of tokens) with gensim; the same on every run with the same ``seed``."""
    from rnnlab.embeddings._gensim import require_gensim
    from rnnlab.embeddings.vectors import Vectors

    require_gensim("model.embeddings = 'skipgram'")
    from gensim.models import Word2Vec

    known = set(vocab.itos)
    sentences = [kept for kept in ([t for t in doc if t in known] for doc in corpus) if kept]
    if not sentences:
        return Vectors([], np.zeros((0, dim), dtype=np.float32), metadata={"method": "skipgram"})
    model = Word2Vec(
        sentences=sentences,
        vector_size=dim, window=5, min_count=1, sg=1, negative=5, epochs=5,
        workers=1, seed=seed, hashfxn=_stable_hash,
    )  # fmt: skip
    words = list(model.wv.index_to_key)
    return Vectors(words, model.wv.vectors, metadata={"method": "skipgram", "source": "train"})
