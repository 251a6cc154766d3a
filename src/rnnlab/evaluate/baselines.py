"""Baselines trained and scored on the same split as the model, to put its numbers in context.

* **majority**: always the most frequent training label (ties: the first in sorted order).
  Any model must beat it; its accuracy is the share of that class in the evaluation data.
* **tfidf**: TF-IDF over word n-grams (sublinear tf, terms in ≥ 2 training texts) and
  L2-regularised logistic regression (scikit-learn), **tuned**: with a validation split the
  n-gram range ∈ {(1, 1), (1, 2)} and C ∈ {1, 3, 10, 30, 100, 300} (the grid of the
  default classifier's lexical member) are the pair with the best validation accuracy
  (ties: the simpler model, listed first); without one, (1, 2) and C = 10. A strong linear
  bag-of-n-grams model: on movie reviews it is within a point or two of recurrent models,
  so a model that does not beat it has learned little from word order — and a lead over an
  untuned one (C = 1 is 1–2 points weaker on IMDB and topic data) proves little. For Chinese
  or character tokenizers the run's own tokenizer splits the text, since scikit-learn's
  default word pattern treats a run of CJK characters as one token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab.errors import MissingDependencyError

__all__ = ["TFIDF_GRID", "TfidfBaseline", "majority_baseline", "tfidf_baseline"]

# The (n-gram range, C) pairs the validation split chooses from, simplest first.
TFIDF_GRID = tuple(
    (ngrams, c) for ngrams in ((1, 1), (1, 2)) for c in (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
)
_UNTUNED = ((1, 2), 10.0)


@dataclass
class TfidfBaseline:
    """The tuned baseline's labels and probabilities (N, K) of the texts, its K classes in
    column order, and the chosen setting (``ngram_range``, ``c``, ``valid_accuracy``)."""

    labels: list[Any]
    probs: np.ndarray
    classes: list[Any]
    params: dict[str, Any] = field(default_factory=dict)

    def __iter__(self):
        return iter((self.labels, self.probs, self.classes))


def majority_baseline(train_labels: Sequence[Any], n: int) -> list[Any]:
    """``n`` copies of the most frequent training label."""
    counts = Counter(train_labels)
    top = max(counts.values())
    label = sorted((lab for lab, c in counts.items() if c == top), key=str)[0]
    return [label] * n


def tfidf_baseline(
    train_texts: Sequence[str],
    train_labels: Sequence[Any],
    texts: Sequence[str],
    *,
    tokenizer: Callable[[str], list[str]] | None = None,
    valid_texts: Sequence[str] | None = None,
    valid_labels: Sequence[Any] | None = None,
) -> TfidfBaseline:
    """Fit TF-IDF + logistic regression on the training texts (tuned on the validation texts
    when given, see the module docstring) and label ``texts``.

    Args:
        tokenizer: splits a text into tokens; ``None`` uses scikit-learn's word pattern on
            lower-cased text (for English).

    Returns:
        a :class:`TfidfBaseline`, which also unpacks as (predicted labels, probabilities
        (N, K), the K classes in column order).
    """
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise MissingDependencyError(
            "The TF-IDF baseline needs scikit-learn; install it with pip install 'rnnlab[explain]'."
        ) from None
    options: dict[str, Any] = {"min_df": 2, "sublinear_tf": True}
    if tokenizer is not None:
        options.update(tokenizer=tokenizer, token_pattern=None, lowercase=False)
    if len(train_texts) < 20:
        options["min_df"] = 1  # a handful of texts share few terms twice
    classes = sorted(set(train_labels), key=str)
    index = {label: k for k, label in enumerate(classes)}
    y_train = np.array([index[label] for label in train_labels])
    tune = bool(valid_texts) and valid_labels is not None
    grid = TFIDF_GRID if tune else (_UNTUNED,)
    best: tuple[float, Any, Any, dict[str, Any]] | None = None
    vectorizers: dict[tuple[int, int], tuple[Any, Any]] = {}
    for ngrams, c in grid:
        if ngrams not in vectorizers:
            vectorizer = TfidfVectorizer(ngram_range=ngrams, **options)
            vectorizers[ngrams] = (vectorizer, vectorizer.fit_transform(train_texts))
        vectorizer, features = vectorizers[ngrams]
        model = LogisticRegression(C=c, max_iter=1000).fit(features, y_train)
        params: dict[str, Any] = {"ngram_range": list(ngrams), "c": c}
        score = 0.0
        if tune:
            assert valid_texts is not None and valid_labels is not None
            predicted = model.predict(vectorizer.transform(valid_texts))
            truth = np.array([index.get(label, -1) for label in valid_labels])
            score = float(np.mean(predicted == truth))
            params["valid_accuracy"] = round(score, 6)
        if best is None or score > best[0]:
            best = (score, vectorizer, model, params)
    assert best is not None
    _, vectorizer, model, params = best
    probs = model.predict_proba(vectorizer.transform(texts))
    columns = [classes[k] for k in model.classes_]
    return TfidfBaseline([columns[k] for k in probs.argmax(axis=1)], probs, columns, params)
