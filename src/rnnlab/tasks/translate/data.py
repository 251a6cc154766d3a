"""Sentence pairs → train / valid / test → per-side tokens and ids → padded batches.

Pairs come from one of three places (:func:`read_pairs`):

* a table with a source and a target column (CSV, TSV, JSONL, Parquet; ``source_col`` /
  ``target_col``), read with :func:`rnnlab.data.formats.open_table`; a header-less TSV of
  Tatoeba pairs (``header = false``: columns 1 and 2) is read line by line without quoting;
* two aligned plain-text files, one sentence a line (``.gz`` read directly): the source file
  and ``target_data``;
* the built-in name ``multi30k`` (:func:`multi30k_dir`): Multi30K from a local copy named by
  the ``RNNLAB_MULTI30K`` environment variable or in ``~/.cache/rnnlab/multi30k``, fetched
  there once (checksums verified) from ``RNNLAB_MULTI30K_URL`` when absent.

A count mismatch between two files, an empty sentence on either side and a missing column are
one sentence naming the file and line.

Each side has its own tokenizer (:class:`SideTokenizer`). Word tokens keep a *joiner*
mark ``￭`` when no space preceded them in the text (``Hallo, Welt.`` → ``Hallo ￭, Welt
￭.``), as OpenNMT's ``joiner_annotate`` does, so :meth:`SideTokenizer.detokenize` restores
the exact spacing of the text, in every language, and sacreBLEU scores real text.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import re
import shutil
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnlab.data.formats import detect_format, open_table
from rnnlab.data.splits import holdout
from rnnlab.errors import ConfigError, DataError, MissingDependencyError, RnnlabFileNotFoundError
from rnnlab.text.batching import BucketBatchSampler, pad_batch
from rnnlab.text.tokenize import get_tokenizer, guess_tokenizer
from rnnlab.text.vocab import Vocab

__all__ = [
    "EOS",
    "JOINER",
    "MULTI30K",
    "ParallelText",
    "SideTokenizer",
    "TranslateBatch",
    "TranslateBatches",
    "TranslateSplits",
    "build_vocab",
    "encode_side",
    "is_corpus_name",
    "load_translate_splits",
    "multi30k_dir",
    "read_pairs",
]

EOS = "</s>"  # the target vocabulary's end-of-sentence token (id 3, after the specials)
JOINER = "\uffed"  # ￭: the token followed its predecessor without a space
SPACE = "\u2581"  # ▁: a run of whitespace, for the character tokenizer
SUBWORDS = ("bpe", "unigram")  # learnt by SentencePiece
MULTI30K = "multi30k"
MULTI30K_SPLITS = {"train": "train", "valid": "val", "test": "test_2016_flickr"}
MULTI30K_LANGS = ("en", "de", "fr")
# Public raw files of task 1 (Elliott et al., 2016); RNNLAB_MULTI30K_URL may name a mirror.
MULTI30K_URL = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/"
# SHA-256 of the decompressed text of each file, so that a mirror re-compressing the same
# text is accepted and a damaged or different file is not.
MULTI30K_SHA256: dict[str, str] = {
    "test_2016_flickr.de.gz": "4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16",
    "test_2016_flickr.en.gz": "399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182",
    "test_2016_flickr.fr.gz": "cb3160d69b002bb638e66cc7612fcd56cb0af82eadc9c142dedc438afb885ef6",
    "train.de.gz": "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72",
    "train.en.gz": "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6",
    "train.fr.gz": "5925a3c18f1587b6b54b87743106e6e8ab93618edb6f65d19eac0621f853a10d",
    "val.de.gz": "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660",
    "val.en.gz": "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227",
    "val.fr.gz": "5304e444d842e962b2dda4d816b70b22a1765b15401642b7ca37a67477e708dc",
}

_WORD = re.compile(r"[^\W_]+|[^\w\s]|_")  # letter/digit runs (ä ß é œ included); marks
_ENGLISH = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w\s]|_")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


# --------------------------------------------------------------------------- reading


@dataclass
class ParallelText:
    """Aligned source and target sentences, where they came from and each pair's line."""

    sources: list[str]
    targets: list[str]
    source: str
    lines: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.lines:
            self.lines = list(range(1, len(self.sources) + 1))

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, index: Sequence[int], what: str) -> ParallelText:
        return ParallelText(
            [self.sources[i] for i in index],
            [self.targets[i] for i in index],
            f"{self.source} ({what})",
            [self.lines[i] for i in index],
        )


