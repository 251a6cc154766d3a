"""Every read_table error: the exception type and the sentence a user sees, pinned."""

from __future__ import annotations

import pytest

from rnnlab.data import read_table
from rnnlab.errors import ConfigError, DataError, RnnlabError, RnnlabFileNotFoundError


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(RnnlabFileNotFoundError, match=r"nope\.csv: no such file; check the path"):
        read_table(path)
    with pytest.raises(FileNotFoundError):  # also a built-in FileNotFoundError
        read_table(path)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(DataError, match=r"is a directory, expected a table file"):
        read_table(tmp_path)


def test_unknown_suffix(write):
    path = write("data.xls", "x")
    with pytest.raises(
        DataError,
        match=r"data\.xls: cannot tell the table format from suffix '\.xls'; expected one of "
        r"\.csv, \.tsv, \.jsonl, \.ndjson, \.parquet, \.xlsx, \.xlsm — rename the file or pass "
        r"the format",
    ):
        read_table(path)


def test_no_suffix(write):
    with pytest.raises(DataError, match=r"cannot tell the table format from no suffix"):
        read_table(write("data", "x"))


def test_unknown_explicit_format(write):
    with pytest.raises(ConfigError, match=r"format='xls' is not a table format .* csv, tsv"):
        read_table(write("a.csv", "text\nx\n"), format="xls")


def test_unknown_text_column_lists_columns_and_suggests(write):
    path = write("a.csv", "review,label\nx,pos\n")
    with pytest.raises(
        DataError,
        match=r"a\.csv: no text column 'text'; the columns are 'review', 'label' — choose the "
        r"text column with --text-col",
    ):
        read_table(path, text_col="text")
    with pytest.raises(DataError, match=r"no text column 'Review'.*did you mean 'review'\?"):
        read_table(path, text_col="Review")


def test_unknown_label_column(write):
    path = write("a.csv", "text,sentiment\nx,pos\n")
    with pytest.raises(
        DataError,
        match=r"no label column 'label'; the columns are 'text', 'sentiment' — "
        r"choose the label column with --label-col",
    ):
        read_table(path)
    with pytest.raises(DataError, match=r"no label column 'sentimnet'.*did you mean 'sentiment'"):
        read_table(path, label_col="sentimnet")


def test_unknown_jsonl_key(write_jsonl):
    path = write_jsonl("a.jsonl", [{"body": "x", "label": 1}])
    with pytest.raises(DataError, match=r"no text column 'text'; the object keys are 'body'"):
        read_table(path)


def test_unknown_parquet_column(write_parquet):
    path = write_parquet("a.parquet", {"content": ["x"], "label": [1]})
    with pytest.raises(DataError, match=r"no text column 'text'; the columns are 'content'"):
        read_table(path)


def test_empty_file(write):
    for name in ("a.csv", "a.jsonl"):
        with pytest.raises(
            DataError,
            match=r"the file is empty \(no header and no rows\); expected a table with a text "
            r"column 'text'",
        ):
            read_table(write(name, ""))


def test_header_only_table(write):
    with pytest.raises(
        DataError,
        match=r"a\.csv: the table has columns 'text', 'label' but no rows; check that the file "
        r"is complete",
    ):
        read_table(write("a.csv", "text,label\n"))


def test_empty_parquet_table(write_parquet):
    path = write_parquet("a.parquet", {"text": [], "label": []})
    with pytest.raises(DataError, match=r"has columns 'text', 'label' but no rows"):
        read_table(path)


def test_empty_text_counts_rows_and_suggests_skip_empty(write):
    path = write("a.csv", 'text,label\nx,pos\n"",neg\n   ,pos\n"multi\nline",neg\n,neg\n')
    with pytest.raises(
        DataError,
        match=r"a\.csv: 3 of 5 rows have empty or missing text in column 'text' "
        r"\(rows 2, 3 and 5 \(lines 3, 4, 7\)\); fill them in, or pass --skip-empty to drop them",
    ):
        read_table(path)


def test_empty_text_lists_only_the_first_rows(write):
    body = "".join(f",{i}\n" for i in range(8))
    with pytest.raises(DataError, match=r"8 of 9 rows .*\(rows 1, 2, 3, 4, 5, … \(lines"):
        read_table(write("a.csv", "text,label\n" + body + "x,1\n"))


def test_missing_text_in_jsonl_and_parquet(write_jsonl, write_parquet):
    path = write_jsonl("a.jsonl", [{"text": "x", "label": 1}, {"label": 0}, {"text": None}])
    with pytest.raises(DataError, match=r"2 of 3 rows have empty or missing text .*rows 2 and 3"):
        read_table(path)
    pq_path = write_parquet("a.parquet", {"text": ["x", None], "label": [1, 0]})
    with pytest.raises(DataError, match=r"1 of 2 rows has empty or missing text .*\(row 2\)"):
        read_table(pq_path)


def test_every_text_empty_after_skip(write):
    with pytest.raises(
        DataError, match=r"all 2 rows have empty text in column 'text'; check --text-col"
    ):
        read_table(write("a.csv", "text,label\n,1\n  ,0\n"), skip_empty=True)


