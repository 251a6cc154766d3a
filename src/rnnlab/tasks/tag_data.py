"""Tagged sentences → padded batches of word ids, character ids and tag ids.

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

import numpy as np
import torch
from torch import Tensor

from rnnlab.text.batching import BucketBatchSampler, pad_batch
from rnnlab.text.vocab import Vocab

__all__ = ["EncodedSentences", "TagBatch", "TagBatches", "TagEncoder"]


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
    ) -> TagEncoder:
        """Vocabularies of the training tokens (``min_count`` for words and characters)."""
        words = Vocab.build(tokens, max_size=max_vocab, min_count=min_count)
        chars = Vocab.build((list(t[:max_word_len]) for s in tokens for t in s), min_count=2)
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
