"""``train``: corpus in, :class:`~.vectors.Vectors` out (and saved atomically when asked).

One typed :class:`EmbedConfig` holds every option. Options that only one family of methods
uses (``negative``, ``sample``, ``min_n``/``max_n``/``bucket`` for the gensim methods;
``x_max``, ``glove_alpha``, ``batch_size`` for GloVe) default to ``None`` and raise a
:class:`~rnnlab.errors.ConfigError` when given to a method that would ignore them.

Example::

    from rnnlab.embeddings import train
    result = train("corpus.txt", method="skipgram", vector_size=100, out="vecs/")
    result.vectors.most_similar("good")
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from rnnlab.embeddings.corpus import TokenizedCorpus, tokenize_corpus
from rnnlab.embeddings.events import ProgressFn
from rnnlab.embeddings.formats import write_vectors
from rnnlab.embeddings.vectors import Vectors
from rnnlab.errors import ConfigError, DataError, ValueRangeError

__all__ = ["METHODS", "EmbedConfig", "TrainResult", "train", "train_on_corpus"]

METHODS: tuple[str, ...] = ("skipgram", "cbow", "fasttext", "glove")
_GENSIM_ONLY = {"negative": 5, "sample": 1e-3, "min_n": 3, "max_n": 6, "bucket": 200_000}
_GLOVE_ONLY = {"x_max": 100.0, "glove_alpha": 0.75, "batch_size": 4096}


@dataclass
class EmbedConfig:
    """Every option of embedding training.

    Attributes:
        method: ``skipgram``, ``cbow``, ``fasttext`` (skip-gram with character n-grams) or
            ``glove``.
        vector_size: dimensions ``D``.
        window: largest distance between a word and its context.
        min_count: words seen fewer times are dropped.
        max_vocab: keep at most this many (most frequent) words; ``None``: no limit.
        epochs: passes over the corpus (``None``: 5, or 15 for GloVe).
        learning_rate: initial rate (``None``: 0.025, or 0.5 for GloVe's AdaGrad).
        workers: threads.
        seed: random seed.
        tokenizer: ``english``, ``chinese``, ``char`` or ``auto``.
        negative: negative samples per positive (gensim methods).
        sample: down-sampling threshold for frequent words (gensim methods).
        min_n, max_n, bucket: FastText n-gram lengths and hash buckets.
        x_max, glove_alpha: GloVe's weighting ``f(x) = min(1, (x/x_max)^alpha)``.
        batch_size: GloVe entries per update.
    """

    method: str = "skipgram"
    vector_size: int = 100
    window: int = 5
    min_count: int = 5
    max_vocab: int | None = None
    epochs: int | None = None
    learning_rate: float | None = None
    workers: int = 3
    seed: int = 0
    tokenizer: str = "auto"
    negative: int | None = None
    sample: float | None = None
    min_n: int | None = None
    max_n: int | None = None
    bucket: int | None = None
    x_max: float | None = None
    glove_alpha: float | None = None
    batch_size: int | None = None

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> EmbedConfig:
        """Config from keyword options; an unknown key is a :class:`ConfigError`."""
        known = {f.name for f in fields(cls)}
        for key in kwargs:
            if key not in known:
                raise ConfigError(
                    f"Unknown embedding option {key!r}; the options are {', '.join(sorted(known))}."
                )
        return cls(**kwargs)

    def resolved(self) -> dict[str, Any]:
        """The options with method defaults filled in; checks names and ranges."""
        if self.method not in METHODS:
            raise ConfigError(
                f"method: expected one of {', '.join(METHODS)}, got {self.method!r}; pick one."
            )
        glove = self.method == "glove"
        if not glove:
            from rnnlab.embeddings._gensim import require_gensim

            require_gensim(f"--method {self.method}")
        own, other = (_GLOVE_ONLY, _GENSIM_ONLY) if glove else (_GENSIM_ONLY, _GLOVE_ONLY)
        for key in other:
            if getattr(self, key) is not None:
                raise ConfigError(
                    f"{key}: not used by --method {self.method}; remove it (it applies to "
                    f"{'the gensim methods' if glove else 'glove'} only)."
                )
        if self.method != "fasttext":
            for key in ("min_n", "max_n", "bucket"):
                if getattr(self, key) is not None:
                    raise ConfigError(
                        f"{key}: only --method fasttext uses character n-grams; remove it."
                    )
        out = asdict(self)
        for key, default in own.items():
            if out[key] is None:
                out[key] = default
        for key in other:
            out.pop(key)
        if self.method != "fasttext" and not glove:
            for key in ("min_n", "max_n", "bucket"):
                out.pop(key)
        out["epochs"] = out["epochs"] if out["epochs"] is not None else (15 if glove else 5)
        if out["learning_rate"] is None:
            out["learning_rate"] = 0.5 if glove else 0.025
        for key in ("vector_size", "window", "min_count", "epochs", "workers"):
            _positive(key, out[key])
        if out["max_vocab"] is not None:
            _positive("max_vocab", out["max_vocab"])
        if self.method == "fasttext" and not 1 <= out["min_n"] <= out["max_n"]:
            raise ValueRangeError(
                f"min_n, max_n: expected 1 <= min_n <= max_n, got {out['min_n']}, {out['max_n']}."
            )
        return out


def _positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueRangeError(f"{name}: expected an integer >= 1, got {value!r}.")


@dataclass
class TrainResult:
    """What :func:`train` produced.

    Attributes:
        vectors: the artefact (what :func:`~rnnlab.embeddings.load` reads back).
        model: the training state: a gensim ``Word2Vec``/``FastText`` or a
            :class:`~.glove.GloveModel`.
        stats: corpus size, seconds, words per second.
        path: where the vectors were saved, or ``None``.
    """

    vectors: Vectors
    model: Any
    stats: dict[str, Any]
    path: Path | None = None


def _vocabulary(corpus: TokenizedCorpus, min_count: int, max_vocab: int | None) -> list[str]:
    kept = [(w, c) for w, c in corpus.counts.items() if c >= min_count]
    if not kept:
        top = max(corpus.counts.values())
        raise DataError(
            f"min_count: no word of corpus {corpus.source!r} occurs {min_count} times (the most "
            f"frequent occurs {top} times); lower --min-count or give a larger corpus."
        )
    kept.sort(key=lambda wc: (-wc[1], wc[0]))
    return [w for w, _ in kept[:max_vocab]]


def train_on_corpus(
    corpus: TokenizedCorpus, config: EmbedConfig, progress: ProgressFn | None = None
) -> TrainResult:
    """Train on an already tokenised corpus (lets several seeds share one tokenisation)."""
    opts = config.resolved()
    method = opts["method"]
    words = _vocabulary(corpus, opts["min_count"], opts["max_vocab"])
    start = time.perf_counter()
    if method == "glove":
        from rnnlab.embeddings.cooccur import cooccurrence
        from rnnlab.embeddings.glove import train_glove

        index = {w: i for i, w in enumerate(words)}
        X = cooccurrence(
            corpus, index, opts["window"], progress=progress, total_words=corpus.tokens
        )
        count_seconds = time.perf_counter() - start
        model = train_glove(
            X,
            opts["vector_size"],
            opts["epochs"],
            opts["learning_rate"],
            opts["x_max"],
            opts["glove_alpha"],
            opts["batch_size"],
            opts["seed"],
            opts["workers"],
            progress,
        )
        vectors = Vectors(words, model.vectors, [corpus.counts[w] for w in words])
        extra = {"cooccur_seconds": round(count_seconds, 3), "nonzeros": int(X.nnz)}
    else:
        from rnnlab.embeddings.word2vec import train_gensim

        params = {k: v for k, v in opts.items() if k not in ("method", "tokenizer")}
        model = train_gensim(corpus, method, progress=progress, **params)
        vectors = Vectors.from_gensim(model.wv)
        extra = {}
    seconds = time.perf_counter() - start
    stats = {
        "documents": corpus.documents,
        "tokens": corpus.tokens,
        "vocabulary": len(vectors),
        "train_seconds": round(seconds, 3),
        "words_per_s": round(corpus.tokens * opts["epochs"] / seconds) if seconds else 0,
        **extra,
    }
    opts["tokenizer"] = corpus.tokenizer.to_dict()
    vectors.metadata.update(
        method=method, params=opts, corpus={"source": corpus.source}, training=stats
    )
    return TrainResult(vectors, model, stats)


def train(
    corpus: str | os.PathLike[str],
    method: str = "skipgram",
    *,
    out: str | os.PathLike[str] | None = None,
    progress: ProgressFn | None = None,
    **options: Any,
) -> TrainResult:
    """Train word vectors on ``corpus`` (a text file, one document per line, or a dataset name).

    Args:
        corpus: file path or built-in dataset name (``imdb``: its train split's texts).
        method: ``skipgram``, ``cbow``, ``fasttext`` or ``glove``.
        out: directory to save the vectors to (rnnlab format), written atomically.
        progress: optional callback receiving :class:`~.events.ProgressEvent`.
        **options: any :class:`EmbedConfig` field.

    Raises:
        ConfigError: unknown method or option. DataError: empty corpus, no word above
        ``min_count``. MissingDependencyError: gensim missing for a gensim method.
    """
    config = EmbedConfig.from_kwargs(method=method, **options)
    config.resolved()  # fail on bad options before reading the corpus
    with tempfile.TemporaryDirectory(prefix="rnnlab-embed-") as work:
        tokenized = tokenize_corpus(
            corpus, Path(work) / "tokens.txt", config.tokenizer, progress=progress
        )
        result = train_on_corpus(tokenized, config, progress)
    if out is not None:
        result.path = write_vectors(result.vectors, out, "rnnlab")
    return result
