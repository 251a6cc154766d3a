"""``SequenceTagger`` (train) and ``TagPredictor`` (use): sequence labelling, scikit-learn style.

    >>> from rnnlab.tasks.tagger import SequenceTagger
    >>> tagger = SequenceTagger(decoder="crf", epochs=3).fit(train_tokens, train_tags)
    >>> tagger.predict([["Obama", "visited", "Paris"]])
    [['B-PER', 'O', 'B-LOC']]
    >>> tagger.save("ner.safetensors"); rnnlab.load("ner.safetensors").predict_entities(...)

``fit`` learns ``encoder_`` (word and character vocabularies, tag set), ``model_``,
``history_`` and ``predictor_``, and returns ``self``. Keyword parameters are the fields of
:class:`~rnnlab.tasks.tag_config.TagRunConfig`, bare when unambiguous or dotted.

The model file is the same one-file safetensors format as a classifier's (see
:mod:`rnnlab.runs`) with task ``"tag"``: the word vocabulary under ``vocab``, the tags under
``labels``, and the character vocabulary and tag schemes under ``preprocessing``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_save

from rnnlab import __version__
from rnnlab.data.conll import TaggedSentences, repair_tags
from rnnlab.engines import make_engine
from rnnlab.errors import ConfigError, DataError
from rnnlab.evaluate.entities import entity_metrics, tagging_intervals, token_accuracy
from rnnlab.fileio import atomic_write_bytes
from rnnlab.runs import FORMAT, FORMAT_VERSION, load_model_file, resolve_model_path
from rnnlab.tasks.pretrained import init_embeddings
from rnnlab.tasks.tag import RecurrentTagger, build_tagger
from rnnlab.tasks.tag_config import TagModelConfig, TagRunConfig, resolve_monitor
from rnnlab.tasks.tag_data import TagBatches, TagEncoder
from rnnlab.tasks.text_classifier import dotted_params
from rnnlab.text.tagschemes import convert, detect_scheme, spans
from rnnlab.text.vocab import Vocab
from rnnlab.train import Trainer, seed_everything

__all__ = ["SequenceTagger", "TagPredictor", "model_scheme", "model_task", "save_tagger"]

Sentences = Sequence[str | Sequence[str]]


def model_task(path: str | Path) -> str | None:
    """The task (``"classify"``, ``"tag"``) a model file or run directory holds, read from
    its header only; ``None`` when it is not a readable rnnlab model file."""
    try:
        with safe_open(str(resolve_model_path(path)), framework="pt") as handle:
            meta = handle.metadata() or {}
    except Exception:  # missing or damaged files: the loader raises the explanatory error
        return None
    return meta.get("task") if meta.get("format") == FORMAT else None


def _recode(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Tags of span scheme ``source`` in span scheme ``target``; unchanged otherwise (plain
    tags, or a model that learnt BIO strings as plain labels)."""
    if source != target and source != "plain" and target != "plain":
        return convert(tags, source, target)
    return list(tags)


def _as_tokens(sentences: Sentences) -> list[list[str]]:
    """Token lists; a string is split on whitespace (pre-tokenised text, one sentence)."""
    if isinstance(sentences, str):
        sentences = [sentences]
    return [s.split() if isinstance(s, str) else list(s) for s in sentences]


