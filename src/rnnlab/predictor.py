"""``Predictor``: a trained model with its tokenizer and vocabulary, ready to label texts.

>>> import rnnlab
>>> predictor = rnnlab.load("runs/imdb")          # a run directory or a model file
>>> predictor.predict(["A wonderful, moving film."])
['pos']
>>> predictor.predict_proba(["Dull."])            # (N, K), columns in predictor.labels order
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from rnnlab.config import ModelConfig
from rnnlab.errors import DataError
from rnnlab.runs import load_model_file
from rnnlab.tasks.classify import ClassificationBatches, RecurrentClassifier
from rnnlab.text.batching import encode_texts
from rnnlab.text.tokenize import Tokenizer
from rnnlab.text.vocab import Vocab

__all__ = ["Predictor", "load"]


class Predictor:
    """Turns raw texts into labels and probabilities with a trained classifier.

    Texts are tokenised and encoded exactly as in training (same tokenizer, vocabulary,
    maximum length and truncation side), sorted by length into batches for speed, and the
    results returned in input order.
    """

    def __init__(
        self,
        model: RecurrentClassifier,
        tokenizer: Tokenizer,
        vocab: Vocab,
        *,
        max_len: int | None,
        truncate: str = "head",
        device: str | torch.device = "cpu",
    ) -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.vocab = vocab
        self.max_len = max_len
        self.truncate = truncate
        self.device = torch.device(device)

    @property
    def labels(self) -> list:
        return list(self.model.labels)

    @property
    def task(self) -> str:
        return "classify"

    @classmethod
    def from_file(cls, path: str | Path, device: str | torch.device = "cpu") -> Predictor:
        tensors, meta = load_model_file(path)
        if meta["task"] != "classify":
            raise DataError(f"{path} holds a '{meta['task']}' model; Predictor reads 'classify'.")
        config = ModelConfig(**meta["model_config"])
        vocab = Vocab.from_dict(meta["vocab"])
        model = RecurrentClassifier(len(vocab), meta["labels"], config, pad_id=vocab.pad_id)
        model.load_state_dict(tensors, strict=True)
        prep = meta["preprocessing"]
        return cls(
            model,
            Tokenizer.from_dict(meta["tokenizer"]),
            vocab,
            max_len=prep.get("max_len"),
            truncate=prep.get("truncate", "head"),
            device=device,
        )

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, truncated as in training."""
        tokens = [self.tokenizer(text) for text in texts]
        return encode_texts(tokens, self.vocab, self.max_len, self.truncate)

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Probabilities (N, K); column k belongs to ``labels[k]``."""
        if isinstance(texts, str):
            texts = [texts]
        sequences = self.encode(texts)
        order = np.argsort([len(s) for s in sequences], kind="stable")
        batches = ClassificationBatches(
            [sequences[i] for i in order], None, batch_size, pad_id=self.vocab.pad_id
        )
        probs_sorted, index = self.model.predict_batches(batches.batches())
        probs = np.empty_like(probs_sorted)
        probs[order[index]] = probs_sorted
        return probs

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list:
        """The most probable label of each text."""
        probs = self.predict_proba(texts, batch_size)
        labels = self.labels
        return [labels[k] for k in probs.argmax(axis=1)]


def load(path: str | Path, device: str | torch.device = "cpu") -> Predictor:
    """Load a run directory or model file as a :class:`Predictor`."""
    return Predictor.from_file(path, device=device)
