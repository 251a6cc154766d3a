"""Readers for tagged sentences: CoNLL columns, ``word/tag`` lines and CoNLL-U.

Three formats, one result (:class:`TaggedSentences`: tokens and tags per sentence, and the
file line where each sentence starts):

``conll``
    One token per line, columns split by tabs (or, on lines without a tab, by spaces), a
    blank line between sentences (a line of only whitespace counts as blank)::

        EU      NNP  B-NP  B-ORG
        rejects VBZ  B-VP  O

    ``token_col`` and ``tag_col`` choose the columns by index (negative counts from the
    end; the defaults, 0 and -1, are first and last). ``-DOCSTART-`` lines are ignored.
    Every line of a file must have the same number of columns.
``wordtag``
    One sentence per line, tokens separated by whitespace, each written ``word/tag``
    (People's Daily, Brown); the tag follows the last ``/``, so ``1/2/m`` is word ``1/2``.
``conllu``
    Universal Dependencies: ten tab-separated columns, ``#`` comment lines, a blank line
    after each sentence; the tag is ``UPOS`` (column 4) or ``XPOS`` (column 5). Multiword
    token ranges (``1-2``) and empty nodes (``1.1``) are skipped.

Errors name the file and line, what was expected and what arrived. BIO tags with an ``I-X``
that continues no entity are repaired to ``B-X`` (:func:`~rnnlab.text.tagschemes.repair_bio`)
with one warning per file naming the lines, not an error: many CoNLL files are written in
IOB1, where that is how an entity starts.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.errors import DataError, RnnlabFileNotFoundError
from rnnlab.text.tagschemes import detect_scheme, repair_bio

__all__ = ["FORMATS", "TaggedSentences", "guess_format", "read_tagged"]

FORMATS = ("conll", "wordtag", "conllu")
DOCSTART = "-DOCSTART-"
_CONLLU_TAGS = {"upos": 3, "xpos": 4}
_SHOWN = 5


@dataclass
class TaggedSentences:
    """Sentences of tokens with one tag per token.

    Attributes:
        tokens, tags: one list per sentence, of equal lengths.
        source: where they came from (a file name, ``"wnut16 (test)"``), for messages.
        lines: the line of the file where each sentence starts (counting from 1).
    """

    tokens: list[list[str]]
    tags: list[list[str]]
    source: str = ""
    lines: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def num_tokens(self) -> int:
        return sum(len(s) for s in self.tokens)

    @property
    def texts(self) -> list[str]:
        """Each sentence's tokens joined by spaces, for tools that read plain text."""
        return [" ".join(tokens) for tokens in self.tokens]

    def tag_set(self) -> list[str]:
        """The distinct tags, sorted."""
        return sorted({t for tags in self.tags for t in tags})

    def subset(self, positions: list[int], what: str) -> TaggedSentences:
        """The sentences at ``positions``; ``what`` ("train part") is added to the source."""
        return TaggedSentences(
            [list(self.tokens[i]) for i in positions],
            [list(self.tags[i]) for i in positions],
            f"{self.source} ({what})" if self.source else what,
            [self.lines[i] for i in positions] if self.lines else [],
        )


