"""Vocab: id layout, ordering, size limits, stable OOV buckets, JSON round trip, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from rnnlab.errors import DataError, RnnlabFileNotFoundError, ValueRangeError
from rnnlab.text import Vocab

DOCS = [["b", "a", "c", "a"], ["c", "b", "a"], ["d", "e"], ["e", "b"]]
# counts: a 3, b 3, c 2, e 2, d 1


def test_specials_then_frequency_with_ties_by_token() -> None:
    vocab = Vocab.build(DOCS)
    assert vocab.itos == ("<pad>", "<sos>", "<unk>", "a", "b", "c", "e", "d")
    assert (vocab.pad_id, vocab.sos_id, vocab.unk_id) == (0, 1, 2)
    assert vocab.counts == {"a": 3, "b": 3, "c": 2, "e": 2, "d": 1}
    assert len(vocab) == 8 and vocab.num_tokens == 5


def test_ids_do_not_depend_on_document_order() -> None:
    assert Vocab.build(DOCS) == Vocab.build([list(reversed(d)) for d in reversed(DOCS)])


def test_max_size_counts_regular_tokens_only() -> None:
    vocab = Vocab.build(DOCS, max_size=3)
    assert vocab.itos == ("<pad>", "<sos>", "<unk>", "a", "b", "c")
    assert len(vocab) == 6


def test_min_count() -> None:
    assert Vocab.build(DOCS, min_count=2).itos[3:] == ("a", "b", "c", "e")
    assert Vocab.build(DOCS, min_count=3).itos[3:] == ("a", "b")
    assert Vocab.build(DOCS, min_count=2, max_size=1).itos[3:] == ("a",)


def test_special_strings_in_data_are_not_counted() -> None:
    vocab = Vocab.build([["<unk>", "<pad>", "x"]])
    assert vocab.itos == ("<pad>", "<sos>", "<unk>", "x")


def test_encode_decode_without_buckets() -> None:
    vocab = Vocab.build(DOCS)
    assert vocab.encode(["a", "zzz", "d"]) == [3, 2, 7]
    assert vocab.decode([3, 2, 7, 0]) == ["a", "<unk>", "d", "<pad>"]
    assert vocab.token_to_id("zzz") == vocab.unk_id
    assert vocab.id_to_token(4) == "b"
    assert "a" in vocab and "zzz" not in vocab


def test_oov_buckets_follow_crc32_after_the_vocabulary() -> None:
    vocab = Vocab.build(DOCS, oov_buckets=10)
    assert len(vocab) == 8 + 10
    for token in ["zzz", "unseen", "日本", "x"]:
        expected = 8 + zlib.crc32(token.encode("utf-8")) % 10
        assert vocab.token_to_id(token) == expected
    assert vocab.encode(["a", "zzz"]) == [3, vocab.token_to_id("zzz")]
    assert vocab.id_to_token(8 + 4) == "<oov:4>"
    ids = {vocab.token_to_id(f"w{i}") for i in range(1000)}
    assert ids == set(range(8, 18))  # every bucket used, none outside the table


def test_oov_buckets_are_identical_across_processes(tmp_path: Path) -> None:
    tokens = ["zzz", "unseen", "日本", "hashing", "salt", "x1", "y2", "z3"]
    script = (
        "import json, sys\n"
        "from rnnlab.text import Vocab\n"
        "v = Vocab.build([['a', 'b']], oov_buckets=97)\n"
        f"print(json.dumps(v.encode({tokens!r})), hash('salt'), sep='|')\n"
    )
    results = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": _src_path()}
        out = (
            subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .split("|")
        )
        results.append(out)
    assert results[0][1] != results[1][1]  # Python's own hash differs between the two ...
    assert results[0][0] == results[1][0]  # ... the buckets do not
    here = Vocab.build([["a", "b"]], oov_buckets=97).encode(tokens)
    assert json.loads(results[0][0]) == here


def _src_path() -> str:
    import rnnlab

    return str(Path(rnnlab.__file__).resolve().parents[1])


def test_save_load_round_trip(tmp_path: Path) -> None:
    vocab = Vocab.build([["日本", "語", "語"], ["é", "a"]], oov_buckets=5)
    path = vocab.save(tmp_path / "sub" / "vocab.json")
    again = Vocab.load(path)
    assert again == vocab
    assert again.itos == vocab.itos and again.counts == vocab.counts and len(again) == 12
    assert again.encode(["語", "???"]) == vocab.encode(["語", "???"])
    assert "日本" in path.read_text(encoding="utf-8")  # readable, not \\u-escaped
    assert [p.name for p in path.parent.iterdir()] == ["vocab.json"]  # no temp file left
    assert Vocab.from_dict(json.loads(json.dumps(vocab.to_dict()))) == vocab


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RnnlabFileNotFoundError, match=r"path: expected a vocabulary JSON file"):
        Vocab.load(tmp_path / "nope.json")


def test_load_malformed_json(tmp_path: Path) -> None:
    path = tmp_path / "vocab.json"
    path.write_text('{"format": "rnnlab-vocab", ', encoding="utf-8")
    with pytest.raises(DataError, match=r"vocab.json: expected a UTF-8 JSON vocabulary"):
        Vocab.load(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other"}, r"expected 'format': 'rnnlab-vocab'"),
        ({"version": 99}, r"expected vocabulary format version 1, got 99; upgrade rnnlab"),
        ({"specials": ["<unk>", "<pad>", "<sos>"]}, r"expected 'specials'"),
        ({"tokens": ["a", 3]}, r"expected 'tokens': a list of strings"),
        ({"counts": [1]}, r"expected 'counts': a list of 2 integers"),
        ({"oov_buckets": -1}, r"expected 'oov_buckets': an integer >= 0"),
        ({"oov_hash": "python"}, r"expected 'oov_hash': 'crc32'"),
        ({"tokens": ["a", "a"]}, r"got 'a' twice"),
    ],
)
def test_malformed_vocab_file(tmp_path: Path, change: dict, message: str) -> None:
    data = {**Vocab.build([["a", "b"]]).to_dict(), **change}
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        Vocab.load(path)


def test_bad_arguments() -> None:
    with pytest.raises(ValueRangeError, match=r"max_size: expected an integer >= 1, got 0"):
        Vocab.build(DOCS, max_size=0)
    with pytest.raises(ValueRangeError, match=r"min_count: expected an integer >= 1, got 0"):
        Vocab.build(DOCS, min_count=0)
    with pytest.raises(ValueRangeError, match=r"oov_buckets: expected an integer >= 0, got -2"):
        Vocab.build(DOCS, oov_buckets=-2)
    with pytest.raises(DataError, match=r"token_lists: expected lists of tokens, got a str"):
        Vocab.build(["a text", "another"])  # type: ignore[list-item]
    with pytest.raises(DataError, match=r"tokens: expected distinct tokens.*got '<pad>' twice"):
        Vocab(["<pad>"])
    with pytest.raises(ValueRangeError, match=r"index: expected an id in \[0, 8\), got 8"):
        Vocab.build(DOCS).id_to_token(8)
