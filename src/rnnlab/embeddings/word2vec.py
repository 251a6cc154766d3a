"""Word2Vec (CBOW, skip-gram with negative sampling) and FastText, trained by gensim.

rnnlab only prepares the corpus (tokenised into a work file, see :mod:`.corpus`), hands
gensim the word counts it already has (``build_vocab_from_freq``, so no extra pass) and lets
gensim's C code read the work file itself (``corpus_file`` mode, which scales with
``workers``). The trained model's ``wv`` becomes a :class:`~.vectors.Vectors`.
"""

from __future__ import annotations

import time
from typing import Any

from rnnlab.embeddings._gensim import require_gensim
from rnnlab.embeddings.corpus import TokenizedCorpus
from rnnlab.embeddings.events import ProgressEvent, ProgressFn

__all__ = ["train_gensim"]


def _epoch_callback(progress: ProgressFn | None, epochs: int, tokens: int) -> list[Any]:
    if progress is None:
        return []
    from gensim.models.callbacks import CallbackAny2Vec

    class Report(CallbackAny2Vec):  # gensim calls it after each epoch
        def __init__(self) -> None:
            self.epoch = 0
            self.start = time.perf_counter()

        def on_epoch_begin(self, model: Any) -> None:
            progress(
                ProgressEvent(
                    "train",
                    self.epoch + 1,
                    epochs,
                    self.epoch * tokens,
                    epochs * tokens,
                    time.perf_counter() - self.start,
                )
            )

        def on_epoch_end(self, model: Any) -> None:
            self.epoch += 1
            progress(
                ProgressEvent(
                    "train",
                    self.epoch,
                    epochs,
                    self.epoch * tokens,
                    epochs * tokens,
                    time.perf_counter() - self.start,
                )
            )

    return [Report()]


def train_gensim(
    corpus: TokenizedCorpus,
    method: str,
    *,
    vector_size: int,
    window: int,
    min_count: int,
    max_vocab: int | None,
    epochs: int,
    negative: int,
    sample: float,
    learning_rate: float,
    workers: int,
    seed: int,
    min_n: int = 3,
    max_n: int = 6,
    bucket: int = 200_000,
    progress: ProgressFn | None = None,
) -> Any:
    """A trained gensim ``Word2Vec`` (``skipgram``/``cbow``) or ``FastText`` (skip-gram)."""
    require_gensim(f"--method {method}")
    from gensim.models import FastText, Word2Vec

    common: dict[str, Any] = dict(
        vector_size=vector_size,
        window=window,
        min_count=min_count,
        max_final_vocab=max_vocab,
        epochs=epochs,
        negative=negative,
        hs=0,
        sample=sample,
        alpha=learning_rate,
        workers=workers,
        seed=seed,
        sg=0 if method == "cbow" else 1,
    )
    if method == "fasttext":
        model = FastText(min_n=min_n, max_n=max_n, bucket=bucket, **common)
    else:
        model = Word2Vec(**common)
    model.build_vocab_from_freq(dict(corpus.counts), corpus_count=corpus.documents)
    model.train(
        corpus_file=str(corpus.path),
        total_words=corpus.tokens,
        epochs=epochs,
        callbacks=_epoch_callback(progress, epochs, corpus.tokens),
    )
    return model
