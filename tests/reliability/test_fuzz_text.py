"""Fuzzing the text path: tokenizers, vocabularies and every table and tagged-file reader.

Property everywhere: a result or an RnnlabError with one sentence — never another exception,
never a hang (hypothesis' deadline bounds each example).
"""

from __future__ import annotations

import json
import time

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="fuzzing needs hypothesis (a dev extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rnnlab.data.conll import read_tagged  # noqa: E402
from rnnlab.data.tables import read_table  # noqa: E402
from rnnlab.text.tokenize import Tokenizer  # noqa: E402
from rnnlab.text.vocab import Vocab  # noqa: E402
from tests.reliability.mutate import MUTATED, mutated_file  # noqa: E402
from tests.reliability.outcomes import tried  # noqa: E402

FUZZ = settings(
    max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Any code point, lone surrogates, controls and bidirectional marks included.
ANY_TEXT = st.text(alphabet=st.characters(codec=None, categories=None), max_size=200)
HOSTILE = st.sampled_from(
    [
        "\u202e",
        "\u200f",
        "\u0000",
        "\ufeff",
        "\r",
        "\u2028",
        "\ud800",
        "\udfff",
        "🙂",
        "\u0301",
        "中文",
    ]
)
MIXED = st.lists(st.one_of(ANY_TEXT, HOSTILE), max_size=8).map("".join)


@pytest.mark.parametrize("name", ["english", "char", "chinese"])
@FUZZ
@given(text=MIXED)
def test_tokenizers_return_writable_tokens_for_any_unicode(name, text):
    with tried(
        f"tokenizer {name}: any Unicode",
        f"{name} tokenizer on any code points, controls, RTL marks, lone surrogates",
    ):
        tokens = Tokenizer(name)(text)
        assert all(isinstance(t, str) and t for t in tokens)
        "".join(tokens).encode("utf-8")  # lone surrogates were replaced: every token writes


@pytest.mark.parametrize("name", ["english", "char"])
def test_tokenizers_take_a_one_megabyte_line_in_bounded_time(name):
    line = ("A long line, with words and ünïcode; " * 30_000)[:1_000_000]
    start = time.perf_counter()
    with tried(f"tokenizer {name}: 1 MB line", f"{name} tokenizer on one 1 MB line"):
        tokens = Tokenizer(name)(line)
    assert tokens and time.perf_counter() - start < 30


@FUZZ
@given(
    docs=st.lists(st.lists(MIXED.filter(bool), max_size=12), max_size=12),
    buckets=st.integers(0, 5),
    probe=MIXED,
)
def test_vocab_ids_survive_save_and_load_and_oov_buckets_stay_in_range(
    tmp_path, docs, buckets, probe
):
    with tried(
        "vocab: random tokens, save/load",
        "Vocab built from random tokens, saved and loaded, OOV lookups",
    ):
        vocab = Vocab.build(docs, oov_buckets=buckets)
        path = vocab.save(tmp_path / "vocab.json")
        again = Vocab.load(path)
        assert again == vocab
        tokens = [t for doc in docs for t in doc] + [probe]
        assert again.encode(tokens) == vocab.encode(tokens)
        assert all(0 <= i < len(vocab) for i in vocab.encode(tokens))


VALID_CSV = b'text,label\n"A fine film.",pos\n"Dull, and long.",neg\n"Bravo",pos\n'
VALID_JSONL = b'{"text": "A fine film.", "label": "pos"}\n{"text": "Dull.", "label": "neg"}\n'
VALID_CONLL = b"EU B-ORG\nrejects O\nGerman B-MISC\n\nPeter B-PER\nBlackburn I-PER\n"
VALID_CONLLU = (
    b"# text = The cat\n1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n"
    b"2\tcat\tcat\tNOUN\tNN\t_\t0\troot\t_\t_\n\n"
)


@pytest.mark.parametrize(
    ("suffix", "valid"),
    [(".csv", VALID_CSV), (".tsv", VALID_CSV.replace(b",", b"\t")), (".jsonl", VALID_JSONL)],
)
@FUZZ
@given(data=st.data())
def test_table_readers_on_mutated_files(tmp_path, suffix, valid, data):
    path = mutated_file(tmp_path, f"table{suffix}", data, valid)
    with tried(
        f"table reader {suffix}: mutated file",
        f"read_table on {suffix} files {MUTATED}",
    ):
        table = read_table(path)
        assert len(table.texts) == len(table.labels)


@FUZZ
@given(data=st.data())
def test_parquet_reader_on_mutated_files(tmp_path, data):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    valid_path = tmp_path / "valid.parquet"
    pq.write_table(
        pa.table({"text": ["A fine film.", "Dull."], "label": ["pos", "neg"]}), valid_path
    )
    path = mutated_file(tmp_path, "table.parquet", data, valid_path.read_bytes())
    with tried(
        "table reader .parquet: mutated file",
        f"read_table on Parquet files {MUTATED}",
    ):
        read_table(path)


@pytest.mark.parametrize(("fmt", "valid"), [("conll", VALID_CONLL), ("conllu", VALID_CONLLU)])
@FUZZ
@given(data=st.data())
def test_tagged_readers_on_mutated_files(tmp_path, fmt, valid, data):
    path = mutated_file(tmp_path, f"tagged.{fmt}", data, valid)
    with tried(
        f"tagged reader {fmt}: mutated file",
        f"read_tagged on {fmt} files {MUTATED}",
    ):
        sentences = read_tagged(path, fmt)
        assert len(sentences.tokens) == len(sentences.tags)


def test_json_values_in_table_cells(tmp_path):
    """JSONL rows whose text is a number, list, object, null or blank."""
    what = "JSONL rows whose text is a number, list, object, null or blank"
    for value in [1, 2.5, True, None, [], ["a"], {"a": 1}, "", "   "]:
        path = tmp_path / "t.jsonl"
        path.write_text(json.dumps({"text": value, "label": "pos"}) + "\n")
        with tried("table reader .jsonl: odd cell types", what):
            read_table(path)


def test_the_unmutated_files_read(tmp_path):
    """The seeds of the mutations are valid, so the fuzzing starts from files that work."""
    seeds = {"t.csv": VALID_CSV, "t.tsv": VALID_CSV.replace(b",", b"\t"), "t.jsonl": VALID_JSONL}
    for name, raw in seeds.items():
        (tmp_path / name).write_bytes(raw)
        assert len(read_table(tmp_path / name).texts) >= 2
    for fmt, raw in (("conll", VALID_CONLL), ("conllu", VALID_CONLLU)):
        (tmp_path / f"t.{fmt}").write_bytes(raw)
        assert len(read_tagged(tmp_path / f"t.{fmt}", fmt).tokens) >= 1
