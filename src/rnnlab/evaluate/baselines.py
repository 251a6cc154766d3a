"""Baselines trained and scored on the same split as the model, to put its numbers in context.

* **majority**: always the most frequent training label (ties: the first in sorted order).
  Any model must beat it; its accuracy is the share of that class in the evaluation data.
* **tfidf**: TF-IDF over word 1- and 2-grams (sublinear tf, terms in ≥ 2 training texts)
  and L2-regularised logistic regression (scikit-learn, C = 1). A strong linear bag-of-n-grams
  model: on movie reviews it is within a few points of recurrent models, so a model that
  does not beat it has learned little from word order. For Chinese or character tokenizers
  the run's own tokenizer splits the text, since scikit-learn's default word pattern treats
  a run of CJK characters as one token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rnnlab.errors import MissingDependencyError

__all__ = ["majority_baseline", "tfidf_baseline"]


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
) -> tuple[list[Any], np.ndarray, list[Any]]:
    """Fit TF-IDF (1–2-grams) + logistic regression on the training texts, label ``texts``.

    Args:
        tokenizer: splits a text into tokens; ``None`` uses scikit-learn's word pattern on
            lower-cased text (for English).

    Returns:
        (predicted labels, probabilities (N, K), the K classes in column order).
    """
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise MissingDependencyError(
            "The TF-IDF baseline needs scikit-learn; install it with pip install 'rnnlab[explain]'."
        ) from None
    options: dict[str, Any] = {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True}
    if tokenizer is not None:
        options.update(tokenizer=tokenizer, token_pattern=None, lowercase=False)
    if len(train_texts) < 20:
        options["min_df"] = 1  # a handful of texts share few terms twice
    vectorizer = TfidfVectorizer(**options)
    features = vectorizer.fit_transform(train_texts)
    classes = sorted(set(train_labels), key=str)
    index = {label: k for k, label in enumerate(classes)}
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(features, np.array([index[label] for label in train_labels]))
    probs = model.predict_proba(vectorizer.transform(texts))
    columns = [classes[k] for k in model.classes_]
    return [columns[k] for k in probs.argmax(axis=1)], probs, columns
