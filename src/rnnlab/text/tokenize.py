"""Tokenisers: turn a raw text into a list of string tokens.

Three tokenisers, chosen by name so a configuration file can select one and a saved model
can rebuild exactly the one it was trained with:

``english``
    The classic IMDB preprocessing: lower-case, ``<br />`` line breaks become spaces, and a
    token is a run of Unicode letters, optionally joined by apostrophes (``don't``,
    ``rock'n'roll``); apostrophes at either end of a word are dropped (``'hello'`` ->
    ``hello``); typographic quotes (U+2018, U+2019) count as apostrophes. Options:
    ``keep_digits`` (digits count as letters, so ``1950s`` and ``mp3`` are tokens) and
    ``keep_punctuation`` (every other non-space character, ``!``, ``?``, ``.``, ``,``, a
    lone quote, becomes a token of its own).
``chinese``
    Word segmentation with jieba (``lcut``, HMM on for unseen words); whitespace tokens are
    dropped. Option ``user_dict``: a jieba user dictionary (``word [freq] [tag]`` per line).
    Its content is read once and saved with the tokenizer, so a saved model segments the same
    way on a machine without the file. Without jieba installed the text is split into
    characters and a warning names ``pip install jieba``.
``char``
    Every non-whitespace character is a token. Option ``lower``.

A configuration may say ``auto``: :func:`guess_tokenizer` then picks ``chinese`` when CJK
ideographs make up most letters of the training texts and ``english`` otherwise, and the
resolved name is what the run saves. (A classifier's ``auto`` also turns on ``keep_digits``
and ``keep_punctuation`` for English: see ``rnnlab.tasks.classify.estimator``.)

Example::

    >>> tok = get_tokenizer("english", keep_punctuation=True)
    >>> tok("I didn't like it.<br /><br />'Boring'!")
    ['i', "didn't", 'like', 'it', '.', "'", 'boring', "'", '!']
    >>> Tokenizer.from_dict(tok.to_dict()) == tok
    True
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rnnlab.errors import ConfigError, DataError, MissingDependencyError, RnnlabFileNotFoundError

__all__ = ["TOKENIZERS", "Tokenizer", "english_steps", "get_tokenizer", "guess_tokenizer"]

TokenizeFn = Callable[[str], list[str]]

# Option name -> (accepted types, default). Every option changes the output; tests cover each.
_OPTIONS: dict[str, dict[str, tuple[tuple[type, ...], Any]]] = {
    "english": {"keep_digits": ((bool,), False), "keep_punctuation": ((bool,), False)},
    "chinese": {"user_dict": ((str, os.PathLike, type(None)), None)},
    "char": {"lower": ((bool,), False)},
}
TOKENIZERS: tuple[str, ...] = tuple(_OPTIONS)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_BREAK = re.compile(r"<br\s*/?\s*>", re.IGNORECASE)
_LETTERS = r"[^\W\d_]"  # \w without digits and '_'; numbers such as '½' remain, see below
_ALNUM = r"[^\W_]"  # a Unicode letter or number
_PUNCT = r"|[^\w\s]|_"  # any other visible character, one token each


@functools.lru_cache(maxsize=1)
def _non_digit_numbers() -> dict[int, str]:
    r"""``str.translate`` table: numbers that ``\w`` matches but are not digits -> space.

    ``re`` has no ``\p{L}``, and ``[^\W\d_]`` admits ``½``, ``³`` and roman numeral signs
    (Unicode categories No and Nl; all outside ASCII). Replacing them by spaces makes the
    letter pattern match exactly the characters for which ``str.isalpha()`` holds. Built on
    the first non-ASCII text (about 0.1 s) from the running Python's Unicode tables.
    """
    word = re.compile(_LETTERS)
    return {
        code: " "
        for code in range(0x80, 0x110000)
        if unicodedata.category(chr(code)) in ("No", "Nl") and word.match(chr(code))
    }


@functools.cache
def _english_pattern(keep_digits: bool, keep_punctuation: bool) -> re.Pattern[str]:
    unit = _ALNUM if keep_digits else _LETTERS
    word = f"{unit}+(?:'{unit}+)*"
    return re.compile(word + (_PUNCT if keep_punctuation else ""))


def _english(keep_digits: bool, keep_punctuation: bool) -> TokenizeFn:
    findall = _english_pattern(keep_digits, keep_punctuation).findall
    sub = _BREAK.sub

    def tokenize(text: str) -> list[str]:
        text = text.lower()
        if "\u2019" in text or "\u2018" in text:  # typographic quotes -> ASCII apostrophe
            text = text.replace("\u2019", "'").replace("\u2018", "'")
        if "<" in text:
            text = sub(" ", text)
        if not keep_digits and not text.isascii():
            text = text.translate(_non_digit_numbers())
        return findall(text)

    return tokenize


def _characters(lower: bool) -> TokenizeFn:
    def tokenize(text: str) -> list[str]:
        if lower:
            text = text.lower()
        return list("".join(text.split()))

    return tokenize


_JIEBA_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _jieba_segmenter(user_dict_text: str | None) -> Any:
    """A private, initialised ``jieba.Tokenizer`` (shared per dictionary, never mutated later).

    jieba logs "Building prefix dict ..." to stderr while it initialises; its logger is raised
    to WARNING for that moment only, so library use stays silent without changing global
    logging for good.
    """
    import jieba

    segmenter = jieba.Tokenizer()
    logger = logging.getLogger("jieba")
    with _JIEBA_LOCK:
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            segmenter.initialize()
            if user_dict_text is not None:
                segmenter.load_userdict(io.StringIO(user_dict_text))
        finally:
            logger.setLevel(level)
    return segmenter


def _jieba_available() -> bool:
    try:
        import jieba  # noqa: F401
    except ImportError:
        return False
    return True


def _chinese(user_dict_text: str | None, backend: str) -> TokenizeFn:
    if backend == "characters":
        return _characters(lower=False)
    segmenter = _jieba_segmenter(user_dict_text)

    def tokenize(text: str) -> list[str]:
        return [w for w in segmenter.lcut(text, HMM=True) if not w.isspace()]

    return tokenize


def _read_user_dict(path: str | os.PathLike[str]) -> str:
    file = Path(path)
    if not file.is_file():
        raise RnnlabFileNotFoundError(
            f"user_dict: expected a jieba user dictionary file, got {str(file)!r}, which does "
            "not exist; pass the path of a UTF-8 file with one 'word [freq] [tag]' per line."
        )
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"user_dict: expected UTF-8 text in {str(file)!r}, got undecodable bytes at "
            f"offset {exc.start}; re-save the dictionary as UTF-8."
        ) from None


def _check_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Options with defaults filled in; a clear error for an unknown name, option or type."""
    if name not in _OPTIONS:
        raise ConfigError(
            f"tokenizer: expected one of {', '.join(TOKENIZERS)}, got {name!r}; "
            "pick one of those names."
        )
    spec = _OPTIONS[name]
    unknown = sorted(set(options) - set(spec))
    if unknown:
        known = ", ".join(spec) or "none"
        raise ConfigError(
            f"tokenizer_options: the {name!r} tokenizer takes the options {known}, got "
            f"unknown {', '.join(map(repr, unknown))}; remove or rename it."
        )
    resolved = {}
    for key, (types, default) in spec.items():
        value = options.get(key, default)
        if not isinstance(value, types):
            expected = " or ".join("None" if t is type(None) else t.__name__ for t in types)
            raise ConfigError(
                f"tokenizer_options.{key}: expected {expected} for the {name!r} tokenizer, "
                f"got {type(value).__name__} {value!r}; fix the value."
            )
        resolved[key] = os.fspath(value) if isinstance(value, os.PathLike) else value
    return resolved


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(text: str) -> str:
    """``text`` with lone UTF-16 surrogates (which a Python str may hold, e.g. from
    ``surrogateescape`` decoding, but no UTF-8 file can) replaced by U+FFFD, so that every
    token can be written to a vocabulary or model file."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


@dataclass(frozen=True, eq=False, repr=False)
class Tokenizer:
    """A named tokenizer with its options; call it on a text to get its tokens.

    Build one with :func:`get_tokenizer` (or ``Tokenizer(name, options)``); save the choice
    with :meth:`to_dict` and rebuild it with :meth:`from_dict`. Two tokenizers are equal
    when name, options and behaviour are equal. Pickling rebuilds from the saved form, so a
    tokenizer travels to ``DataLoader`` worker processes.

    Args:
        name: ``"english"``, ``"chinese"`` or ``"char"``.
        options: that tokenizer's options (see the module docstring); missing ones take
            their defaults, unknown ones raise :class:`~rnnlab.errors.ConfigError`.
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    _fn: TokenizeFn = field(init=False, repr=False)
    _resources: Mapping[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._setup(self.name, self.options, resources=None)

    def _setup(self, name: str, options: Mapping[str, Any], resources: Mapping | None) -> None:
        if not isinstance(options, Mapping):
            raise ConfigError(
                f"tokenizer_options: expected a mapping of option names to values, got "
                f"{type(options).__name__}; pass a dict such as {{'keep_digits': True}}."
            )
        resolved = _check_options(name, options)
        saved = dict(resources or {})
        if name == "english":
            fn = _english(resolved["keep_digits"], resolved["keep_punctuation"])
        elif name == "char":
            fn = _characters(resolved["lower"])
        else:
            fn, saved = self._setup_chinese(resolved["user_dict"], saved)
        object.__setattr__(self, "options", MappingProxyType(resolved))
        object.__setattr__(self, "_fn", fn)
        object.__setattr__(self, "_resources", MappingProxyType(saved))

    @staticmethod
    def _setup_chinese(user_dict: str | None, saved: dict[str, Any]) -> tuple[TokenizeFn, dict]:
        if "user_dict_text" in saved:  # rebuilt from a saved model: the file may be elsewhere
            text = saved["user_dict_text"]
        else:
            text = None if user_dict is None else _read_user_dict(user_dict)
        backend = saved.get("backend")
        if backend is None:  # fresh tokenizer: use jieba when it is there
            backend = "jieba" if _jieba_available() else "characters"
            if backend == "characters":
                warnings.warn(
                    "tokenizer 'chinese': jieba is not installed, so texts are split into "
                    "single characters (user_dict unused); run `pip install jieba` for word "
                    "segmentation.",
                    RuntimeWarning,
                    stacklevel=6,
                )
        elif backend == "jieba" and not _jieba_available():
            raise MissingDependencyError(
                "tokenizer 'chinese': this model was trained on jieba word segmentation, "
                "which is not installed here; run `pip install jieba`."
            )
        elif backend not in ("jieba", "characters"):
            raise DataError(
                f"tokenizer 'chinese': expected backend 'jieba' or 'characters' in the saved "
                f"tokenizer, got {backend!r}; the file is damaged or from a newer rnnlab."
            )
        resources: dict[str, Any] = {"backend": backend}
        if text is not None:
            resources["user_dict_text"] = text
        return _chinese(text, backend), resources

    def __call__(self, text: str) -> list[str]:
        """The tokens of ``text``."""
        if not isinstance(text, str):
            raise DataError(
                f"text: expected a str, got {type(text).__name__} {text!r:.40}; drop or fill "
                "missing texts before tokenizing."
            )
        return self._fn(_without_surrogates(text))

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        """The tokens of every text, in order."""
        fn = self._fn
        out = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise DataError(
                    f"texts[{i}]: expected a str, got {type(text).__name__} {text!r:.40}; "
                    "drop or fill missing texts before tokenizing."
                )
            out.append(fn(_without_surrogates(text)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description that :meth:`from_dict` turns back into this tokenizer.

        For ``chinese`` it also records the segmenter actually used (``jieba`` or the
        ``characters`` fallback) and the user dictionary's content.
        """
        out: dict[str, Any] = {"name": self.name, "options": dict(self.options)}
        out.update(self._resources)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tokenizer:
        """Rebuild a tokenizer saved with :meth:`to_dict`."""
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            raise DataError(
                "tokenizer: expected a mapping with a 'name' string (as written by "
                f"Tokenizer.to_dict), got {data!r:.80}; the saved model is damaged."
            )
        extra = {k: v for k, v in data.items() if k not in ("name", "options")}
        allowed = {"backend", "user_dict_text"} if data["name"] == "chinese" else set()
        if set(extra) - allowed:
            raise DataError(
                f"tokenizer: unexpected keys {sorted(set(extra) - allowed)} in the saved "
                f"{data['name']!r} tokenizer; the file is damaged or from a newer rnnlab."
            )
        tok = object.__new__(cls)
        object.__setattr__(tok, "name", data["name"])
        tok._setup(data["name"], data.get("options", {}), resources=extra)
        return tok

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tokenizer):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.options.items()))))

    def __repr__(self) -> str:
        return f"Tokenizer({self.name!r}, {dict(self.options)!r})"

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (Tokenizer.from_dict, (self.to_dict(),))


def get_tokenizer(name: str, **options: Any) -> Tokenizer:
    """The tokenizer called ``name`` with ``options``.

    Example::

        >>> get_tokenizer("char", lower=True)("Hi  Bo")
        ['h', 'i', 'b', 'o']
    """
    return Tokenizer(name, options)


def guess_tokenizer(texts: Iterable[str], sample: int = 2000, threshold: float = 0.3) -> str:
    """``"chinese"`` if CJK ideographs are at least ``threshold`` of the letters in the first
    ``sample`` texts, else ``"english"`` — the choice behind ``tokenizer = "auto"``."""
    letters = ideographs = 0
    for i, text in enumerate(texts):
        if i >= sample:
            break
        letters += sum(ch.isalpha() for ch in text)
        ideographs += len(_CJK.findall(text))
    return "chinese" if letters and ideographs / letters >= threshold else "english"


def english_steps(tokenizer: dict[str, Any]) -> dict[str, Any] | None:
    """For the English tokenizer's settings (``Tokenizer.to_dict()``), the exact steps and
    regular expression it applies, so another language can reproduce it; None otherwise."""
    if tokenizer.get("name") != "english":
        return None
    options = tokenizer.get("options", {})
    keep_digits = bool(options.get("keep_digits", False))
    regex = _english_pattern(keep_digits, bool(options.get("keep_punctuation", False)))
    return {
        "steps": [
            "lowercase",
            "replace U+2018 and U+2019 with '",
            f"replace matches of {_BREAK.pattern} (case-insensitive) with a space",
            *(
                []
                if keep_digits
                else ["replace Unicode numbers that are not decimal digits (e.g. '½') with a space"]
            ),
            "tokens = all non-overlapping matches of pattern (Unicode-aware)",
        ],
        "pattern": regex.pattern,
    }