def test_text_column_of_numbers(write_jsonl):
    path = write_jsonl("a.jsonl", [{"text": "x", "id": 1}, {"text": "y", "id": 2}])
    with pytest.raises(
        DataError,
        match=r"row 1 \(line 1\): column 'id' holds int value 1, expected text; choose the text "
        r"column with --text-col",
    ):
        read_table(path, text_col="id", label_col=None)


def test_missing_labels_name_the_rows(write):
    path = write("a.csv", "text,label\nx,pos\ny,\nz\nw,neg\n")
    with pytest.raises(
        DataError,
        match=r"a\.csv: 2 of 4 rows have no label in column 'label' \(rows 2 and 3 \(lines 3, 4\)"
        r"\); fill them in, remove those rows, or check --label-col",
    ):
        read_table(path)


def test_fractional_label(write_parquet):
    path = write_parquet("a.parquet", {"text": ["x", "y"], "label": [0.5, 1.0]})
    with pytest.raises(
        DataError,
        match=r"row 1: label 0\.5 in column 'label' is a fractional number, expected a class "
        r"name or a whole number",
    ):
        read_table(path)


def test_invalid_utf8_names_line_and_row(write):
    # Read as UTF-8 on purpose: detected, the file reads as cp1252 (tests/data/test_encodings.py).
    content = b"text,label\nfine,pos\n" + b'"multi\nline caf\xe9",neg\n'
    with pytest.raises(
        DataError,
        match=r"a\.csv line 4 \(row 2\): bytes b'\\xe9' at byte 9 of the line after 'line caf' "
        r"are not valid UTF-8; the text looks like cp1252: pass --encoding cp1252, or re-save the "
        r"file as UTF-8",
    ):
        read_table(write("a.csv", content), encoding="utf-8")


def test_invalid_utf8_in_header_and_jsonl(write):
    with pytest.raises(DataError, match=r"line 1 \(the header\): bytes b'\\xff'"):
        read_table(write("a.csv", b"te\xffxt,label\nx,1\n"), encoding="utf-8")
    jsonl = b'{"text": "ok"}\n\n{"text": "bad \xc3("}\n'
    with pytest.raises(DataError, match=r"a\.jsonl line 3 \(row 2\): bytes b'\\xc3'"):
        read_table(write("a.jsonl", jsonl), label_col=None, encoding="utf-8")


def test_invalid_utf8_in_parquet_binary_column(write_parquet):
    path = write_parquet("a.parquet", {"text": [b"ok", b"caf\xe9"], "label": [0, 1]})
    with pytest.raises(
        DataError, match=r"a\.parquet row 2: bytes b'\\xe9' at byte 4 of column 'text'"
    ):
        read_table(path)


def test_unclosed_quote(write):
    path = write("a.csv", 'text,label\nx,pos\n"never closed,neg\ny,pos\n')
    with pytest.raises(
        DataError, match=r"a\.csv line 3 \(row 2\): a quoted field opened here is never closed"
    ):
        read_table(path)


def test_text_after_closing_quote(write):
    path = write("a.csv", 'text,label\n"quoted" tail,pos\n')
    with pytest.raises(
        DataError, match=r"line 2 \(row 1\): text follows the closing quote of a field"
    ):
        read_table(path)


def test_too_many_fields(write):
    path = write("a.csv", "text,label\nx,pos\ngood, but long,neg\n")
    with pytest.raises(
        DataError,
        match=r"a\.csv line 3 \(row 2\): 3 fields but the header has 2 columns; quote fields "
        r"that contain the delimiter \(','\)",
    ):
        read_table(path)


def test_duplicate_column_name(write):
    with pytest.raises(DataError, match=r"column 'text' appears 2 times in the header"):
        read_table(write("a.csv", "text,text,label\nx,y,1\n"))


def test_invalid_json_line(write):
    path = write("a.jsonl", '{"text": "x", "label": 1}\n{"text": "y", label: 0}\n')
    with pytest.raises(
        DataError,
        match=r"a\.jsonl line 2 \(row 2\): not valid JSON \(Expecting property name enclosed in "
        r"double quotes at character 15\); each line must hold one JSON object",
    ):
        read_table(path)


def test_jsonl_line_that_is_not_an_object(write):
    with pytest.raises(
        DataError, match=r"line 1 \(row 1\): expected a JSON object .*got a JSON list"
    ):
        read_table(write("a.jsonl", '["x", 1]\n'))


def test_not_a_parquet_file(write):
    with pytest.raises(DataError, match=r"a\.parquet: not a readable Parquet file"):
        read_table(write("a.parquet", "text,label\nx,1\n"))


def test_every_error_is_an_rnnlab_error_and_one_line(write):
    cases = [
        lambda: read_table(write("a.csv", "review\nx\n")),
        lambda: read_table(write("b.csv", "text,label\n,1\n")),
        lambda: read_table(write("c.csv", b"text\n\xff\n"), label_col=None, encoding="utf-8"),
    ]
    for case in cases:
        with pytest.raises(RnnlabError) as info:
            case()
        assert "\n" not in str(info.value)