def is_corpus_name(name: str) -> bool:
    """Whether ``name`` is a built-in parallel corpus (``multi30k``)."""
    return name == MULTI30K


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def read_lines(path: str | Path, flag: str) -> list[str]:
    """The lines of a UTF-8 text file (``.gz`` decompressed), without their line ends."""
    path = Path(path)
    if not path.is_file():
        raise RnnlabFileNotFoundError(
            f"{path}: no such file; check the path given to {flag} (relative paths start at "
            f"{Path.cwd()})."
        )
    try:
        with _open_text(path) as handle:
            return [line.rstrip("\r\n") for line in handle]
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: bytes {exc.start}-{exc.end} are not UTF-8; convert the file to UTF-8."
        ) from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot be read ({exc}); check the file is complete.") from None


def _check_pairs(sources: list[str], targets: list[str], where: list[str]) -> None:
    """One sentence for the first pair with an empty side (``where[i]``: its file and line)."""
    for i, (s, t) in enumerate(zip(sources, targets, strict=True)):
        if not s.strip() or not t.strip():
            side = "source" if not s.strip() else "target"
            raise DataError(
                f"{where[i]}: empty {side} sentence; remove the pair or fill it in (every "
                "pair needs text on both sides)."
            )


def read_aligned(source_path: str | Path, target_path: str | Path) -> ParallelText:
    """Two aligned text files, line i of one translating line i of the other."""
    sources = read_lines(source_path, "--data")
    targets = read_lines(target_path, "--target-data")
    if len(sources) != len(targets):
        raise DataError(
            f"{target_path}: {len(targets)} lines, but {source_path} has {len(sources)}; the "
            "files must be aligned line by line (one sentence a line, the same count)."
        )
    if not sources:
        raise DataError(f"{source_path}: the file is empty; give one sentence a line.")
    where = [f"{source_path} / {target_path} line {i + 1}" for i in range(len(sources))]
    _check_pairs(sources, targets, where)
    return ParallelText(sources, targets, str(source_path))


def _column_number(name: str, default: int, flag: str, path: Path) -> int:
    if name in ("source", "target"):
        return default
    if not name.isdigit() or int(name) < 1:
        raise ConfigError(
            f"{flag} {name!r}: {path} is read without a header (--no-header), so columns are "
            "numbered from 1; pass a column number."
        )
    return int(name) - 1


def _read_headerless(path: Path, data: Any) -> ParallelText:
    """A header-less TSV (or CSV) of pairs, one a line, fields split without quoting: the
    Tatoeba layout ``source TAB target [TAB attribution]``."""
    delimiter = "," if detect_format(path, data.format or None) == "csv" else "\t"
    s_col = _column_number(data.source_col, 0, "--source-col", path)
    t_col = _column_number(data.target_col, 1, "--target-col", path)
    sources, targets, lines = [], [], []
    for n, line in enumerate(read_lines(path, "--data"), start=1):
        if not line.strip():
            continue
        fields = line.split(delimiter)
        if len(fields) <= max(s_col, t_col):
            raise DataError(
                f"{path} line {n}: {len(fields)} field(s), expected at least "
                f"{max(s_col, t_col) + 1} separated by {'a tab' if delimiter == chr(9) else ','}"
                "; fix the line or choose --source-col / --target-col."
            )
        sources.append(fields[s_col])
        targets.append(fields[t_col])
        lines.append(n)
    if not sources:
        raise DataError(f"{path}: no pairs; give one 'source<TAB>target' pair a line.")
    _check_pairs(sources, targets, [f"{path} line {n}" for n in lines])
    return ParallelText(sources, targets, str(path), lines)


