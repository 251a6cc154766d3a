"""iter_table_chunks: bounded chunks, row numbers that match read_table, errors."""

from __future__ import annotations

import pytest

from rnnlab.data import iter_table_chunks, read_table
from rnnlab.errors import DataError, ValueRangeError

N = 23


@pytest.fixture
def tables(write, write_jsonl, write_parquet):
    texts = [f"review {i}\nline two" if i % 5 == 0 else f"review {i}" for i in range(N)]
    labels = [i % 2 for i in range(N)]
    csv_body = "".join(f'"{t}",{y}\n' for t, y in zip(texts, labels, strict=True))
    return texts, {
        "csv": write("a.csv", "text,label\n" + csv_body),
        "tsv": write("a.tsv", "text\tlabel\n" + csv_body.replace(",", "\t")),
        "jsonl": write_jsonl(
            "a.jsonl", [{"text": t, "label": y} for t, y in zip(texts, labels, strict=True)]
        ),
        "parquet": write_parquet("a.parquet", {"text": texts, "label": labels}, 4),
    }


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_chunks_cover_the_table_in_order(tables, fmt):
    texts, paths = tables
    chunks = list(iter_table_chunks(paths[fmt], chunk_rows=5))
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 3]
    assert [t for c in chunks for t in c.texts] == texts
    rows = [r for c in chunks for r in c.row_numbers]
    assert rows == list(range(1, N + 1))
    assert rows == read_table(paths[fmt]).row_numbers


def test_chunks_skip_empty_keep_row_numbers(write):
    path = write("a.csv", "text\nx\n\n  \ny\n,\nz\n")
    chunks = list(iter_table_chunks(path, chunk_rows=2, skip_empty=True))
    assert [c.texts for c in chunks] == [["x"], ["y"], ["z"]]
    assert [c.row_numbers for c in chunks] == [[1], [3], [5]]
    assert [c.dropped_empty for c in chunks] == [1, 1, 0]


def test_chunks_report_empty_text_in_the_chunk(write):
    path = write("a.csv", 'text\nx\ny\n""\nz\n')
    stream = iter_table_chunks(path, chunk_rows=2)
    assert next(stream).texts == ["x", "y"]
    with pytest.raises(
        DataError,
        match=r"1 of 2 rows has empty or missing text .*\(row 3 \(line 4\)\).*--skip-empty",
    ):
        next(stream)


def test_chunks_unknown_column_fails_before_reading(write):
    with pytest.raises(DataError, match=r"no text column 'body'.*--text-col"):
        next(iter_table_chunks(write("a.csv", "text\nx\n"), "body"))


def test_chunks_empty_table(write):
    with pytest.raises(DataError, match=r"has columns 'text' but no rows"):
        list(iter_table_chunks(write("a.csv", "text\n")))


def test_chunk_rows_must_be_positive(write):
    with pytest.raises(ValueRangeError, match=r"chunk_rows must be at least 1, got 0"):
        next(iter_table_chunks(write("a.csv", "text\nx\n"), chunk_rows=0))


def test_chunks_stream_lazily(write):
    # A decoding error far into the file is only raised when that chunk is reached.
    body = "".join(f"row {i}\n" for i in range(100)).encode()
    path = write("a.csv", b"text\n" + body + b"bad \xff\n")
    stream = iter_table_chunks(path, chunk_rows=10, encoding="utf-8")  # detected: cp1252
    assert len(next(stream)) == 10
    with pytest.raises(DataError, match=r"line 102 \(row 101\)"):
        list(stream)
