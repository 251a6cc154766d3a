"""``SequenceTagger``: sequence labelling in scikit-learn's shape (fit / predict / score).

    >>> import rnnlab
    >>> from rnnlab.tasks.tag.estimator import SequenceTagger
    >>> people, places = ["Obama", "Merkel", "Smith", "Tanaka"], ["Paris", "Berlin", "Tokyo"]
    >>> tokens = [[person, "visited", place] for person in people for place in places]
    >>> tags = [["B-PER", "O", "B-LOC"]] * len(tokens)
    >>> tagger = SequenceTagger(decoder="crf", epochs=30, hidden_size=16, lr=0.01)
    >>> tagger = tagger.fit(tokens, tags)
    >>> tagger.predict([["Obama", "visited", "Paris"]])
    [['B-PER', 'O', 'B-LOC']]
    >>> tagger.save("ner.safetensors")
    PosixPath('ner.safetensors')
    >>> rnnlab.load("ner.safetensors").predict_entities(["Obama visited Paris"])
    ... # doctest: +NORMALIZE_WHITESPACE
    [[{'type': 'PER', 'start': 0, 'end': 1, 'tokens': ['Obama']},
      {'type': 'LOC', 'start': 2, 'end': 3, 'tokens': ['Paris']}]]

``fit`` learns ``encoder_`` (word and character vocabularies, tag set), ``model_``,
``history_`` and ``predictor_``, and returns ``self``. Keyword parameters are the fields of
:class:`~rnnlab.tasks.tag.config.TagRunConfig`, bare when unambiguous or dotted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnlab.data.conll import TaggedSentences, repair_tags
from rnnlab.errors import DataError
from rnnlab.runs import save_model_file
from rnnlab.tasks.params import ConfigEstimator
from rnnlab.tasks.tag.config import TagRunConfig, resolve_monitor
from rnnlab.tasks.tag.data import TagBatches, TagEncoder, model_scheme, recode
from rnnlab.tasks.tag.model import RecurrentTagger, build_tagger
from rnnlab.tasks.tag.predictor import Sentences, TagPredictor
from rnnlab.text.tagschemes import detect_scheme
from rnnlab.train import seed_everything

__all__ = ["PRETOKENIZED", "SequenceTagger", "save_tagger"]

# The tokenizer a tagger records: its input is already split into tokens.
PRETOKENIZED = {"name": "whitespace", "pretokenized": True}


class SequenceTagger(ConfigEstimator):
    """Tokens → word (+ character) features → BiGRU/BiLSTM → CRF or softmax, trained with Adam.

    A scikit-learn estimator (see :mod:`rnnlab.tasks.params`): ``X`` is a list of token
    lists, ``y`` a list of tag lists; :meth:`score` is entity F1 (token accuracy for plain
    tags), so ``GridSearchCV`` and ``cross_val_score`` choose by it.
    """

    fit_arguments = "tokens, tags"
    config_type = TagRunConfig

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
        train = _checked("training data", tokens, tags)
        self.data_scheme_ = detect_scheme(train.tags)
        scheme = model_scheme(config.data.scheme, self.data_scheme_, "training data")
        config = resolve_monitor(config, scheme)
        seed_everything(config.train.seed)
        train_tags = [recode(t, self.data_scheme_, scheme) for t in train.tags]
        tag_set = sorted({t for s in train_tags for t in s})
        self.encoder_ = TagEncoder.build(
            train.tokens,
            tag_set,
            max_vocab=config.data.max_vocab,
            min_count=config.data.min_count,
            max_word_len=config.data.max_word_len,
            char_min_count=config.data.char_min_count,
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
        model = build_tagger(
            config.model,
            len(self.encoder_.words),
            len(self.encoder_.chars),
            tag_set,
            scheme=scheme,
            pad_id=pad,
        )
        self._train_model(
            model,
            model.embedding,
            self.encoder_.words,
            config,
            batches,
            valid,
            run_dir=run_dir,
            resume=resume,
            callbacks=callbacks,
            corpus=train.tokens,
        )
        self.predictor_ = TagPredictor(self.model_, self.encoder_, data_scheme=self.data_scheme_)
        return self

    def _batches(self, data: TaggedSentences, scheme: str, batch_size: int) -> TagBatches:
        """Validation batches in the model's scheme, sorted by length; unseen tags refused."""
        tags = [recode(t, self.data_scheme_, scheme) for t in data.tags]
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
    return save_model_file(
        path,
        model.state_dict(),
        task="tag",
        model_config=model.config,
        tokenizer=dict(PRETOKENIZED),
        vocab=encoder.words.to_dict(),
        labels=list(model.tags),
        preprocessing={
            "chars": encoder.chars.to_dict(),
            "max_word_len": encoder.max_word_len,
            "scheme": model.scheme,
            "data_scheme": data_scheme,
        },
    )