def _read_table(path: Path, data: Any) -> ParallelText:
    """The source and target columns of a table; missing columns name the ones there are."""
    with open_table(path, data.format or None) as table:
        missing = [
            (flag, name)
            for flag, name in (("--source-col", data.source_col), ("--target-col", data.target_col))
            if name not in table.columns
        ]
        if missing:
            what = "keys" if table.format == "jsonl" else "columns"
            absent = " and ".join(f"no column {name!r} ({flag})" for flag, name in missing)
            raise DataError(
                f"{path}: {absent}; the {what} are {', '.join(map(repr, table.columns))} — "
                "pass --source-col and --target-col (or --no-header for a file without one)."
            )
        batches = list(table.batches([data.source_col, data.target_col]))
    sources: list[str] = []
    targets: list[str] = []
    where: list[str] = []
    lines: list[int] = []
    for batch in batches:
        for k, row in enumerate(batch.rows):
            line = batch.lines[k] if batch.lines is not None else None
            place = f"{path} line {line}" if line is not None else f"{path} row {row}"
            s, t = batch.values[data.source_col][k], batch.values[data.target_col][k]
            if not all(v is None or isinstance(v, str) for v in (s, t)):
                raise DataError(f"{place}: expected text in both columns, got {s!r} and {t!r}.")
            sources.append(s or "")
            targets.append(t or "")
            where.append(place)
            lines.append(line if line is not None else row)
    if not sources:
        raise DataError(f"{path}: the table has no rows; check that the file is complete.")
    _check_pairs(sources, targets, where)
    return ParallelText(sources, targets, str(path), lines)


def read_pairs(path: str, data: Any, target_path: str = "") -> ParallelText:
    """Pairs from ``path`` read with the ``[data]`` settings: two aligned files when
    ``target_path`` is given (or ``data.format == "text"``), else a table."""
    if target_path:
        return read_aligned(path, target_path)
    if data.format == "text":
        raise ConfigError(
            f"{path} is read as plain text (--format text), which holds one side only; name "
            "the target side's aligned file with --target-data."
        )
    p = Path(path)
    if not p.exists():
        raise RnnlabFileNotFoundError(
            f"{p}: no such file; check the path (relative paths start at {Path.cwd()})."
        )
    if not data.header:
        return _read_headerless(p, data)
    if p.suffix in (".txt", ".gz") or p.suffix.lstrip(".") in (*MULTI30K_LANGS, "src", "tgt"):
        raise ConfigError(
            f"{p} looks like a plain text file of one side; name the other side's aligned "
            "file with --target-data (or pass a table with --source-col / --target-col)."
        )
    return _read_table(p, data)


# --------------------------------------------------------------------------- Multi30K


def multi30k_dir() -> Path:
    """Where the local copy of Multi30K lies: ``$RNNLAB_MULTI30K``, else
    ``~/.cache/rnnlab/multi30k``."""
    named = os.environ.get("RNNLAB_MULTI30K")
    if named:
        return Path(named).expanduser()
    return Path.home() / ".cache" / "rnnlab" / "multi30k"


def _sha256_text(path: Path) -> str:
    digest = hashlib.sha256()
    with gzip.open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_multi30k_file(name: str, directory: Path, url: str | None = None) -> Path:
    """``directory/name``, downloaded once from ``url`` (``$RNNLAB_MULTI30K_URL``, else the
    public repository) when absent; the decompressed text's SHA-256 is checked against the
    known one before the file is kept."""
    target = directory / name
    if target.is_file():
        return target
    base = url or os.environ.get("RNNLAB_MULTI30K_URL") or MULTI30K_URL
    source = base.rstrip("/") + "/" + name
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(source, timeout=60) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise RnnlabFileNotFoundError(
            f"Multi30K file {name} is not in {directory} and could not be fetched from "
            f"{source} ({exc}); put the files there or name a copy with RNNLAB_MULTI30K."
        ) from None
    expected = MULTI30K_SHA256.get(name)
    if expected is not None and _sha256_text(partial) != expected:
        partial.unlink(missing_ok=True)
        raise DataError(
            f"{source}: the file's content differs from Multi30K's (SHA-256 mismatch); "
            "fetch it from another mirror (RNNLAB_MULTI30K_URL)."
        )
    partial.replace(target)
    return target


