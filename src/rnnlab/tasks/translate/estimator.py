"""``Translator``: sequence-to-sequence translation in scikit-learn's shape.

    >>> import rnnlab
    >>> from rnnlab.tasks.translate.estimator import Translator
    >>> german = ["ein hund rennt über die wiese", "eine katze schläft auf dem sofa"] * 12
    >>> english = ["a dog runs across the meadow", "a cat sleeps on the sofa"] * 12
    >>> mt = Translator(hidden_size=32, epochs=30, lr=0.01).fit(german, english)
    >>> mt.predict(["ein hund rennt über die wiese"])
    ['a dog runs across the meadow']
    >>> mt.score(german[:2], english[:2])  # sacreBLEU BLEU, cased, detokenised
    100.0
    >>> mt.save("de-en.safetensors")
    PosixPath('de-en.safetensors')
    >>> rnnlab.load("de-en.safetensors").translate(["eine katze schläft auf dem sofa"])
    ['a cat sleeps on the sofa']

``fit`` learns ``source_tokenizer_``, ``target_tokenizer_``, both vocabularies, ``model_``,
``history_`` and ``predictor_``, and returns ``self``. Keyword parameters are the fields of
:class:`~rnnlab.tasks.translate.config.TranslateRunConfig`, bare when unambiguous or dotted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnlab.errors import DataError
from rnnlab.tasks.params import ConfigEstimator
from rnnlab.tasks.translate.config import TranslateRunConfig
from rnnlab.tasks.translate.data import (
    ParallelText,
    SideTokenizer,
    TranslateBatches,
    build_vocab,
    encode_side,
)
from rnnlab.tasks.translate.decode import greedy
from rnnlab.tasks.translate.model import Seq2Seq
from rnnlab.tasks.translate.predictor import TranslatePredictor, save_translator
from rnnlab.train import Trainer, seed_everything

__all__ = ["Translator"]


def _pairs(what: str, sources: Any, targets: Any) -> ParallelText:
    """Sentence lists (or a :class:`ParallelText`) as checked pairs."""
    if isinstance(sources, ParallelText):
        return sources
    if targets is None:
        raise DataError(f"{what}: targets are missing; pass one translation per sentence.")
    sources, targets = list(sources), list(targets)
    if len(sources) != len(targets):
        raise DataError(
            f"{what}: {len(sources)} sources but {len(targets)} targets; give one translation "
            "per sentence."
        )
    for i, (s, t) in enumerate(zip(sources, targets, strict=True)):
        if not isinstance(s, str) or not isinstance(t, str) or not s.strip() or not t.strip():
            raise DataError(
                f"{what}: pair {i + 1} is {s!r:.40} → {t!r:.40}; every pair needs text on "
                "both sides."
            )
    return ParallelText(sources, targets, what)


class Translator(ConfigEstimator):
    """Sentences → bidirectional encoder → attention decoder → translations, trained with
    Adam through rnnlab's one Trainer. :meth:`score` is corpus BLEU (sacreBLEU), so
    ``GridSearchCV`` chooses by it."""

    fit_arguments = "sources, targets"
    config_type = TranslateRunConfig

    def fit(
        self,
        sources: Sequence[str] | ParallelText,
        targets: Sequence[str] | None = None,
        valid_sources: Sequence[str] | ParallelText | None = None,
        valid_targets: Sequence[str] | None = None,
        *,
        run_dir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] = (),
    ) -> Translator:
        """Learn both sides' tokenizers and vocabularies from the pairs and train.

        Training pairs with a side longer than ``data.max_len`` tokens are left out (at
        least one pair must remain); validation pairs are all kept.
        """
        config = self.resolved_config()
        data = config.data
        train = _pairs("training data", sources, targets)
        seed_everything(config.train.seed)
        source_tok = SideTokenizer.resolve(
            data.source_tokenizer, train.sources, data.lowercase, data.subword_vocab
        )
        target_tok = SideTokenizer.resolve(
            data.target_tokenizer, train.targets, data.lowercase, data.subword_vocab
        )
        src_tokens = [source_tok(s) for s in train.sources]
        tgt_tokens = [target_tok(t) for t in train.targets]
        kept = [
            i
            for i, (s, t) in enumerate(zip(src_tokens, tgt_tokens, strict=True))
            if 0 < len(s) <= data.max_len and 0 < len(t) <= data.max_len
        ]
        if not kept:
            raise DataError(
                f"{train.source}: every pair has a side longer than data.max_len = "
                f"{data.max_len} tokens (or none); raise --max-len."
            )
        src_tokens = [src_tokens[i] for i in kept]
        tgt_tokens = [tgt_tokens[i] for i in kept]
        self.dropped_long_ = len(train) - len(kept)
        self.source_vocab_ = build_vocab(src_tokens, data.max_vocab, data.min_count)
        self.target_vocab_ = build_vocab(tgt_tokens, data.max_vocab, data.min_count)
        self.source_tokenizer_, self.target_tokenizer_ = source_tok, target_tok
        eos = self.target_vocab_.token_to_id("</s>")
        batches = TranslateBatches(
            encode_side(self.source_vocab_, src_tokens),
            encode_side(self.target_vocab_, tgt_tokens),
            config.train.batch_size,
            eos_id=eos,
            shuffle=True,
            bucketing=config.train.bucketing,
            seed=config.train.seed,
        )
        valid = None
        if valid_sources is not None:
            valid = self._batches(_pairs("validation data", valid_sources, valid_targets), config)
        model = Seq2Seq(len(self.source_vocab_), len(self.target_vocab_), config.model, eos_id=eos)
        if config.train.monitor == "bleu":
            model.bleu_decoder = greedy
        trainer = Trainer(
            config.train, run_dir=None if run_dir is None else Path(run_dir), callbacks=callbacks
        )
        self.fit_result_ = trainer.fit(model, batches, valid, resume=resume)
        model.cpu().eval()
        self.model_ = model
        self.history_ = self.fit_result_.history
        self.config_ = config
        self.predictor_ = TranslatePredictor(
            model,
            source_tok,
            target_tok,
            self.source_vocab_,
            self.target_vocab_,
            config.decode,
        )
        return self

    def _batches(self, pairs: ParallelText, config: TranslateRunConfig) -> TranslateBatches:
        """Validation batches, sorted by length."""
        src = [self.source_tokenizer_(s) for s in pairs.sources]
        tgt = [self.target_tokenizer_(t) for t in pairs.targets]
        order = sorted(range(len(src)), key=lambda i: (len(src[i]), len(tgt[i])))
        return TranslateBatches(
            encode_side(self.source_vocab_, [src[i] for i in order]),
            encode_side(self.target_vocab_, [tgt[i] for i in order]),
            config.train.batch_size,
            eos_id=self.target_vocab_.token_to_id("</s>"),
        )

    def predict(self, sources: Sequence[str]) -> list[str]:
        """Translations with the ``[decode]`` settings (beam search by default)."""
        self._check_fitted()
        return [str(t) for t in self.predictor_.translate(sources)]

    def evaluate(self, sources: Sequence[str], targets: Sequence[str]) -> dict[str, Any]:
        """sacreBLEU BLEU, chrF, lowercased BLEU and their intervals, the copy baseline."""
        self._check_fitted()
        metrics, _ = self.predictor_.evaluate(_pairs("evaluation data", sources, targets))
        return metrics

    def score(self, sources: Sequence[str], targets: Sequence[str]) -> float:
        """Corpus BLEU (sacreBLEU, cased, detokenised)."""
        return float(self.evaluate(sources, targets)["bleu"])

    def save(self, path: str | Path) -> Path:
        """Write the one-file model (weights, config, both tokenizers and vocabularies)."""
        self._check_fitted()
        return save_translator(path, self.predictor_)
