"""Fixtures of the translation tests: real Multi30K subsets and a model that memorised ten
pairs.

Multi30K lies in ``shared/data/multi30k`` beside the repository (``../shared`` from its root);
tests that need it are skipped, saying so, where it is absent.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from rnnlab.threads import torch_threads

MULTI30K = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "multi30k"


def multi30k_lines(split: str, lang: str, n: int | None = None) -> list[str]:
    if not MULTI30K.is_dir():
        pytest.skip(f"Multi30K is not at {MULTI30K} (shared/data/multi30k beside the repo)")
    with gzip.open(MULTI30K / f"{split}.{lang}.gz", "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    return lines[:n] if n is not None else lines


@pytest.fixture(scope="session")
def multi30k_dir() -> Path:
    if not MULTI30K.is_dir():
        pytest.skip(f"Multi30K is not at {MULTI30K} (shared/data/multi30k beside the repo)")
    return MULTI30K


@pytest.fixture(scope="session")
def subset_files(tmp_path_factory) -> dict[str, Path]:
    """Real Multi30K German → English subsets as aligned files: 2,000 training pairs (the
    German side gzipped, read directly), 100 validation and 100 test pairs."""
    root = tmp_path_factory.mktemp("multi30k-subset")
    files: dict[str, Path] = {}
    for split, name, n in (("train", "train", 2000), ("val", "valid", 100),
                           ("test_2016_flickr", "test", 100)):  # fmt: skip
        for lang in ("de", "en"):
            text = "\n".join(multi30k_lines(split, lang, n)) + "\n"
            if name == "train" and lang == "de":
                path = root / f"{name}.{lang}.gz"
                path.write_bytes(gzip.compress(text.encode("utf-8")))
            else:
                path = root / f"{name}.{lang}"
                path.write_text(text, encoding="utf-8")
            files[f"{name}.{lang}"] = path
    return files


TEN_PAIRS = [
    ("Ein Hund rennt.", "A dog runs."),
    ("Zwei Männer lachen.", "Two men laugh."),
    ("Eine Frau singt.", "A woman sings."),
    ("Ein Kind spielt im Park.", "A child plays in the park."),
    ("Drei Hunde schwimmen.", "Three dogs swim."),
    ("Ein Mann fährt Fahrrad.", "A man rides a bike."),
    ("Die Katze schläft.", "The cat sleeps."),
    ("Zwei Frauen tanzen auf der Straße.", "Two women dance on the street."),
    ("Ein Junge isst einen Apfel.", "A boy eats an apple."),
    ("Das Mädchen liest ein Buch.", "The girl reads a book."),
]


@pytest.fixture(scope="session")
def memorised() -> Iterator[object]:
    """A small model trained until it reproduces :data:`TEN_PAIRS` (no dropout), as a
    predictor with greedy decoding settings."""
    from rnnlab.tasks.translate.config import TranslateDecodeConfig, TranslateModelConfig
    from rnnlab.tasks.translate.data import (
        SideTokenizer,
        TranslateBatches,
        build_vocab,
        encode_side,
    )
    from rnnlab.tasks.translate.model import Seq2Seq
    from rnnlab.tasks.translate.predictor import TranslatePredictor

    with torch_threads(1):
        torch.manual_seed(0)
        tok = SideTokenizer("word")
        src = [tok(s) for s, _ in TEN_PAIRS]
        tgt = [tok(t) for _, t in TEN_PAIRS]
        sv, tv = build_vocab(src, 100, 1), build_vocab(tgt, 100, 1)
        config = TranslateModelConfig(
            hidden_size=48, embedding_dim=32, input_dropout=0.0, output_dropout=0.0,
            label_smoothing=0.0,
        )  # fmt: skip
        model = Seq2Seq(len(sv), len(tv), config, eos_id=3)
        batch = next(
            TranslateBatches(encode_side(sv, src), encode_side(tv, tgt), 10, eos_id=3).batches()
        )
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(150):
            optimizer.zero_grad()
            loss = model.training_step(batch)
            loss.backward()
            optimizer.step()
        model.eval()
        yield TranslatePredictor(model, tok, tok, sv, tv, TranslateDecodeConfig(beam=1))


SMALL = {
    "model.hidden_size": 32,
    "model.embedding_dim": 24,
    "train.epochs": 1,
    "train.batch_size": 32,
    "train.device": "cpu",
    "train.num_threads": 1,
    "decode.beam": 2,
}


@pytest.fixture(scope="session")
def run(subset_files, tmp_path_factory):
    """A run trained on the 2,000-pair subset for one epoch (tiny model, beam 2)."""
    pytest.importorskip("sacrebleu", reason="translation scores need sacreBLEU")
    from rnnlab.tasks.base import get_task

    task = get_task("translate")
    f = subset_files
    config = task.config_type().merge({
        **SMALL,
        "data.data": str(f["train.de"]), "data.target_data": str(f["train.en"]),
        "data.valid": str(f["valid.de"]), "data.valid_target": str(f["valid.en"]),
        "data.test": str(f["test.de"]), "data.test_target": str(f["test.en"]),
    })  # fmt: skip
    run_dir = tmp_path_factory.mktemp("runs") / "de-en"
    summary = task.train(config, run_dir)
    return summary
