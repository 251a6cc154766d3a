"""Labelled tables → train / valid / test splits → padded, length-bucketed batches.

:func:`load_splits` reads a built-in dataset or table files (CSV, TSV, JSONL, Parquet) with
the ``[data]`` settings; without ``--valid`` 10 % of train (stratified, seeded) is held out,
copies of a text kept on one side (:func:`~rnnlab.data.splits.grouped_holdout`). Its
``notes`` say, one sentence each, what makes the scores less trustworthy than they look: copies
found, texts shared between the files, validation or test sets too small for narrow
intervals. :class:`ClassificationBatches` turns encoded texts into the Trainer's batches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnlab.data import datasets
from rnnlab.data.labels import check_classes, check_known_labels
from rnnlab.data.splits import grouped_holdout, normalized_text
from rnnlab.data.tables import LabeledTexts, read_table
from rnnlab.errors import ConfigError
from rnnlab.text.batching import BucketBatchSampler, pad_batch

__all__ = [
    "SMALL_CLASS",
    "SMALL_SPLIT",
    "ClassificationBatches",
    "Splits",
    "TextBatch",
    "classification_dataset",
    "load_splits",
    "read_labeled_table",
    "split_notes",
]


SMALL_SPLIT = 50  # below this many texts a split's 95 % interval is wider than ±0.1 or so
SMALL_CLASS = 5  # a class with fewer texts in a split has per-class scores that mean little


@dataclass
class Splits:
    """Train, validation and (optional) test tables, where they came from, and ``notes``:
    one sentence for each thing that makes their scores less trustworthy (:func:`split_notes`)."""

    train: LabeledTexts
    valid: LabeledTexts
    test: LabeledTexts | None
    origin: str
    notes: list[str] = field(default_factory=list)


def _subset(table: LabeledTexts, positions: list[int], what: str) -> LabeledTexts:
    return LabeledTexts(
        texts=[table.texts[i] for i in positions],
        labels=None if table.labels is None else [table.labels[i] for i in positions],
        source=f"{table.source} ({what})",
        row_numbers=[table.row_numbers[i] for i in positions],
    )


def _holdout(
    table: LabeledTexts, fraction: float, seed: int
) -> tuple[LabeledTexts, LabeledTexts, int]:
    """Stratified split of a table into (rest, held-out fraction) for validation, copies of a
    text on one side; and how many copies the table holds."""
    split = grouped_holdout(table.labels, table.texts, fraction, seed)
    return (
        _subset(table, split.kept, "train part"),
        _subset(table, split.held, "held-out validation part"),
        split.duplicates,
    )


def load_splits(data: Any, seed: int) -> Splits:
    """A dataset name (``imdb``) or files; without ``--valid`` 10 % of train is held out."""
    if datasets.is_dataset_name(data.data):
        loaded = classification_dataset(data.data, seed)
        return Splits(loaded.train, loaded.valid, loaded.test, f"dataset {data.data}")
    if not data.data:
        raise ConfigError(
            "No training data: pass --data FILE (CSV, TSV, JSONL or Parquet) or a dataset name "
            f"({', '.join(datasets.names('classify'))})."
        )

    def read(path: str) -> LabeledTexts:
        return read_labeled_table(path, data)

    train = read(data.data)
    classes = check_classes(train.labels, train.source)
    copies = None
    if data.valid:
        valid = read(data.valid)
    else:
        train, valid, copies = _holdout(train, 0.1, seed)
    test = read(data.test) if data.test else None
    for part in (valid, test):  # before training, not after it
        if part is not None:
            check_known_labels(part.labels, classes, part.source, part.row_numbers)
    splits = Splits(train, valid, test, data.data)
    splits.notes = split_notes(splits, copies)
    return splits


def split_notes(splits: Splits, copies: int | None = None) -> list[str]:
    """One sentence for each thing that makes the scores of ``splits`` flatter or wobble:

    - ``copies`` texts that repeat another in the file rnnlab split (kept on one side);
    - validation or test texts that also appear in the training texts (files given apart);
    - a validation or test set under :data:`SMALL_SPLIT` texts, or a class under
      :data:`SMALL_CLASS` texts in it: its intervals are wide.
    """
    notes = []
    if copies:
        notes.append(
            f"{copies} text{'s' if copies != 1 else ''} of {splits.origin} "
            "repeat another (ignoring case and spacing); each text's copies were kept in one "
            "split, so that validation never scores a text seen in training."
        )
    seen = {normalized_text(text) for text in splits.train.texts} if copies is None else set()
    for name, part in (("validation", splits.valid), ("test", splits.test)):
        if part is None:
            continue
        shared = sum(normalized_text(text) in seen for text in part.texts)
        if shared:
            notes.append(
                f"{shared} of the {len(part)} {name} texts ({part.source}) also appear in the "
                "training texts (ignoring case and spacing), which flatters the "
                f"{name} scores; remove them from one of the files."
            )
        notes.extend(_small_split_note(name, part))
    return notes


def _small_split_note(name: str, part: LabeledTexts) -> list[str]:
    counts = Counter(part.labels or [])
    rare = min(counts.items(), key=lambda kv: (kv[1], str(kv[0]))) if counts else None
    if len(part) >= SMALL_SPLIT and (rare is None or rare[1] >= SMALL_CLASS):
        return []
    fewest = f"; class {str(rare[0])!r} has {rare[1]}" if rare and rare[1] < SMALL_CLASS else ""
    return [
        f"the {name} set holds only {len(part)} texts{fewest}, so its scores have wide "
        "intervals; label more texts (at least "
        f"{SMALL_SPLIT} per split and {SMALL_CLASS} per class), or use --folds 5 for an "
        "estimate from every text."
    ]


def classification_dataset(name: str, seed: int) -> Any:
    """The built-in classification dataset ``name``; a tagged dataset is refused."""
    return datasets.load_for("classify", name, seed)


def read_labeled_table(path: str, data: Any, *, labels: bool = True) -> LabeledTexts:
    """A table read with the ``[data]`` settings (columns, format, empty rows); without
    ``labels`` only the text column is read."""
    return read_table(
        path,
        text_col=data.text_col,
        label_col=data.label_col if labels else None,
        format=data.format or None,
        skip_empty=data.skip_empty,
        encoding=data.encoding,
        delimiter=data.delimiter,
        sheet=data.sheet or None,
    )


@dataclass
class TextBatch:
    """Padded token ids (B, T), lengths (B,), label ids (B,) or None, row indices (B,)."""

    ids: Tensor
    lengths: Tensor
    labels: Tensor | None
    index: Tensor

    @property
    def num_tokens(self) -> int:
        return int(self.lengths.sum())

    def to(self, device: torch.device | str) -> TextBatch:
        return TextBatch(
            self.ids.to(device),
            self.lengths,  # lengths stay on the CPU: packing wants them there
            None if self.labels is None else self.labels.to(device),
            self.index,
        )


class ClassificationBatches:
    """Batches of encoded texts; length-bucketed and shuffled per epoch when ``shuffle``.

    The order of epoch e is a function of (seed, e) only, so an interrupted run can replay it
    and skip the batches already done.
    """

    def __init__(
        self,
        sequences: Sequence[Sequence[int]],
        labels: Sequence[int] | None,
        batch_size: int,
        *,
        shuffle: bool = False,
        bucketing: bool = True,
        seed: int = 0,
        pad_id: int = 0,
    ) -> None:
        self.sequences = sequences
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.batch_size = batch_size
        self.pad_id = pad_id
        lengths = [len(s) for s in sequences]
        self.sampler = (
            BucketBatchSampler(
                lengths,
                batch_size,
                shuffle=shuffle,
                seed=seed,
                chunk_multiplier=50 if (bucketing and shuffle) else 1,
            )
            if shuffle
            else None
        )
        self._lengths = lengths

    def _batch_indices(self, epoch: int) -> list[list[int]]:
        if self.sampler is None:
            n = len(self.sequences)
            return [
                list(range(i, min(i + self.batch_size, n))) for i in range(0, n, self.batch_size)
            ]
        self.sampler.set_epoch(epoch)
        return [list(b) for b in self.sampler]

    def num_batches(self, epoch: int = 0) -> int:
        return len(self._batch_indices(epoch))

    def batches(self, epoch: int = 0) -> Iterator[TextBatch]:
        for indices in self._batch_indices(epoch):
            ids, lengths = pad_batch([list(self.sequences[i]) for i in indices], self.pad_id)
            labels = None if self.labels is None else torch.from_numpy(self.labels[indices])
            yield TextBatch(ids, lengths, labels, torch.tensor(indices))

    def __len__(self) -> int:
        return len(self.sequences)