class TagPredictor:
    """Tags tokenised sentences with a trained tagger; tags come in the training data's scheme.

    Sentences are lists of tokens, or strings of whitespace-separated tokens. They are sorted
    by length into batches for speed and the results returned in input order; an empty
    sentence gets no tags. ``engine`` runs the batches: the model itself, or its exported
    graph on onnxruntime (:class:`~rnnlab.engines.TagOnnxEngine`, ``from_file(engine="onnx")``).
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
    def from_file(
        cls, path: str | Path, device: str | torch.device = "cpu", engine: str = "torch"
    ) -> TagPredictor:
        """Load a run directory or model file; ``engine="onnx"`` runs it on onnxruntime."""
        tensors, meta = load_model_file(path)
        if meta["task"] != "tag":
            raise DataError(
                f"{path} holds a '{meta['task']}' model; TagPredictor reads 'tag' models "
                "(rnnlab.load picks the right predictor)."
            )
        try:
            prep = meta["preprocessing"]
            config = TagModelConfig(**meta["model_config"])
            words = Vocab.from_dict(meta["vocab"], source=f"{path} (vocab)")
            chars = Vocab.from_dict(prep["chars"], source=f"{path} (chars)")
            encoder = TagEncoder(words, chars, meta["labels"], prep["max_word_len"])
            labels = meta["labels"]
            model = build_tagger(config, len(words), len(chars), labels, scheme=prep["scheme"])
            model.load_state_dict(tensors, strict=True)
            data_scheme = prep["data_scheme"]
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise DataError(
                f"{path} is marked as a 'tag' model but its metadata or weights do not make "
                f"a tagger ({reason}); save the tagger again or use an intact copy."
            ) from None
        runner = None if engine == "torch" else make_engine(engine, model.eval(), "tag")
        return cls(model, encoder, data_scheme=data_scheme, device=device, engine=runner)

    def predict(self, sentences: Sentences, batch_size: int = 64) -> list[list[str]]:
        """One tag per token of each sentence."""
        tokens = _as_tokens(sentences)
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
        return [_recode(r, self.scheme, self.data_scheme) for r in results]

    def predict_entities(self, sentences: Sentences, batch_size: int = 64) -> list[list[dict]]:
        """Entities of each sentence: ``{"type", "start", "end", "tokens"}``, ``end``
        exclusive (token offsets). Needs a model trained on BIO or BIOES tags."""
        if self.scheme == "plain":
            raise ConfigError(
                "predict_entities needs a tagger trained on BIO or BIOES tags; this one "
                "predicts plain tags (parts of speech) — use predict()."
            )
        tokens = _as_tokens(sentences)
        return [
            [
                {"type": kind, "start": start, "end": end + 1, "tokens": toks[start : end + 1]}
                for kind, start, end in spans(tags)
            ]
            for toks, tags in zip(tokens, self.predict(tokens, batch_size), strict=True)
        ]

    def evaluate(self, data: TaggedSentences, batch_size: int = 64) -> dict[str, Any]:
        """Token ``accuracy`` and, for span tags, entity ``precision``/``recall``/``f1``
        overall and per type (``f1_PER``, ``support_PER``, …), on tagged sentences."""
        predicted = self.predict(data.tokens, batch_size)
        metrics: dict[str, Any] = {
            "num_sentences": len(data),
            "num_tokens": data.num_tokens,
            "accuracy": token_accuracy(data.tags, predicted),
        }
        spans = self.data_scheme != "plain"
        if spans:
            metrics.update(entity_metrics(data.tags, predicted))
        if len(data):  # 95 % percentile bootstrap over sentences, 1,000 resamples
            for name, interval in tagging_intervals(data.tags, predicted, spans=spans).items():
                metrics[f"{name}_ci_low"] = round(interval.low, 4)
                metrics[f"{name}_ci_high"] = round(interval.high, 4)
        return metrics


def model_scheme(requested: str, data_scheme: str, source: str) -> str:
    """The scheme a model learns: ``requested`` (data.scheme), ``auto`` being the data's own."""
    if requested == "auto" or requested == data_scheme:
        return data_scheme
    if requested == "plain":
        return "plain"
    if data_scheme == "plain":
        raise DataError(
            f"{source}: data.scheme is {requested!r} but the tags are plain (no B-/I- "
            "prefixes); set data.scheme to 'auto' or 'plain'."
        )
    return requested