def read_multi30k(split: str, source_lang: str, target_lang: str) -> ParallelText:
    """One split (``train``, ``valid``, ``test``) of Multi30K as pairs of two languages."""
    for flag, lang in (("--source-lang", source_lang), ("--target-lang", target_lang)):
        if lang not in MULTI30K_LANGS:
            raise ConfigError(
                f"{flag} {lang!r}: Multi30K holds {', '.join(MULTI30K_LANGS)}; choose one."
            )
    if source_lang == target_lang:
        raise ConfigError(
            f"--source-lang and --target-lang are both {source_lang!r}; choose two languages."
        )
    directory = multi30k_dir()
    stem = MULTI30K_SPLITS[split]
    paths = [fetch_multi30k_file(f"{stem}.{lang}.gz", directory) for lang in
             (source_lang, target_lang)]  # fmt: skip
    pairs = read_aligned(*paths)
    pairs.source = f"multi30k {stem} {source_lang}-{target_lang}"
    return pairs


# --------------------------------------------------------------------------- splits


@dataclass
class TranslateSplits:
    """Train, validation and (optional) test pairs, and where they came from."""

    train: ParallelText
    valid: ParallelText
    test: ParallelText | None
    origin: str


def load_translate_splits(data: Any, seed: int) -> TranslateSplits:
    """Multi30K or files; without ``--valid`` 5 % of the training pairs (seeded) are held
    out for validation."""
    if is_corpus_name(data.data):
        lang = (data.source_lang, data.target_lang)
        train = read_multi30k("train", *lang)
        valid = read_pairs(data.valid, data, data.valid_target) if data.valid else None
        test = read_pairs(data.test, data, data.test_target) if data.test else None
        return TranslateSplits(
            train,
            valid or read_multi30k("valid", *lang),
            test or read_multi30k("test", *lang),
            f"multi30k {data.source_lang}-{data.target_lang}",
        )
    if not data.data:
        raise ConfigError(
            "No training data: pass --data with a table of pairs (--source-col, --target-col), "
            "a source-side text file with --target-data, or multi30k."
        )
    train = read_pairs(data.data, data, data.target_data)
    if data.valid:
        valid = read_pairs(data.valid, data, data.valid_target)
    else:
        if len(train) < 2:
            raise ConfigError(
                f"{train.source} holds {len(train)} pair; holding out validation pairs needs "
                "at least 2 — add pairs or pass --valid."
            )
        rest, held = holdout(["all"] * len(train), 0.05, seed)
        train, valid = train.subset(rest, "train part"), train.subset(held, "held-out part")
    test = read_pairs(data.test, data, data.test_target) if data.test else None
    return TranslateSplits(train, valid, test, data.data)


# --------------------------------------------------------------------------- tokens


def _joined(text: str, spans: Iterator[tuple[int, int]]) -> list[str]:
    """Tokens ``text[a:b]`` with :data:`JOINER` before those not preceded by whitespace."""
    out: list[str] = []
    end = 0
    for a, b in spans:
        token = text[a:b]
        out.append(token if not out or a > end else JOINER + token)
        end = b
    return out


def _substring_spans(text: str, tokens: Sequence[str]) -> Iterator[tuple[int, int]]:
    """Spans of ``tokens`` found in order in ``text`` (a segmenter that keeps the text)."""
    pos = 0
    for token in tokens:
        start = text.find(token, pos)
        if start < 0:
            continue
        pos = start + len(token)
        yield start, pos


