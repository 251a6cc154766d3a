"""Readers with clear errors, and the small real datasets rnnlab ships for demos and tests.

- :func:`read_table` / :func:`iter_table_chunks`: texts and labels from CSV, TSV, JSONL and
  Parquet tables, whole or streamed in bounded memory.
- :func:`check_classes` / :func:`check_known_labels`: label-set checks before training and at
  evaluation time.
- :func:`deduplicate` / :func:`stratified_split`: corpus cleaning and seeded splits
  (used by :mod:`rnnlab.data.datasets`); :func:`holdout`: the validation hold-out.
- :mod:`rnnlab.data.datasets`: the built-in datasets, by name (``imdb``, ``wnut16``, …).
"""

from rnnlab.data.labels import check_classes, check_known_labels
from rnnlab.data.splits import deduplicate, holdout, stratified_split
from rnnlab.data.tables import LabeledTexts, TextChunk, iter_table_chunks, read_table

__all__ = [
    "LabeledTexts",
    "TextChunk",
    "check_classes",
    "check_known_labels",
    "deduplicate",
    "holdout",
    "iter_table_chunks",
    "read_table",
    "stratified_split",
]
