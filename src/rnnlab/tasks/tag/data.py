"""Tagged files → train / valid / test sentences → padded batches of word, character and tag ids.

:func:`load_tag_splits` reads a built-in dataset or tagged files (CoNLL columns, word/tag
lines, CoNLL-U) with the ``[data]`` settings; without ``--valid`` 10 % of the training
sentences (seeded) are held out. The rest of this module turns sentences into batches.

Each batch carries the words' characters once per distinct word form, not once per token::

    tokens   [[EU, rejects, German], [German, call]]        forms in batch: 1 EU  2 rejects
    form_ids [[1,  2,       3     ], [3,      4,  0]]                       3 German 4 call
    chars    (U=5, L)  row 0 is padding, row f holds form f's character ids
    → the character encoder runs on U rows; word_index (B, T) gathers its output per token.

Words longer than ``max_word_len`` characters keep their first ``max_word_len``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnlab.data import datasets
from rnnlab.data.conll import TaggedSentences, read_tagged
from rnnlab.data.splits import holdout
from rnnlab.errors import ConfigError, DataError
from rnnlab.text.batching import BucketBatchSampler, pad_batch
from rnnlab.text.tagschemes import convert
from rnnlab.text.vocab import Vocab

__all__ = [
    "EncodedSentences",
    "TagBatch",
    "TagBatches",
    "TagEncoder",
    "TagSplits",
    "load_tag_splits",
    "model_scheme",
    "read_tagged_file",
    "recode",
    "tag_dataset",
]


@dataclass
class TagSplits:
    """Train, validation and (optional) test sentences, and where they came from."""

    train: TaggedSentences
    valid: TaggedSentences
    test: TaggedSentences | None
    origin: str


def read_tagged_file(path: str, data: Any) -> TaggedSentences:
    """A tagged file read with the ``[data]`` settings (format, columns, CoNLL-U tags)."""
    return read_tagged(
        path,
        data.format or None,
        token_col=data.token_col,
        tag_col=data.tag_col,
        conllu_tags=data.conllu_tags,
    )


def tag_dataset(name: str, seed: int) -> Any:
    """The built-in tagged dataset ``name``; a classification dataset is refused."""
    return datasets.load_for("tag", name, seed)


def load_tag_splits(data: Any, seed: int) -> TagSplits:
    """A dataset name (``wnut16``) or tagged files; without ``--valid`` 10 % of the training
    sentences (seeded) are held out for validation."""
    if datasets.is_dataset_name(data.data):
        loaded = tag_dataset(data.data, seed)
        return TagSplits(loaded.train, loaded.valid, loaded.test, f"dataset {data.data}")
    if not data.data:
        raise ConfigError(
            "No training data: pass --data FILE (CoNLL columns, word/tag lines or CoNLL-U) "
            f"or a tagged dataset name ({', '.join(datasets.names('tag'))})."
        )
    train = read_tagged_file(data.data, data)
    if data.valid:
        valid = read_tagged_file(data.valid, data)
    else:
        if len(train) < 2:
            raise ConfigError(
                f"{train.source} holds {len(train)} sentence; holding out validation data "
                "needs at least 2 — add sentences or pass --valid FILE."
            )
        rest, held = holdout(["all"] * len(train), 0.1, seed)
        train, valid = (
            train.subset(rest, "train part"),
            train.subset(held, "held-out validation part"),
        )
    test = read_tagged_file(data.test, data) if data.test else None
    return TagSplits(train, valid, test, data.data)


def recode(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Tags of span scheme ``source`` in span scheme ``target``; unchanged otherwise (plain
    tags, or a model that learnt BIO strings as plain labels)."""
    if source != target and source != "plain" and target != "plain":
        return convert(tags, source, target)
    return list(tags)


def model_scheme(requested: str, data_scheme: str, source: str) -> str:
    """The scheme a model learns: ``requested`` (data.scheme), ``auto`` being the data's own."""
    if requested == "auto" or requested == data_scheme:
        return data_scheme
    if requested == "plain":
        return "plain"
    if data_scheme == "plain":
        raise DataError(
            f"{source}: data.scheme is {requested!r} but the tags are plain (no B-/I- "
            "prefixes); set data.scheme to 'auto' or 'plain'."
        )
    return requested


