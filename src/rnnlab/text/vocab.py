"""Vocabulary: a fixed, reproducible mapping between tokens and integer ids.

Id layout (``len(vocab)`` is the embedding table size)::

    0 <pad>   1 <sos>   2 <unk>   3 .. 3+K-1 the K kept tokens   then N OOV buckets
                                  (most frequent first;           (only if oov_buckets=N)
                                   ties by token string)

Ties in frequency are broken by the token string, so the same data always gives the same ids
whatever order the texts arrive in. ``max_size`` counts the kept tokens only, not the three
specials nor the buckets: ``max_size=30000`` keeps the 30,000 most frequent tokens, which is
what "a 30k vocabulary" means in the literature, and the table then has 30,003 (+ N) rows.

With ``oov_buckets=N`` an unknown token gets id ``3 + K + crc32(token as UTF-8) % N``
instead of ``<unk>``, so rare words keep some identity (the fastText / TF "hash bucket"
trick). CRC-32 is used, not Python's ``hash()``, because ``hash()`` of a string changes with
every process (``PYTHONHASHSEED``); CRC-32 gives the same bucket on every run and machine.
The hash is part of the saved format (``"oov_hash": "crc32"``).
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rnnlab.errors import DataError, RnnlabFileNotFoundError, ValueRangeError, require_int
from rnnlab.fileio import atomic_write_json

_SURROGATE = re.compile("[\ud800-\udfff]")  # lone surrogates: not UTF-8

__all__ = ["PAD", "SOS", "SPECIALS", "UNK", "Vocab"]

PAD, SOS, UNK = "<pad>", "<sos>", "<unk>"
SPECIALS: tuple[str, ...] = (PAD, SOS, UNK)
_FORMAT = "rnnlab-vocab"
_VERSION = 1
_HASH = "crc32"


def _stable_bucket(token: str, buckets: int) -> int:
    """Bucket of ``token`` in ``range(buckets)``; identical in every process and machine."""
    return zlib.crc32(token.encode("utf-8", "surrogatepass")) % buckets  # any str hashes


class Vocab:
    """Token <-> id mapping with specials ``<pad>``=0, ``<sos>``=1, ``<unk>``=2.

    Build one from data with :meth:`build`; ``Vocab(tokens, counts, oov_buckets)`` takes the
    regular tokens (no specials) in id order.

    Args:
        tokens: the regular tokens, in id order (ids start at 3); no duplicates, no specials.
        counts: their training counts, kept for inspection (e.g. word2vec sampling); missing
            ones are 0.
        oov_buckets: number of hashed ids for unknown tokens (0: all map to ``<unk>``).

    Example::

        >>> v = Vocab.build([["a", "b", "a"], ["c", "a", "b"]], max_size=2)
        >>> v.itos
        ('<pad>', '<sos>', '<unk>', 'a', 'b')
        >>> v.encode(["a", "c"])
        [3, 2]
    """

    pad_id = 0
    sos_id = 1
    unk_id = 2

    def __init__(
        self,
        tokens: Sequence[str],
        counts: Mapping[str, int] | None = None,
        oov_buckets: int = 0,
    ) -> None:
        self.oov_buckets = require_int(
            "oov_buckets", oov_buckets, 0, "use 0 for none or a positive bucket count"
        )
        for i, token in enumerate(tokens):
            if not isinstance(token, str):
                raise DataError(
                    f"tokens[{i}]: expected a str, got {type(token).__name__} {token!r}; "
                    "tokenize texts before building a vocabulary."
                )
        itos = (*SPECIALS, *tokens)
        stoi = {token: i for i, token in enumerate(itos)}
        if len(stoi) != len(itos):
            bad = next(t for t in itos if itos.count(t) > 1)
            raise DataError(
                f"tokens: expected distinct tokens that are not one of {list(SPECIALS)}, got "
                f"{bad!r} twice; remove the duplicate."
            )
        counts = counts or {}
        self._itos = itos
        self._stoi = stoi
        self.counts: dict[str, int] = {t: int(counts.get(t, 0)) for t in tokens}

    # ----------------------------------------------------------------- construction
    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        max_size: int | None = None,
        min_count: int = 1,
        oov_buckets: int = 0,
    ) -> Vocab:
        """Vocabulary of the tokens in ``token_lists`` seen at least ``min_count`` times.

        Keeps the ``max_size`` most frequent of those (``None``: all); ``max_size`` counts
        regular tokens, not the specials or buckets. Ties in frequency are ordered by the
        token string. Tokens spelled like a special (``"<unk>"``) are not counted: those
        strings are reserved.
        """
        if max_size is not None:
            require_int("max_size", max_size, 1, "use None to keep every token")
        require_int("min_count", min_count, 1, "use 1 to keep every token")
        counter: Counter[str] = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise DataError(
                    "token_lists: expected lists of tokens, got a str; tokenize each text "
                    "first (Tokenizer.tokenize_many)."
                )
            counter.update(tokens)
        for special in SPECIALS:
            counter.pop(special, None)
        for token in counter:
            if _SURROGATE.search(token):
                raise DataError(
                    f"token {token!r} holds a lone UTF-16 surrogate, which no vocabulary file "
                    "can store; tokenize with rnnlab's Tokenizer (it replaces them) or replace "
                    "them with U+FFFD."
                )
        kept = [(t, c) for t, c in counter.items() if c >= min_count]
        kept.sort(key=lambda tc: (-tc[1], tc[0]))
        if max_size is not None:
            kept = kept[:max_size]
        return cls([t for t, _ in kept], dict(kept), oov_buckets=oov_buckets)

    # ----------------------------------------------------------------- lookup
    def __len__(self) -> int:
        """Number of ids: specials + kept tokens + OOV buckets (the embedding table size)."""
        return len(self._itos) + self.oov_buckets

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    @property
    def itos(self) -> tuple[str, ...]:
        """Specials then kept tokens, indexed by id (buckets are not listed)."""
        return self._itos

    @property
    def num_tokens(self) -> int:
        """Number of kept regular tokens (excludes specials and buckets)."""
        return len(self._itos) - len(SPECIALS)

    def token_to_id(self, token: str) -> int:
        """Id of ``token``; unknown tokens get their OOV bucket, or ``<unk>`` without any."""
        found = self._stoi.get(token)
        if found is not None:
            return found
        if self.oov_buckets:
            return len(self._itos) + _stable_bucket(token, self.oov_buckets)
        return self.unk_id

    def id_to_token(self, index: int) -> str:
        """Token of id ``index``; bucket ids read ``<oov:k>`` (their tokens are not kept)."""
        if isinstance(index, bool) or not 0 <= int(index) < len(self):
            raise ValueRangeError(
                f"index: expected an id in [0, {len(self)}), got {index!r}; the id does not "
                "come from this vocabulary."
            )
        index = int(index)
        if index < len(self._itos):
            return self._itos[index]
        return f"<oov:{index - len(self._itos)}>"

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens`` (see :meth:`token_to_id`)."""
        get = self._stoi.get
        if not self.oov_buckets:
            unk = self.unk_id
            return [get(t, unk) for t in tokens]
        ids = []
        for t in tokens:
            found = get(t)
            ids.append(self.token_to_id(t) if found is None else found)
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` (see :meth:`id_to_token`)."""
        return [self.id_to_token(i) for i in ids]

    # ----------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: format tag, version, specials, tokens, counts, buckets, hash."""
        tokens = list(self._itos[len(SPECIALS) :])
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "specials": list(SPECIALS),
            "tokens": tokens,
            "counts": [self.counts[t] for t in tokens],
            "oov_buckets": self.oov_buckets,
            "oov_hash": _HASH,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "vocab") -> Vocab:
        """Rebuild a vocabulary from :meth:`to_dict` output; ``source`` names it in errors."""

        def bad(what: str, got: Any) -> DataError:
            return DataError(
                f"{source}: expected {what} (as written by Vocab.to_dict), got {got!r:.80}; "
                "the file is damaged or not an rnnlab vocabulary."
            )

        if not isinstance(data, Mapping):
            raise bad("a JSON object", data)
        if data.get("format") != _FORMAT:
            raise bad(f"'format': {_FORMAT!r}", data.get("format"))
        if data.get("version") != _VERSION:
            raise DataError(
                f"{source}: expected vocabulary format version {_VERSION}, got "
                f"{data.get('version')!r}; upgrade rnnlab to read it."
            )
        if data.get("specials") != list(SPECIALS):
            raise bad(f"'specials': {list(SPECIALS)}", data.get("specials"))
        if data.get("oov_hash", _HASH) != _HASH:
            raise bad(f"'oov_hash': {_HASH!r}", data.get("oov_hash"))
        tokens, counts = data.get("tokens"), data.get("counts")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise bad("'tokens': a list of strings", tokens)
        if not isinstance(counts, list) or len(counts) != len(tokens):
            raise bad(f"'counts': a list of {len(tokens)} integers", counts)
        if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
            raise bad("'counts': a list of integers", counts)
        buckets = data.get("oov_buckets", 0)
        if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 0:
            raise bad("'oov_buckets': an integer >= 0", buckets)
        return cls(tokens, dict(zip(tokens, counts, strict=True)), oov_buckets=buckets)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the vocabulary as JSON, atomically; returns the path."""
        atomic_write_json(path, self.to_dict(), indent=None)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        file = Path(path)
        if not file.is_file():
            raise RnnlabFileNotFoundError(
                f"path: expected a vocabulary JSON file, got {str(file)!r}, which does not "
                "exist; check the path (Vocab.save writes one)."
            )
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(
                f"{file}: expected a UTF-8 JSON vocabulary, got unreadable content ({exc}); "
                "the file is damaged, rebuild it with Vocab.save."
            ) from None
        return cls.from_dict(data, source=str(file))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  (mutable counts: not hashable)

    def __repr__(self) -> str:
        return (
            f"Vocab({self.num_tokens} tokens + {len(SPECIALS)} specials"
            f" + {self.oov_buckets} OOV buckets)"
        )
