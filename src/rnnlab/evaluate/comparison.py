"""What a classification run's ``metrics.json`` compares, in words: the systems scored on the
same texts (the model, its members alone where it combines, the baselines) and one sentence
per McNemar test. The terminal table and the HTML report both read these, so they say the
same thing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["caution_sentences", "compared_systems", "mcnemar_sentences", "setting_sentences"]

# (key prefix, what the test compares, who "model" is, who "baseline" is)
_TESTS = (
    ("mcnemar_", "model vs TF-IDF baseline", "the model", "the baseline"),
    ("recurrent_mcnemar_", "network alone vs TF-IDF baseline", "the network", "the baseline"),
    (
        "combined_vs_recurrent_mcnemar_",
        "model vs network alone",
        "the model",
        "the network alone",
    ),
)


def setting_sentences(metrics: dict[str, Any]) -> list[str]:
    """What the combination and the tuned baseline chose, one sentence each."""
    out = []
    weight = metrics.get("combine_recurrent_weight")
    if weight is not None and "recurrent_accuracy" in metrics:
        c = metrics.get("combine_lexical_c")
        kind = {"nb": "NB-LR", "tfidf": "TF-IDF + LR"}.get(metrics.get("combine_lexical_weighting"))
        out.append(
            f"The model averages the network's probabilities (weight {weight:g}) with its "
            f"lexical member's ({1 - weight:g}"
            + (f"; {kind}" if kind else "")
            + (f"; C = {c:g}" if c is not None else "")
            + "), as chosen on the validation split."
        )
    ngrams, c = metrics.get("baseline_tfidf_ngrams"), metrics.get("baseline_tfidf_c")
    if ngrams and c is not None:
        out.append(
            f"The TF-IDF baseline: {_ngrams(ngrams)} + logistic regression with C = {c:g}, "
            "as chosen on the validation split."
        )
    return out


def _ngrams(largest: int) -> str:
    """1 → ``1-grams``, 2 → ``1-2-grams``."""
    return "-".join(str(n) for n in range(1, largest + 1)) + "-grams"


def compared_systems(metrics: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(title, its metrics with the prefix removed) for every system in ``metrics``, the model
    first: ``accuracy``, ``macro_f1`` and their ``_ci_low`` / ``_ci_high`` in each."""
    ngrams = metrics.get("baseline_tfidf_ngrams")
    systems = [("model", metrics)]
    for prefix, title in (
        ("recurrent_", "  network alone"),
        ("lexical_", "  lexical member alone"),
        ("baseline_majority_", "majority class"),
        ("baseline_tfidf_", f"TF-IDF {_ngrams(ngrams) if ngrams else '1-2-grams'} + LR"),
    ):
        if f"{prefix}accuracy" in metrics:
            sub = {k.removeprefix(prefix): v for k, v in metrics.items() if k.startswith(prefix)}
            systems.append((title, sub))
    return systems


def mcnemar_sentences(metrics: dict[str, Any]) -> list[str]:
    """One sentence per McNemar test in ``metrics`` (model vs baseline first)."""
    out = []
    for prefix, what, first, second in _TESTS:
        if f"{prefix}p" in metrics:
            out.append(
                f"McNemar's test, {what} ({metrics[f'{prefix}method']}): only {first} right "
                f"on {metrics[f'{prefix}model_only']} texts, only {second} on "
                f"{metrics[f'{prefix}baseline_only']}; p = {metrics[f'{prefix}p']:.4g}."
            )
    return out


def caution_sentences(metrics: dict[str, Any]) -> list[str]:
    """What should temper a reader's trust in the scores, one sentence each: the notes on
    the data the run recorded (``data_notes``: copies, shared texts, small splits) and a
    model that does no better than always answering the majority class."""
    out = [str(note[0].upper() + note[1:]) for note in metrics.get("data_notes", []) if note]
    accuracy, majority = metrics.get("accuracy"), metrics.get("baseline_majority_accuracy")
    if accuracy is not None and majority is not None and accuracy <= majority:
        label = metrics.get("baseline_majority_label", "the most frequent class")
        out.append(
            f"The model is no better than always answering {label!r} (accuracy {accuracy:.4f} "
            f"against {majority:.4f}): it has not learned to tell the classes apart from "
            "these texts; label more texts, or check that the labels match the texts."
        )
    return out