def guess_format(path: str | Path) -> str:
    """``conllu`` for ``*.conllu`` files, ``conll`` otherwise (``wordtag`` must be asked for)."""
    return "conllu" if str(path).lower().endswith(".conllu") else "conll"


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line without its end) of a UTF-8 file (a BOM is dropped)."""
    if not path.is_file():
        raise RnnlabFileNotFoundError(
            f"{path} does not exist or is not a file; check the path (--data, --valid, --test)."
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path} line {line}: bytes that are not UTF-8 ({exc.reason}); save the file as UTF-8."
        ) from None
    for number, line in enumerate(text.splitlines(), start=1):
        yield number, line


def _columns(line: str) -> list[str]:
    return [c.strip() for c in line.split("\t")] if "\t" in line else line.split()


def _read_conll(path: Path, token_col: int, tag_col: int) -> TaggedSentences:
    out = TaggedSentences([], [], str(path))
    tokens: list[str] = []
    tags: list[str] = []
    width, width_line = 0, 0

    def close() -> None:
        if tokens:
            out.tokens.append(tokens.copy())
            out.tags.append(tags.copy())
            tokens.clear()
            tags.clear()

    for number, line in _lines(path):
        if not line.strip():
            close()
            continue
        columns = _columns(line)
        if columns[0] == DOCSTART:
            close()
            continue
        if not width:
            width, width_line = len(columns), number
            for name, index in (("token_col", token_col), ("tag_col", tag_col)):
                if not -width <= index < width:
                    raise DataError(
                        f"{path} line {number}: {name} {index} is out of range for a line of "
                        f"{width} columns; choose a column index from 0 to {width - 1} (or "
                        f"-1 for the last)."
                    )
            if width < 2:
                raise DataError(
                    f"{path} line {number}: expected a token and a tag column, got 1 column "
                    f"({line.strip()!r}); separate the columns with a tab or spaces, or read "
                    "'word/tag' files with format 'wordtag'."
                )
        elif len(columns) != width:
            raise DataError(
                f"{path} line {number}: expected {width} columns as on line {width_line}, got "
                f"{len(columns)} ({line.strip()!r}); give every token line the same columns "
                "and separate sentences by an empty line."
            )
        token, tag = columns[token_col], columns[tag_col]
        if not token or not tag:
            what = "token" if not token else "tag"
            raise DataError(
                f"{path} line {number}: empty {what} column; fill it in or remove the line."
            )
        if not tokens:
            out.lines.append(number)
        tokens.append(token)
        tags.append(tag)
    close()
    return out


def _read_wordtag(path: Path, separator: str = "/") -> TaggedSentences:
    out = TaggedSentences([], [], str(path))
    for number, line in _lines(path):
        items = line.split()
        if not items:
            continue
        tokens, tags = [], []
        for item in items:
            word, sep, tag = item.rpartition(separator)
            if not sep or not word or not tag:
                raise DataError(
                    f"{path} line {number}: {item!r} is not word{separator}tag; write every "
                    f"token as word{separator}tag, separated by spaces, one sentence per line."
                )
            tokens.append(word)
            tags.append(tag)
        out.tokens.append(tokens)
        out.tags.append(tags)
        out.lines.append(number)
    return out


def _read_conllu(path: Path, column: str) -> TaggedSentences:
    out = TaggedSentences([], [], str(path))
    index = _CONLLU_TAGS[column]
    tokens: list[str] = []
    tags: list[str] = []
    start = number = 0

    def close(number: int) -> None:
        if start and not tokens:
            raise DataError(
                f"{path} line {start}: a sentence with no tokens (only comments, ranges or "
                f"empty nodes up to line {number}); remove it or add its token lines."
            )
        if tokens:
            out.tokens.append(tokens.copy())
            out.tags.append(tags.copy())
            out.lines.append(start)
            tokens.clear()
            tags.clear()

    for number, line in _lines(path):
        if not line.strip():
            close(number)
            start = 0
            continue
        start = start or number
        if line.startswith("#"):
            continue
        columns = line.split("\t")
        if len(columns) != 10:
            raise DataError(
                f"{path} line {number}: expected the 10 tab-separated CoNLL-U columns, got "
                f"{len(columns)}; check that columns are separated by tabs, not spaces."
            )
        if "-" in columns[0] or "." in columns[0]:
            continue  # multiword range or empty node: the words themselves follow
        tag = columns[index]
        if tag in ("", "_"):
            raise DataError(
                f"{path} line {number}: no {column.upper()} tag ('{tag}') for token "
                f"{columns[1]!r}; choose the other tag column (upos or xpos)."
            )
        tokens.append(columns[1])
        tags.append(tag)
    close(number)
    return out


def read_tagged(
    path: str | Path,
    format: str | None = None,
    *,
    token_col: int = 0,
    tag_col: int = -1,
    conllu_tags: str = "upos",
    repair: bool = True,
) -> TaggedSentences:
    """Read a tagged file in ``format`` (``conll``, ``wordtag`` or ``conllu``; ``None``:
    from the suffix, see :func:`guess_format`).

    With ``repair`` (the default), BIO tags whose ``I-X`` starts nowhere become ``B-X`` with
    one warning naming the lines. Raises :class:`~rnnlab.errors.DataError` naming the file and
    line for malformed input, and when the file holds no sentence at all.
    """
    path = Path(path)
    format = format or guess_format(path)
    if format not in FORMATS:
        raise DataError(
            f"{path}: format must be one of {', '.join(FORMATS)}, got {format!r}; pass one of "
            "them (--format, data.format) or leave it empty to go by the file name."
        )
    if format == "conllu" and conllu_tags not in _CONLLU_TAGS:
        raise DataError(
            f"{path}: conllu_tags must be 'upos' or 'xpos', got {conllu_tags!r}; pass one of "
            "them (--conllu-tags, data.conllu_tags)."
        )
    if format == "conll":
        data = _read_conll(path, token_col, tag_col)
    elif format == "wordtag":
        data = _read_wordtag(path)
    else:
        data = _read_conllu(path, conllu_tags)
    if not data.tokens:
        raise DataError(
            f"{path} holds no tagged sentences; expected {format} format "
            f"({'one word/tag sentence per line' if format == 'wordtag' else 'token lines'})."
        )
    if repair:
        repair_tags(data, line_per_token=format == "conll")
    return data


def repair_tags(data: TaggedSentences, line_per_token: bool = True) -> int:
    """Rewrite, in place, BIO ``I-X`` tags that start nowhere as ``B-X``; warn once naming the
    first places. Returns how many tags were rewritten (0 unless the tags are BIO).

    ``line_per_token``: token p of a sentence starting on line n lies on line n + p (CoNLL);
    otherwise places are named by line and token number.
    """
    if detect_scheme(data.tags) != "bio":
        return 0
    where: list[str] = []
    count = 0
    for s, tags in enumerate(data.tags):
        fixed, positions = repair_bio(tags)
        if positions:
            data.tags[s] = fixed
            count += len(positions)
            for p in positions[: _SHOWN - len(where)]:
                if not data.lines:
                    where.append(f"sentence {s + 1} token {p + 1}")
                elif line_per_token:
                    where.append(f"line {data.lines[s] + p}")
                else:
                    where.append(f"line {data.lines[s]} token {p + 1}")
    if count:
        more = f" and {count - len(where)} more" if count > len(where) else ""
        warnings.warn(
            f"{data.source}: {count} I- tag(s) continue no entity ({', '.join(where)}{more}); "
            "read as B- tags, as conlleval does.",
            stacklevel=3,
        )
    return count
