"""Tag schemes for sequence labelling: BIO, BIOES and plain tags, spans and conversions.

An entity (a span of tokens with a type) is written one tag per token:

    tokens   Mr   Barack  Obama  visited  New    York   .
    BIO      O    B-PER   I-PER  O        B-LOC  I-LOC  O      (B = begin, I = inside)
    BIOES    O    B-PER   E-PER  O        B-LOC  E-LOC  O      (E = end, S = single token)

``plain`` tags (parts of speech: ``NN``, ``v``) carry no spans; every token has its own tag.

:func:`bio_to_bioes` and :func:`bioes_to_bio` convert between the two span schemes (one is
the other's inverse on well-formed input); :func:`repair_bio` turns an ``I-X`` that starts
nowhere (after ``O`` or another type, the IOB1 convention) into ``B-X``, the reading
conlleval and seqeval give it; :func:`spans` lists the entities of well-formed tags.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rnnlab.errors import DataError

__all__ = [
    "SCHEMES",
    "bio_to_bioes",
    "bioes_to_bio",
    "convert",
    "detect_scheme",
    "repair_bio",
    "spans",
    "spans_to_tags",
    "split_tag",
]

SCHEMES = ("bio", "bioes", "plain")
OUTSIDE = "O"


def split_tag(tag: str) -> tuple[str, str]:
    """``"B-PER"`` → ``("B", "PER")``; ``"O"`` → ``("O", "")``; no prefix → ``("", tag)``."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BIES":
        return tag[0], tag[2:]
    return "", tag


def detect_scheme(tag_lists: Iterable[Sequence[str]]) -> str:
    """``"bioes"`` if any tag is ``E-``/``S-``-prefixed and all others are ``O`` or prefixed,
    ``"bio"`` if every tag is ``O``, ``B-X`` or ``I-X``, otherwise ``"plain"``."""
    prefixes: set[str] = set()
    for tags in tag_lists:
        for tag in tags:
            prefix, _ = split_tag(tag)
            if prefix == "":
                return "plain"
            prefixes.add(prefix)
    if prefixes & {"E", "S"}:
        return "bioes"
    return "bio" if prefixes - {OUTSIDE} else "plain"


def repair_bio(tags: Sequence[str]) -> tuple[list[str], list[int]]:
    """Tags with every ``I-X`` that starts nowhere rewritten as ``B-X``, and where that was.

    ``I-X`` continues an entity only right after ``B-X`` or ``I-X``; anywhere else (sentence
    start, after ``O``, after another type) conlleval reads it as the start of a new entity,
    and so does this repair. Returns (tags, positions rewritten).
    """
    fixed = list(tags)
    repaired = []
    previous = OUTSIDE
    for i, tag in enumerate(fixed):
        prefix, kind = split_tag(tag)
        before, before_kind = split_tag(previous)
        if prefix == "I" and (before not in ("B", "I") or before_kind != kind):
            fixed[i] = f"B-{kind}"
            repaired.append(i)
        previous = fixed[i]
    return fixed, repaired


def _check(tags: Sequence[str], allowed: str, scheme: str) -> None:
    for i, tag in enumerate(tags):
        prefix, _ = split_tag(tag)
        if not prefix or prefix not in allowed:
            raise DataError(
                f"tag {tag!r} at position {i} is not a {scheme.upper()} tag (expected 'O' or "
                f"one of {', '.join(p + '-TYPE' for p in allowed if p != 'O')}); convert the "
                f"tags or train with scheme 'plain'."
            )


def spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities ``(type, start, end)`` (end inclusive) of BIO or BIOES tags, in order.

    An entity opens at ``B-X`` or ``S-X`` (or at an ``I-X``/``E-X`` that continues nothing)
    and closes before any tag that does not continue it; ``E-X`` and ``S-X`` close it at
    once. On well-formed tags this is the one reading; for malformed ones it is conlleval's
    (see :func:`rnnlab.evaluate.entities.entities` for the exact rules of that scorer).
    """
    _check(tags, "OBIES", "bio/bioes")
    found: list[tuple[str, int, int]] = []
    start, kind = -1, ""
    for i, tag in enumerate(tags):
        prefix, tag_kind = split_tag(tag)
        continues = start >= 0 and prefix in "IE" and tag_kind == kind
        if start >= 0 and not continues:
            found.append((kind, start, i - 1))
            start = -1
        if prefix != OUTSIDE and start < 0:
            start, kind = i, tag_kind
        if prefix in ("E", "S") and start >= 0:
            found.append((kind, start, i))
            start = -1
    if start >= 0:
        found.append((kind, start, len(tags) - 1))
    return found


def spans_to_tags(length: int, entities: Iterable[tuple[str, int, int]], scheme: str) -> list[str]:
    """Tags of a sentence of ``length`` tokens holding ``entities`` (type, start, end)."""
    if scheme not in ("bio", "bioes"):
        raise DataError(f"spans_to_tags: scheme must be 'bio' or 'bioes', got {scheme!r}.")
    tags = [OUTSIDE] * length
    for kind, start, end in entities:
        if scheme == "bioes" and start == end:
            tags[start] = f"S-{kind}"
            continue
        tags[start] = f"B-{kind}"
        for i in range(start + 1, end + 1):
            tags[i] = f"I-{kind}"
        if scheme == "bioes":
            tags[end] = f"E-{kind}"
    return tags


def bio_to_bioes(tags: Sequence[str]) -> list[str]:
    """BIO → BIOES: a one-token entity becomes ``S-X``, the last token of a longer one ``E-X``.

    ``I-X`` that starts nowhere is read as ``B-X`` (see :func:`repair_bio`).
    """
    _check(tags, "OBI", "bio")
    return spans_to_tags(len(tags), spans(tags), "bioes")


def bioes_to_bio(tags: Sequence[str]) -> list[str]:
    """BIOES → BIO: ``S-X`` becomes ``B-X`` and ``E-X`` becomes ``I-X``."""
    _check(tags, "OBIES", "bioes")
    return spans_to_tags(len(tags), spans(tags), "bio")


def convert(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Tags of scheme ``source`` written in scheme ``target`` (``plain`` only to itself)."""
    for name, value in (("source", source), ("target", target)):
        if value not in SCHEMES:
            raise DataError(f"convert: {name} scheme must be one of {SCHEMES}, got {value!r}.")
    if source == target:
        return list(tags)
    if "plain" in (source, target):
        raise DataError(
            f"cannot convert {source!r} tags to {target!r}: plain tags (parts of speech) have "
            f"no spans; keep scheme {source!r}."
        )
    return bio_to_bioes(tags) if target == "bioes" else bioes_to_bio(tags)
