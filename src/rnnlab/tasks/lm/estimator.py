"""``LanguageModel``: a recurrent language model in scikit-learn's shape (fit / predict /
score).

    >>> import rnnlab
    >>> from rnnlab.tasks.lm.estimator import LanguageModel
    >>> lines = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 10
    >>> lm = LanguageModel(hidden_size=16, epochs=2, batch_size=2, bptt=10)
    >>> lm = lm.fit(lines, valid_texts=lines[:3])
    >>> lm.predict(["the cat"], max_new_tokens=3)  # greedy continuations  # doctest: +ELLIPSIS
    ['...']
    >>> sorted(lm.evaluate(lines[:3]))  # perplexity and more on held-out lines
    ['bits_per_token', 'loss', 'perplexity', 'tokens']
    >>> lm.score(lines[:3]) == -lm.evaluate(lines[:3])["loss"]
    True
    >>> lm.save("lm.safetensors")
    PosixPath('lm.safetensors')
    >>> rnnlab.load("lm.safetensors").generate("the", max_new_tokens=3)  # doctest: +ELLIPSIS
    ['...']

``X`` is a list of documents (lines of text), as ``rnnlab train lm`` reads them from a file;
there is no ``y``. ``fit`` learns ``tokenizer_``, ``vocab_``, ``model_``, ``history_`` and
``predictor_`` (an :class:`~rnnlab.tasks.lm.predictor.LMPredictor`) and returns ``self``.
Keyword parameters are the fields of :class:`~rnnlab.tasks.lm.config.LMRunConfig`, bare
when unambiguous or dotted (:mod:`rnnlab.tasks.params`). The training itself is the run
workflow's (:func:`rnnlab.tasks.lm.workflow.fit_lm`), so both train the same model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rnnlab.errors import DataError
from rnnlab.tasks.lm.config import LMRunConfig
from rnnlab.tasks.lm.workflow import LMFit, fit_lm, save_lm, stream_scores
from rnnlab.tasks.params import ConfigEstimator
from rnnlab.train.trainer import resolve_monitor

__all__ = ["LanguageModel"]


def _lines(what: str, texts: Any) -> list[str]:
    """``texts`` as a list of strings; one sentence naming the first that is not one."""
    if isinstance(texts, str):
        raise DataError(f"{what}: expected a list of texts (documents), got one string; "
                        "wrap it in a list.")  # fmt: skip
    lines = list(texts)
    for i, text in enumerate(lines):
        if not isinstance(text, str):
            raise DataError(f"{what}[{i}]: expected a str, got {type(text).__name__} "
                            f"{text!r:.40}; every document must be text.")  # fmt: skip
    if not any(line.strip() for line in lines):
        raise DataError(f"{what}: no text to read; pass at least one non-blank document.")
    return lines


class LanguageModel(ConfigEstimator):
    """Documents → tokens (words or characters) → recurrent language model, trained by
    truncated backpropagation through time (AWD-LSTM's regularisers, see the config).

    A scikit-learn estimator (see :mod:`rnnlab.tasks.params`): :meth:`score` is the mean
    log-likelihood per token in nats (−log perplexity), higher being better, the convention
    of scikit-learn's density models, so ``GridSearchCV`` chooses the lowest perplexity.
    """

    fit_arguments = "texts"
    config_type = LMRunConfig

    def fit(
        self,
        texts: Sequence[str],
        y: Any = None,
        *,
        valid_texts: Sequence[str] | None = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] = (),
    ) -> LanguageModel:
        """Build the vocabulary from ``texts`` and train; returns ``self``. ``y`` is ignored
        (scikit-learn's place for it). Without ``valid_texts`` the best epoch is the one of
        lowest training loss, which ``config_`` records."""
        config = self.resolved_config()
        lines = _lines("texts", texts)
        valid = None if valid_texts is None else _lines("valid_texts", valid_texts)
        if valid is None:
            config = replace(config, train=resolve_monitor(config.train, has_validation=False))
        fitted = fit_lm(
            config, lines, valid, origin="texts", resume=resume, callbacks=callbacks,
            run_dir=None if run_dir is None else Path(run_dir),
        )  # fmt: skip
        self._fitted = fitted
        self.config_ = config
        self.model_ = fitted.model
        self.vocab_ = fitted.vocab
        self.tokenizer_ = fitted.tokenizer
        self.level_ = fitted.level
        self.fit_result_ = fitted.result
        self.history_ = fitted.result.history
        self.predictor_ = fitted.predictor
        return self

    def predict(self, prompts: Sequence[str], *, max_new_tokens: int = 20) -> list[str]:
        """The greedy continuation of each prompt, up to ``max_new_tokens`` tokens."""
        self._check_fitted()
        return self.predictor_.predict(prompts, max_new_tokens=max_new_tokens)

    def evaluate(self, texts: Sequence[str]) -> dict[str, float]:
        """``loss`` (mean negative log-likelihood per token, nats), ``perplexity``,
        ``bits_per_token`` and ``tokens``: every token of ``texts`` scored."""
        self._check_fitted()
        fitted: LMFit = self._fitted
        stream = fitted.stream(_lines("texts", texts), "texts")
        found = stream_scores(self.model_, stream, self.config_.data.bptt)
        return {
            "loss": float(found["loss"]),
            "perplexity": float(found["perplexity"]),
            "bits_per_token": float(found["bits_per_token"]),
            "tokens": int(found["tokens"]),
        }

    def score(self, texts: Sequence[str], y: Any = None) -> float:
        """Mean log-likelihood per token in nats, −log(perplexity): higher is better."""
        return -self.evaluate(texts)["loss"]

    def save(self, path: str | Path) -> Path:
        """Write the one-file model (weights, config, tokenizer, vocabulary, level)."""
        self._check_fitted()
        return save_lm(path, self._fitted, self.config_)