class SideTokenizer:
    """One side's tokenizer: text → tokens (joiner-marked) and tokens → text.

    ``word``: letter/digit runs and single marks (case kept); ``english``: the same with
    apostrophes inside words (``don't``), lower-cased as rnnlab's English tokenizer;
    ``chinese``: jieba words (rnnlab's Chinese tokenizer); ``char``: characters, a run of
    whitespace one ``▁`` token; ``whitespace``: pre-tokenised text; ``bpe`` / ``unigram``:
    subword units learnt on the training side by SentencePiece (Kudo & Richardson 2018),
    whose model is kept with the tokenizer. ``lowercase`` lower-cases first.
    :meth:`detokenize` undoes the split exactly for word, english, chinese and the subword
    units (up to case), so scores are computed on text.

    Why SentencePiece for subwords: it learns BPE and unigram models from raw text in any
    script (no pre-tokenisation, so Chinese and German alike), decodes losslessly, and its
    model is one small serialised proto that travels inside the model file.
    """

    def __init__(
        self,
        name: str,
        lowercase: bool = False,
        *,
        model: bytes | None = None,
        chinese: bool = False,
    ) -> None:
        if name not in ("word", "english", "chinese", "char", "whitespace", *SUBWORDS):
            raise ConfigError(
                f"tokenizer {name!r}: choose word, english, chinese, char, whitespace, bpe or "
                "unigram."
            )
        self.name = name
        self.lowercase = lowercase or name == "english"
        self.chinese = chinese or name == "chinese"
        self._chinese = get_tokenizer("chinese") if name == "chinese" else None
        self._model = model
        self._pieces: Any = None
        if name in SUBWORDS:
            if model is None:
                raise ConfigError(f"tokenizer {name!r} needs its learnt model; use resolve().")
            self._pieces = _sentencepiece().SentencePieceProcessor(model_proto=model)

    @classmethod
    def resolve(
        cls, name: str, texts: Sequence[str], lowercase: bool, subword_vocab: int = 8000
    ) -> SideTokenizer:
        """The tokenizer ``name`` for ``texts`` (a side's training sentences): ``auto`` is
        ``chinese`` when CJK ideographs dominate, else ``word``; ``bpe`` and ``unigram``
        learn ``subword_vocab`` units from the texts (fewer where the texts hold fewer)."""
        chinese = guess_tokenizer(texts) == "chinese"
        if name == "auto":
            name = "chinese" if chinese else "word"
        if name not in SUBWORDS:
            return cls(name, lowercase)
        spm = _sentencepiece()
        buffer = io.BytesIO()
        lines = (t.lower() if lowercase else t for t in texts if t.strip())
        spm.SentencePieceTrainer.train(
            sentence_iterator=lines,
            model_writer=buffer,
            vocab_size=subword_vocab,
            model_type=name,
            character_coverage=0.9995 if chinese else 1.0,
            hard_vocab_limit=False,
            num_threads=1,
            minloglevel=2,
            bos_id=-1,
            eos_id=-1,
            pad_id=-1,
            unk_id=0,
        )
        return cls(name, lowercase, model=buffer.getvalue(), chinese=chinese)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "lowercase": self.lowercase}
        if self._model is not None:
            out["model"] = base64.b64encode(self._model).decode("ascii")
            out["chinese"] = self.chinese
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SideTokenizer:
        model = data.get("model")
        return cls(
            str(data["name"]),
            bool(data.get("lowercase", False)),
            model=None if model is None else base64.b64decode(model),
            chinese=bool(data.get("chinese", False)),
        )

    def __call__(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        if self.name == "whitespace":
            return text.split()
        if self.name == "char":
            return [SPACE if c.isspace() else c for c in re.sub(r"\s+", " ", text.strip())]
        if self._pieces is not None:
            return list(self._pieces.encode(text, out_type=str))
        if self.name == "chinese":
            assert self._chinese is not None
            return _joined(text, _substring_spans(text, self._chinese(text)))
        pattern = _ENGLISH if self.name == "english" else _WORD
        return _joined(text, (m.span() for m in pattern.finditer(text)))

    def detokenize(self, tokens: Sequence[str]) -> str:
        """The text the tokens came from: joined tokens attach, others follow a space."""
        if self.name == "whitespace":
            return " ".join(tokens)
        if self.name == "char":
            return "".join(" " if t == SPACE else t for t in tokens).strip()
        if self._pieces is not None:
            return str(self._pieces.decode_pieces(list(tokens)))
        parts: list[str] = []
        for token in tokens:
            if token.startswith(JOINER):
                parts.append(token[len(JOINER) :])
            else:
                parts.append((" " if parts else "") + token)
        return "".join(parts)

    @property
    def bleu_tokenize(self) -> str:
        """sacreBLEU's tokenizer for text of this side: ``zh`` for Chinese, ``13a`` else."""
        return "zh" if self.chinese else "13a"


def _sentencepiece() -> Any:
    try:
        import sentencepiece
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "Subword units (tokenizer bpe or unigram) need SentencePiece; run `pip install "
            "sentencepiece`, or choose the word tokenizer."
        ) from None
    return sentencepiece


