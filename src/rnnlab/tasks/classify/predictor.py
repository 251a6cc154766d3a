"""``TextPredictor``: a trained classifier with its tokenizer and vocabulary, ready to label
texts (what ``rnnlab.load`` returns for a ``classify`` model file).

>>> import rnnlab
>>> texts = ["a wonderful, moving film", "dull and far too long", "lovely acting", "a boring plot"]
>>> labels = ["pos", "neg", "pos", "neg"]
>>> clf = rnnlab.TextClassifier(epochs=1, hidden_size=8).fit(texts * 5, labels * 5)
>>> clf.save("films.safetensors")
PosixPath('films.safetensors')
>>> predictor = rnnlab.load("films.safetensors")  # a run directory or a model file
>>> predictor.predict(["A wonderful, moving film."])
['pos']
>>> predictor.predict_proba(["Dull."]).shape  # (N, K), columns in predictor.labels order
(1, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rnnlab.errors import DataError
from rnnlab.runs import load_model_file, rebuilding
from rnnlab.tasks.base import Predictor
from rnnlab.tasks.classify.config import ModelConfig
from rnnlab.tasks.classify.data import ClassificationBatches
from rnnlab.tasks.classify.lexical import LexicalModel
from rnnlab.tasks.classify.model import RecurrentClassifier
from rnnlab.text.batching import encode_texts
from rnnlab.text.tokenize import Tokenizer
from rnnlab.text.vocab import Vocab

if TYPE_CHECKING:
    from rnnlab.explain import Explanation, GateTrace

__all__ = ["TextPredictor"]


class TextPredictor(Predictor):
    """Turns raw texts into labels and probabilities with a trained classifier.

    Texts are tokenised and encoded exactly as in training (same tokenizer, vocabulary,
    maximum length and truncation side), sorted by length into batches for speed, and the
    results returned in input order. ``engine`` runs the batches: the model itself, or its
    exported graph on onnxruntime (:class:`~rnnlab.deploy.engines.OnnxEngine`, attached by
    ``rnnlab.load(path, engine="onnx")``); both see the same batches.
    """

    task = "classify"

    def __init__(
        self,
        model: RecurrentClassifier,
        tokenizer: Tokenizer,
        vocab: Vocab,
        *,
        max_len: int | None,
        truncate: str = "head",
        device: str | torch.device = "cpu",
        engine: Any = None,
    ) -> None:
        self.model = model.to(device).eval()
        self.engine = model if engine is None else engine  # runs the batches: torch or onnx
        self.tokenizer = tokenizer
        self.vocab = vocab
        self.max_len = max_len
        self.truncate = truncate
        self.device = torch.device(device)

    @property
    def labels(self) -> list:
        return list(self.model.labels)

    @classmethod
    def from_file(cls, path: str | Path, device: str | torch.device = "cpu") -> TextPredictor:
        """Load a run directory or model file (``rnnlab.load(path, engine="onnx")`` runs it
        on onnxruntime instead)."""
        tensors, meta = load_model_file(path)
        if meta["task"] != "classify":
            raise DataError(
                f"{path} holds a '{meta['task']}' model; TextPredictor reads 'classify' models "
                "(rnnlab.load picks the right predictor)."
            )
        with rebuilding(path, "classify"):
            config = ModelConfig(**meta["model_config"])
            vocab = Vocab.from_dict(meta["vocab"])
            model = RecurrentClassifier(len(vocab), meta["labels"], config, pad_id=vocab.pad_id)
            if "lexical.idf" in tensors:  # the default: the network averaged with TF-IDF + LR
                buckets = tensors["lexical.idf"].shape[0] - len(vocab) - 1
                lexical = LexicalModel(len(vocab), len(meta["labels"]), buckets, vocab.pad_id)
                model.attach_lexical(lexical, float(tensors["recurrent_weight"]))
            model.load_state_dict(tensors, strict=True)
            prep = meta["preprocessing"]
            tokenizer = Tokenizer.from_dict(meta["tokenizer"])
            max_len, truncate = prep.get("max_len"), prep.get("truncate", "head")
        return cls(model, tokenizer, vocab, max_len=max_len, truncate=truncate, device=device)

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
        probs_sorted, index = self.engine.predict_batches(batches.batches())
        probs = np.empty_like(probs_sorted)
        probs[order[index]] = probs_sorted
        return probs

    @property
    def combined(self) -> bool:
        """True when the model averages the network with a lexical model (the default)."""
        return self.model.lexical is not None

    def predict_members(self, texts: Sequence[str], batch_size: int = 64) -> dict[str, np.ndarray]:
        """Each member's own probabilities (N, K) — ``{"recurrent": …, "lexical": …}`` —
        for reporting them beside the combination; ``{}`` for a network alone. Runs the
        torch model whatever the engine."""
        if not self.combined:
            return {}
        engine, self.engine = self.engine, self.model
        try:
            members = {}
            for output in ("recurrent", "lexical"):
                self.model.output = output
                members[output] = self.predict_proba(texts, batch_size)
        finally:
            self.model.output, self.engine = "combined", engine
        return members

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list:
        """The most probable label of each text."""
        probs = self.predict_proba(texts, batch_size)
        labels = self.labels
        return [labels[k] for k in probs.argmax(axis=1)]

    def explain(
        self,
        texts: str | Sequence[str],
        method: str = "ig",
        target: str | None = None,
        steps: int = 50,
    ) -> list[Explanation]:
        """Token attributions of each text towards ``target`` (default: the predicted label).

        ``method="ig"``: integrated gradients over the embeddings from an all-padding baseline,
        with the completeness gap; ``"occlusion"``: leave-one-token-out probability drops.
        See :mod:`rnnlab.explain.attributions`.
        """
        from rnnlab.explain.attributions import explain_texts

        return explain_texts(self, texts, method=method, target=target, steps=steps)

    def trace(self, text: str) -> GateTrace:
        """Gates and hidden-state norm of the last recurrent layer over the tokens of ``text``
        (see :mod:`rnnlab.explain.traces`)."""
        from rnnlab.explain.traces import trace_text

        return trace_text(self, text)
