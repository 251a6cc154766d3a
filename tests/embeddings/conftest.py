"""Shared fixtures: small real corpora written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnlab.embeddings import Vectors


@pytest.fixture(scope="session")
def imdb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 480k tokens of IMDB review text, one review per line."""
    import rnnlab.data.datasets

    texts = rnnlab.data.datasets.load("imdb").train.texts[:2000]
    path = tmp_path_factory.mktemp("corpus") / "imdb.txt"
    path.write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def small_vectors() -> Vectors:
    rng = np.random.default_rng(0)
    words = ["king", "queen", "man", "woman", "猫", "狗", "naïve", "Paris"]
    return Vectors(words, rng.normal(size=(len(words), 6)), counts=list(range(8, 0, -1)))