def build_vocab(token_lists: Sequence[Sequence[str]], max_size: int, min_count: int) -> Vocab:
    """The side's vocabulary with :data:`EOS` as id 3, then the ``max_size`` most frequent
    tokens seen ``min_count`` times (``<pad>`` 0, ``<sos>`` 1, ``<unk>`` 2)."""
    built = Vocab.build(token_lists, max_size=max_size, min_count=min_count)
    tokens = [t for t in built.itos[3:] if t != EOS]
    return Vocab([EOS, *tokens], {EOS: 0, **built.counts})


def encode_side(vocab: Vocab, token_lists: Sequence[Sequence[str]]) -> list[list[int]]:
    return [vocab.encode(tokens) for tokens in token_lists]


# --------------------------------------------------------------------------- batches


@dataclass
class TranslateBatch:
    """One batch of pairs. ``src`` (B, S) and ``src_lengths`` (B,) (kept on the CPU, as the
    recurrent layers want); ``tgt_in`` (B, T) = ``<sos> y_1 … y_n`` and ``tgt_out`` (B, T)
    = ``y_1 … y_n </s>``, padded with 0, ``tgt_lengths`` n + 1, or all ``None`` for
    unlabelled input; ``index`` (B,) the pairs' positions in their source."""

    src: Tensor
    src_lengths: Tensor
    tgt_in: Tensor | None
    tgt_out: Tensor | None
    tgt_lengths: Tensor | None
    index: Tensor

    @property
    def num_tokens(self) -> int:
        lengths = self.tgt_lengths if self.tgt_lengths is not None else self.src_lengths
        return int(lengths.sum())

    def src_mask(self) -> Tensor:
        """(B, S) bool, True at real source tokens."""
        steps = self.src.shape[1]
        lengths = self.src_lengths.to(self.src.device)
        return torch.arange(steps, device=self.src.device).unsqueeze(0) < lengths.unsqueeze(1)

    def to(self, device: torch.device | str) -> TranslateBatch:
        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device)

        return TranslateBatch(
            self.src.to(device),
            self.src_lengths,
            move(self.tgt_in),
            move(self.tgt_out),
            self.tgt_lengths,
            self.index,
        )


def make_batch(
    sources: Sequence[Sequence[int]],
    targets: Sequence[Sequence[int]] | None,
    index: Sequence[int],
    eos_id: int,
    sos_id: int,
) -> TranslateBatch:
    """Pad one batch; sources that are empty get one ``<unk>``-free ``</s>`` so every row
    has a step."""
    src, src_lengths = pad_batch([list(s) or [eos_id] for s in sources], 0)
    tgt_in = tgt_out = tgt_lengths = None
    if targets is not None:
        tgt_in, tgt_lengths = pad_batch([[sos_id, *t] for t in targets], 0)
        tgt_out, _ = pad_batch([[*t, eos_id] for t in targets], 0)
    return TranslateBatch(src, src_lengths, tgt_in, tgt_out, tgt_lengths, torch.tensor(index))


class TranslateBatches:
    """Batches of encoded pairs; grouped by length and shuffled per epoch when ``shuffle``,
    in input order otherwise. Epoch e's order depends on (seed, e) only (for resume)."""

    def __init__(
        self,
        sources: list[list[int]],
        targets: list[list[int]] | None,
        batch_size: int,
        *,
        eos_id: int,
        sos_id: int = Vocab.sos_id,
        shuffle: bool = False,
        bucketing: bool = True,
        seed: int = 0,
    ) -> None:
        self.sources = sources
        self.targets = targets
        self.eos_id, self.sos_id = eos_id, sos_id
        lengths = [len(s) for s in sources]
        if targets is not None:  # group by both sides: the decoder's time is most of the work
            lengths = [max(a, len(b)) * 1000 + a for a, b in zip(lengths, targets, strict=True)]
        self.sampler = BucketBatchSampler(
            lengths,
            batch_size,
            shuffle=shuffle,
            seed=seed,
            chunk_multiplier=50 if (bucketing and shuffle) else 1,
        )

    def num_batches(self, epoch: int = 0) -> int:
        return len(self.sampler)

    def __len__(self) -> int:
        return len(self.sources)

    def batches(self, epoch: int = 0) -> Iterator[TranslateBatch]:
        for indices in self.sampler.epoch_batches(epoch):
            yield make_batch(
                [self.sources[i] for i in indices],
                None if self.targets is None else [self.targets[i] for i in indices],
                indices,
                self.eos_id,
                self.sos_id,
            )
