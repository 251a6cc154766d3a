"""Word embeddings: train (Word2Vec, FastText via gensim; GloVe), load, evaluate, export.

Example::

    import rnnlab.embeddings as emb
    result = emb.train("corpus.txt", method="glove", vector_size=50, out="vecs/")
    vectors = emb.load("vecs/")                      # or a word2vec/GloVe file, or "glove-6b-50d"
    emb.evaluate_analogies(vectors).accuracy
    emb.save(vectors, "vecs.txt", format="word2vec")
    matrix, covered, coverage = emb.embedding_matrix(vectors, vocab)
"""

from __future__ import annotations

import os
from pathlib import Path

from rnnlab.embeddings.evaluate import (
    AnalogyResult,
    SimilarityResult,
    evaluate_analogies,
    evaluate_similarity,
)
from rnnlab.embeddings.events import ProgressEvent
from rnnlab.embeddings.formats import FORMATS, detect_format, read_vectors, write_vectors
from rnnlab.embeddings.matrix import EmbeddingMatrix, embedding_matrix
from rnnlab.embeddings.pretrained import PRETRAINED, is_pretrained_name, load_pretrained
from rnnlab.embeddings.seeds import SeedReport, evaluate_all, train_seeds
from rnnlab.embeddings.stability import neighbour_stability
from rnnlab.embeddings.train import METHODS, EmbedConfig, TrainResult, train
from rnnlab.embeddings.vectors import Subwords, Vectors
from rnnlab.embeddings.weat import WeatResult, weat

__all__ = [
    "FORMATS",
    "METHODS",
    "PRETRAINED",
    "AnalogyResult",
    "EmbedConfig",
    "EmbeddingMatrix",
    "ProgressEvent",
    "SeedReport",
    "SimilarityResult",
    "Subwords",
    "TrainResult",
    "Vectors",
    "WeatResult",
    "detect_format",
    "embedding_matrix",
    "evaluate_all",
    "evaluate_analogies",
    "evaluate_similarity",
    "load",
    "neighbour_stability",
    "save",
    "train",
    "train_seeds",
    "weat",
]


def load(path: str | os.PathLike[str], format: str | None = None) -> Vectors:
    """Vectors from an rnnlab directory, a word2vec (text/binary) or GloVe file, or a packaged
    name such as ``glove-6b-50d``; ``format`` is detected when ``None``."""
    if isinstance(path, str) and not Path(path).exists() and is_pretrained_name(path):
        return load_pretrained(path)
    return read_vectors(path, format)


def save(vectors: Vectors, path: str | os.PathLike[str], format: str = "rnnlab") -> Path:
    """Write ``vectors`` in ``format``: ``rnnlab``, ``word2vec``, ``word2vec-binary``, ``glove``."""
    return write_vectors(vectors, path, format)