@dataclass
class TagBatch:
    """One batch. ``ids``, ``word_index`` and ``tags`` are (B, T); ``lengths`` (B,);
    ``chars`` (U, L) and ``char_lengths`` (U,) for the batch's distinct forms (row 0 padding);
    ``index`` (B,) the sentences' positions in their source."""

    ids: Tensor
    lengths: Tensor
    word_index: Tensor
    chars: Tensor
    char_lengths: Tensor
    tags: Tensor | None
    index: Tensor

    @property
    def num_tokens(self) -> int:
        return int(self.lengths.sum())

    def mask(self) -> Tensor:
        """(B, T) bool, True at real tokens, on the ids' device."""
        steps = self.ids.shape[1]
        lengths = self.lengths.to(self.ids.device)
        return torch.arange(steps, device=self.ids.device).unsqueeze(0) < lengths.unsqueeze(1)

    def to(self, device: torch.device | str) -> TagBatch:
        return TagBatch(
            self.ids.to(device),
            self.lengths,  # lengths stay on the CPU: the recurrent layers want them there
            self.word_index.to(device),
            self.chars.to(device),
            self.char_lengths,
            None if self.tags is None else self.tags.to(device),
            self.index,
        )


@dataclass
class EncodedSentences:
    """Word ids and form ids per sentence, the forms' character ids, tag ids (or None)."""

    word_ids: list[list[int]]
    form_ids: list[list[int]]
    form_chars: list[list[int]]
    tag_ids: list[list[int]] | None


class TagEncoder:
    """Maps tokens to word ids (``words``), characters to ids (``chars``), tags to ids."""

    def __init__(self, words: Vocab, chars: Vocab, tags: Sequence[str], max_word_len: int):
        self.words = words
        self.chars = chars
        self.tags = list(tags)
        self.max_word_len = max_word_len
        self.tag_index = {tag: k for k, tag in enumerate(self.tags)}

    @classmethod
    def build(
        cls,
        tokens: Sequence[Sequence[str]],
        tags: Sequence[str],
        *,
        max_vocab: int,
        min_count: int,
        max_word_len: int,
        char_min_count: int = 2,
    ) -> TagEncoder:
        """Vocabularies of the training tokens: words seen ``min_count`` times (at most
        ``max_vocab``), characters seen ``char_min_count`` times."""
        words = Vocab.build(tokens, max_size=max_vocab, min_count=min_count)
        chars = Vocab.build(
            (list(t[:max_word_len]) for s in tokens for t in s), min_count=char_min_count
        )
        return cls(words, chars, tags, max_word_len)

    def encode(
        self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None = None
    ) -> EncodedSentences:
        """Ids of every sentence; ``tags`` must all be in :attr:`tags` (checked by callers)."""
        forms: dict[str, int] = {}
        form_ids = [[forms.setdefault(t, len(forms) + 1) for t in s] for s in tokens]
        form_chars = [[]] + [
            self.chars.encode(list(form[: self.max_word_len])) or [self.chars.unk_id]
            for form in forms
        ]
        return EncodedSentences(
            [self.words.encode(s) for s in tokens],
            form_ids,
            form_chars,
            None if tags is None else [[self.tag_index[t] for t in s] for s in tags],
        )


class TagBatches:
    """Batches of encoded sentences; length-bucketed and shuffled per epoch when ``shuffle``,
    in input order otherwise. Epoch e's order depends on (seed, e) only (for resume)."""

    def __init__(
        self,
        data: EncodedSentences,
        batch_size: int,
        *,
        shuffle: bool = False,
        bucketing: bool = True,
        seed: int = 0,
        pad_id: int = 0,
    ) -> None:
        self.data = data
        self.batch_size = batch_size
        self.pad_id = pad_id
        lengths = [len(s) for s in data.word_ids]
        self.sampler = BucketBatchSampler(
            lengths,
            batch_size,
            shuffle=shuffle,
            seed=seed,
            chunk_multiplier=50 if (bucketing and shuffle) else 1,
        )

    def num_batches(self, epoch: int = 0) -> int:
        return len(self.sampler)

    def batches(self, epoch: int = 0) -> Iterator[TagBatch]:
        for indices in self.sampler.epoch_batches(epoch):
            yield self._batch(indices)

    def __len__(self) -> int:
        return len(self.data.word_ids)

    def _batch(self, indices: list[int]) -> TagBatch:
        data = self.data
        ids, lengths = pad_batch([data.word_ids[i] for i in indices], self.pad_id)
        # Distinct forms of the batch: row 0 stays padding, form f → row local[f].
        local: dict[int, int] = {}
        word_index = np.zeros(ids.shape, dtype=np.int64)  # (B, T)
        for row, i in enumerate(indices):
            for t, form in enumerate(data.form_ids[i]):
                word_index[row, t] = local.setdefault(form, len(local) + 1)
        rows = [[0]] + [data.form_chars[form] for form in local]
        chars, char_lengths = pad_batch(rows, 0)  # (U, L)
        tags = None
        if data.tag_ids is not None:
            tags, _ = pad_batch([data.tag_ids[i] for i in indices], 0)
        return TagBatch(
            ids,
            lengths,
            torch.from_numpy(word_index),
            chars,
            char_lengths,
            tags,
            torch.tensor(indices),
        )