class SequenceTagger:
    """Tokens → word (+ character) features → BiGRU/BiLSTM → CRF or softmax, trained with Adam."""

    def __init__(self, config: TagRunConfig | None = None, **params: Any) -> None:
        self.config = config
        self.params = params

    def resolved_config(self) -> TagRunConfig:
        base = self.config or TagRunConfig()
        if not self.params:
            return base
        return base.merge(dotted_params(self.params, base, "SequenceTagger"))

    def fit(
        self,
        tokens: Sequence[Sequence[str]] | TaggedSentences,
        tags: Sequence[Sequence[str]] | None = None,
        valid_tokens: Sequence[Sequence[str]] | TaggedSentences | None = None,
        valid_tags: Sequence[Sequence[str]] | None = None,
        *,
        run_dir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] = (),
    ) -> SequenceTagger:
        """Learn vocabularies and tags from ``tokens``/``tags`` and train; returns ``self``.

        ``tokens`` (and ``valid_tokens``) may be :class:`TaggedSentences`, which hold the tags.
        """
        config = self.resolved_config()
        if config.model.freeze_embeddings and not config.model.embeddings:
            raise ConfigError(
                "model.freeze_embeddings (--freeze) needs pretrained vectors to keep fixed; "
                "add model.embeddings (--embeddings PATH or a packaged name)."
            )
        train = _checked("training data", tokens, tags)
        self.data_scheme_ = detect_scheme(train.tags)
        scheme = model_scheme(config.data.scheme, self.data_scheme_, "training data")
        config = resolve_monitor(config, scheme)
        seed_everything(config.train.seed)
        train_tags = [_recode(t, self.data_scheme_, scheme) for t in train.tags]
        tag_set = sorted({t for s in train_tags for t in s})
        self.encoder_ = TagEncoder.build(
            train.tokens,
            tag_set,
            max_vocab=config.data.max_vocab,
            min_count=config.data.min_count,
            max_word_len=config.data.max_word_len,
        )
        pad = self.encoder_.words.pad_id
        batches = TagBatches(
            self.encoder_.encode(train.tokens, train_tags),
            config.train.batch_size,
            shuffle=True,
            bucketing=config.train.bucketing,
            seed=config.train.seed,
            pad_id=pad,
        )
        valid = None
        if valid_tokens is not None:
            valid_data = _checked("validation data", valid_tokens, valid_tags)
            valid = self._batches(valid_data, scheme, config.train.batch_size)
        self.model_ = build_tagger(
            config.model,
            len(self.encoder_.words),
            len(self.encoder_.chars),
            tag_set,
            scheme=scheme,
            pad_id=pad,
        )
        self.embedding_coverage_ = None
        if config.model.embeddings:
            self.embedding_coverage_ = init_embeddings(
                self.model_.embedding,
                config.model.embeddings,
                self.encoder_.words,
                freeze=config.model.freeze_embeddings,
                seed=config.train.seed,
            )
        trainer = Trainer(
            config.train, run_dir=None if run_dir is None else Path(run_dir), callbacks=callbacks
        )
        self.fit_result_ = trainer.fit(self.model_, batches, valid, resume=resume)
        self.history_ = self.fit_result_.history
        self.config_ = config
        self.model_.cpu().eval()
        self.predictor_ = TagPredictor(self.model_, self.encoder_, data_scheme=self.data_scheme_)
        return self

    def _batches(self, data: TaggedSentences, scheme: str, batch_size: int) -> TagBatches:
        """Validation batches in the model's scheme, sorted by length; unseen tags refused."""
        tags = [_recode(t, self.data_scheme_, scheme) for t in data.tags]
        known = self.encoder_.tag_index
        for s, sentence in enumerate(tags):
            unknown = [t for t in sentence if t not in known]
            if unknown:
                line = f" (line {data.lines[s]})" if data.lines else ""
                raise DataError(
                    f"{data.source or 'validation data'} sentence {s + 1}{line}: tag "
                    f"{unknown[0]!r} does not occur in the training data; known tags: "
                    f"{', '.join(self.encoder_.tags)}."
                )
        order = sorted(range(len(data)), key=lambda i: len(data.tokens[i]))
        encoded = self.encoder_.encode([data.tokens[i] for i in order], [tags[i] for i in order])
        return TagBatches(encoded, batch_size, pad_id=self.encoder_.words.pad_id)

    def _check_fitted(self) -> None:
        if not hasattr(self, "predictor_"):
            raise ConfigError("SequenceTagger is not fitted yet; call fit(tokens, tags) first.")

    def predict(self, sentences: Sentences) -> list[list[str]]:
        self._check_fitted()
        return self.predictor_.predict(sentences)

    def evaluate(self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> dict:
        """Token accuracy and entity precision / recall / F1 on tagged sentences."""
        self._check_fitted()
        return self.predictor_.evaluate(_checked("evaluation data", tokens, tags))

    def score(self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> float:
        """Entity F1 for span tags, token accuracy for plain tags."""
        metrics = self.evaluate(tokens, tags)
        return float(metrics["f1"] if "f1" in metrics else metrics["accuracy"])

    def save(self, path: str | Path) -> Path:
        """Write the one-file model (weights, config, vocabularies, tags, schemes)."""
        self._check_fitted()
        return save_tagger(
            path,
            self.model_,
            self.encoder_,
            data_scheme=self.data_scheme_,
        )


def _checked(what: str, tokens: Any, tags: Any) -> TaggedSentences:
    """Token and tag lists as :class:`TaggedSentences`, lengths checked, BIO repaired."""
    if isinstance(tokens, TaggedSentences):
        return tokens
    if tags is None:
        raise DataError(f"{what}: tags are missing; pass one tag list per sentence.")
    tokens = [list(s) for s in tokens]
    tags = [list(s) for s in tags]
    if len(tokens) != len(tags):
        raise DataError(
            f"{what}: tokens and tags must hold the same number of sentences, got "
            f"{len(tokens)} and {len(tags)}."
        )
    for s, (toks, tgs) in enumerate(zip(tokens, tags, strict=True)):
        if len(toks) != len(tgs) or not toks:
            raise DataError(
                f"{what}: sentence {s + 1} has {len(toks)} tokens and {len(tgs)} tags; give "
                "every sentence at least one token and one tag per token."
            )
    data = TaggedSentences(tokens, tags, what)
    repair_tags(data)
    return data


def save_tagger(
    path: str | Path, model: RecurrentTagger, encoder: TagEncoder, *, data_scheme: str
) -> Path:
    """Write a tagger as one safetensors file (rnnlab's model format, task ``"tag"``)."""
    tensors = {k: t.detach().cpu().contiguous() for k, t in model.state_dict().items()}
    preprocessing = {
        "chars": encoder.chars.to_dict(),
        "max_word_len": encoder.max_word_len,
        "scheme": model.scheme,
        "data_scheme": data_scheme,
    }
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "rnnlab_version": __version__,
        "task": "tag",
        "model_config": json.dumps(asdict(model.config)),
        "tokenizer": json.dumps({"name": "whitespace", "pretokenized": True}),
        "vocab": json.dumps(encoder.words.to_dict(), ensure_ascii=False),
        "labels": json.dumps(list(model.tags), ensure_ascii=False),
        "preprocessing": json.dumps(preprocessing, ensure_ascii=False),
    }
    path = Path(path)
    atomic_write_bytes(path, safetensors_save(tensors, metadata=metadata))
    return path
