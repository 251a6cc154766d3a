"""``TagPredictor``: a trained sequence tagger ready to tag sentences (what ``rnnlab.load``
returns for a ``tag`` model file).

    >>> import rnnlab
    >>> people, places = ["Obama", "Merkel", "Smith", "Tanaka"], ["Paris", "Berlin", "Tokyo"]
    >>> tokens = [[person, "visited", place] for person in people for place in places]
    >>> tags = [["B-PER", "O", "B-LOC"]] * len(tokens)
    >>> trained = rnnlab.SequenceTagger(decoder="crf", epochs=30, hidden_size=16, lr=0.01)
    >>> trained.fit(tokens, tags).save("ner.safetensors")
    PosixPath('ner.safetensors')
    >>> tagger = rnnlab.load("ner.safetensors")  # a run directory or a model file
    >>> tagger.predict([["Obama", "visited", "Paris"]])
    [['B-PER', 'O', 'B-LOC']]
    >>> tagger.predict_entities(["Obama visited Paris"])  # doctest: +NORMALIZE_WHITESPACE
    [[{'type': 'PER', 'start': 0, 'end': 1, 'tokens': ['Obama']},
      {'type': 'LOC', 'start': 2, 'end': 3, 'tokens': ['Paris']}]]

The model file is rnnlab's one-file safetensors format (:mod:`rnnlab.runs`) with task
``"tag"``: the word vocabulary under ``vocab``, the tags under ``labels``, and the character
vocabulary and tag schemes under ``preprocessing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rnnlab.data.conll import TaggedSentences
from rnnlab.errors import ConfigError, DataError
from rnnlab.evaluate.entities import entity_metrics, tagging_intervals, token_accuracy
from rnnlab.runs import load_model_file, rebuilding
from rnnlab.tasks.base import Predictor
from rnnlab.tasks.tag.config import TagModelConfig
from rnnlab.tasks.tag.data import TagBatches, TagEncoder, recode
from rnnlab.tasks.tag.model import RecurrentTagger, build_tagger
from rnnlab.text.tagschemes import detect_scheme, spans
from rnnlab.text.vocab import Vocab

__all__ = ["Sentences", "TagPredictor", "as_tokens"]

Sentences = Sequence[str | Sequence[str]]


def as_tokens(sentences: Sentences) -> list[list[str]]:
    """Token lists; a string is split on whitespace (pre-tokenised text, one sentence).
    Anything else than a string or a sequence of strings is one sentence naming where."""
    if isinstance(sentences, str):
        sentences = [sentences]
    out = []
    for i, sentence in enumerate(sentences):
        if isinstance(sentence, str):
            out.append(sentence.split())
            continue
        if not isinstance(sentence, Sequence):
            raise DataError(
                f"sentences[{i}]: expected a list of tokens or a string, got "
                f"{type(sentence).__name__} {sentence!r:.40}; drop or fill missing sentences."
            )
        for j, token in enumerate(sentence):
            if not isinstance(token, str):
                raise DataError(
                    f"sentences[{i}][{j}]: expected a str token, got {type(token).__name__} "
                    f"{token!r:.40}; every token must be text."
                )
        out.append(list(sentence))
    return out


class TagPredictor(Predictor):
    """Tags tokenised sentences with a trained tagger; tags come in the training data's scheme.

    Sentences are lists of tokens, or strings of whitespace-separated tokens. They are sorted
    by length into batches for speed and the results returned in input order; an empty
    sentence gets no tags. ``engine`` runs the batches: the model itself, or its exported
    graph on onnxruntime (:class:`~rnnlab.deploy.engines.TagOnnxEngine`,
    ``from_file(engine="onnx")``).
    """

    task = "tag"

    def __init__(
        self,
        model: RecurrentTagger,
        encoder: TagEncoder,
        *,
        data_scheme: str,
        device: str | torch.device = "cpu",
        engine: Any = None,
    ) -> None:
        self.model = model.to(device).eval()
        self.engine = self.model if engine is None else engine
        self.encoder = encoder
        self.scheme = model.scheme
        self.data_scheme = data_scheme
        self.device = torch.device(device)

    @property
    def labels(self) -> list[str]:
        """The tags the model predicts (in the model's scheme)."""
        return list(self.model.tags)

    @classmethod
    def from_file(cls, path: str | Path, device: str | torch.device = "cpu") -> TagPredictor:
        """Load a run directory or model file (``rnnlab.load(path, engine="onnx")`` runs it
        on onnxruntime instead)."""
        tensors, meta = load_model_file(path)
        if meta["task"] != "tag":
            raise DataError(
                f"{path} holds a '{meta['task']}' model; TagPredictor reads 'tag' models "
                "(rnnlab.load picks the right predictor)."
            )
        with rebuilding(path, "tag"):
            prep = meta["preprocessing"]
            config = TagModelConfig(**meta["model_config"])
            words = Vocab.from_dict(meta["vocab"], source=f"{path} (vocab)")
            chars = Vocab.from_dict(prep["chars"], source=f"{path} (chars)")
            encoder = TagEncoder(words, chars, meta["labels"], prep["max_word_len"])
            labels = meta["labels"]
            model = build_tagger(config, len(words), len(chars), labels, scheme=prep["scheme"])
            model.load_state_dict(tensors, strict=True)
            data_scheme = prep["data_scheme"]
        return cls(model, encoder, data_scheme=data_scheme, device=device)

    def _output_scheme(self, scheme: str | None) -> str:
        """The span scheme tags are returned in: ``scheme``, or the training data's."""
        if scheme in (None, "auto"):
            return self.data_scheme
        if scheme not in ("bio", "bioes", "plain"):
            raise ConfigError(f"scheme must be 'auto', 'bio', 'bioes' or 'plain', got {scheme!r}.")
        if "plain" in (scheme, self.scheme) and scheme != self.scheme:
            raise ConfigError(
                f"scheme {scheme!r}: this tagger predicts {self.scheme} tags, which cannot be "
                f"written as {scheme} tags; use --scheme auto."
            )
        return scheme

    def predict(
        self, sentences: Sentences, batch_size: int = 64, scheme: str | None = None
    ) -> list[list[str]]:
        """One tag per token of each sentence, in ``scheme`` (``bio``, ``bioes``; default
        the training data's own scheme)."""
        target = self._output_scheme(scheme)
        tokens = as_tokens(sentences)
        results: list[list[str]] = [[] for _ in tokens]
        keep = [i for i, s in enumerate(tokens) if s]
        order = sorted(keep, key=lambda i: len(tokens[i]))
        encoded = self.encoder.encode([tokens[i] for i in order])
        batches = TagBatches(encoded, batch_size, pad_id=self.encoder.words.pad_id)
        tags = self.model.tags
        with torch.no_grad():
            for batch in batches.batches():
                paths = self.engine.predict_batch(batch.to(self.device))
                for local, path in zip(batch.index.tolist(), paths, strict=True):
                    results[order[local]] = [tags[k] for k in path]
        return [recode(r, self.scheme, target) for r in results]

    def predict_entities(self, sentences: Sentences, batch_size: int = 64) -> list[list[dict]]:
        """Entities of each sentence: ``{"type", "start", "end", "tokens"}``, ``end``
        exclusive (token offsets). Needs a model trained on BIO or BIOES tags."""
        if self.scheme == "plain":
            raise ConfigError(
                "predict_entities needs a tagger trained on BIO or BIOES tags; this one "
                "predicts plain tags (parts of speech) — use predict()."
            )
        tokens = as_tokens(sentences)
        return [
            [
                {"type": kind, "start": start, "end": end + 1, "tokens": toks[start : end + 1]}
                for kind, start, end in spans(tags)
            ]
            for toks, tags in zip(tokens, self.predict(tokens, batch_size), strict=True)
        ]

    def evaluate(
        self, data: TaggedSentences, batch_size: int = 64, scheme: str | None = None
    ) -> dict[str, Any]:
        """Token ``accuracy`` and, for span tags, entity ``precision``/``recall``/``f1``
        overall and per type (``f1_PER``, ``support_PER``, …), on tagged sentences.

        Predictions are compared in the scheme of ``data``'s tags: ``scheme`` when given,
        else detected from them, so BIOES gold tags score a tagger trained on BIO data."""
        gold_scheme = scheme if scheme not in (None, "auto") else detect_scheme(data.tags)
        if self.scheme == "plain" or gold_scheme == "plain":
            gold_scheme = self.data_scheme if self.scheme != "plain" else "plain"
        predicted = self.predict(data.tokens, batch_size, scheme=gold_scheme)
        metrics: dict[str, Any] = {
            "num_sentences": len(data),
            "num_tokens": data.num_tokens,
            "accuracy": token_accuracy(data.tags, predicted),
        }
        span_tags = gold_scheme != "plain"
        if span_tags:
            metrics.update(entity_metrics(data.tags, predicted))
        if len(data):  # 95 % percentile bootstrap over sentences, 1,000 resamples
            for name, interval in tagging_intervals(data.tags, predicted, spans=span_tags).items():
                metrics[f"{name}_ci_low"] = round(interval.low, 4)
                metrics[f"{name}_ci_high"] = round(interval.high, 4)
        return metrics
