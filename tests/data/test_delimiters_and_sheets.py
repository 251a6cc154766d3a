"""CSV files delimited by ``;``, tab or ``|`` read like comma-separated ones; ``delimiter``
overrides; xlsx workbooks read one sheet (``sheet``), with the sheet's row numbers in
messages; a missing text or label column is answered with the columns that look like them."""

from __future__ import annotations

import csv
import io

import pytest

from rnnlab.data.formats import sniff_delimiter
from rnnlab.data.tables import iter_table_chunks, read_table
from rnnlab.errors import ConfigError, DataError

# Movie-review snippets with the delimiters' characters inside quoted texts.
ROWS = [
    ("a gripping, funny film; the cast | crew shine", "pos"),
    ("flat, slow and far too long", "neg"),
    ("the best thriller this year", "pos"),
    ('a "comedy" with no laughs; skip it', "neg"),
    ("warm, clever, and beautifully shot", "pos"),
]


def table_text(delimiter: str, rows=ROWS, header=("text", "label")) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize("delimiter", [";", "\t", "|"], ids=["semicolon", "tab", "pipe"])
def test_other_delimiters_read_like_commas(write, delimiter):
    comma = read_table(write("comma.csv", table_text(",")))
    other = read_table(write("other.csv", table_text(delimiter)))
    assert other.texts == comma.texts == [text for text, _ in ROWS]
    assert other.labels == comma.labels
    streamed = [
        t for c in iter_table_chunks(write("s.csv", table_text(delimiter))) for t in c.texts
    ]
    assert streamed == comma.texts


def test_the_header_must_split_and_records_must_agree():
    # Commas inside the texts of a semicolon file do not count: the header has none.
    assert sniff_delimiter("text;label\nnice, really;pos\nbad, sadly;neg\n") == ";"
    # One column: nothing splits the header, comma is the answer.
    assert sniff_delimiter("text\nhello; world\n") == ","
    # Both split the header; only the pipe gives every record its width.
    assert sniff_delimiter("a,b|c\n1,2,x|3\n4|5\n6|7\n") == "|"
    # A sample cut mid-line ignores the partial last line.
    assert sniff_delimiter("text\tlabel\nx\tpos\ny, z", complete=False) == "\t"


def test_delimiter_overrides_the_sniffing(write):
    # Read with ',' on purpose: the semicolon file becomes one column, 'text;label'.
    path = write("a.csv", table_text(";"))
    with pytest.raises(
        DataError,
        match=r"no text column 'text' and no label column 'label'; the only column is "
        r"'text;label', which looks delimited by ';' — pass --delimiter ';'$",
    ):
        read_table(path, delimiter=",")
    assert read_table(path, delimiter=";").texts == [text for text, _ in ROWS]
    tabbed = write("t.csv", table_text("\t"))
    assert read_table(tabbed, delimiter="tab").labels == [label for _, label in ROWS]
    with pytest.raises(ConfigError, match=r"--delimiter ';;': expected one character"):
        read_table(path, delimiter=";;")


@pytest.fixture
def workbook(tmp_path):
    """Two sheets: reviews (id, opinion, stance, from row 1) and test (text, label)."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("openpyxl")
    path = tmp_path / "reviews.xlsx"
    train = pd.DataFrame(
        {
            "id": [101, 102, 103, 104, 105, 106],
            "opinion": [
                "I loved this film, the score is wonderful",
                "Terrible plot and wooden acting",
                "A fine evening out with friends",
                "Boring from start to end",
                "Great cast, great music, great fun",
                "Would not watch it again",
            ],
            "stance": ["pos", "neg", "pos", "neg", "pos", "neg"],
            "source": ["web", "web", "mail", "web", "mail", "web"],
        }
    )
    test = pd.DataFrame({"text": ["a joy to watch", "dull"], "label": [1, 0]})
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        train.to_excel(writer, sheet_name="reviews", index=False)
        test.to_excel(writer, sheet_name="test", index=False)
    return path


def test_xlsx_reads_the_first_sheet_or_the_one_named(workbook):
    first = read_table(workbook, text_col="opinion", label_col="stance")
    assert first.texts[0] == "I loved this film, the score is wonderful"
    assert first.labels == ["pos", "neg", "pos", "neg", "pos", "neg"]
    assert first.row_numbers == [2, 3, 4, 5, 6, 7]  # the sheet's rows: the header is row 1
    assert first.encoding is None
    for sheet in ("test", 1, "1"):
        other = read_table(workbook, sheet=sheet)
        assert other.texts == ["a joy to watch", "dull"] and other.labels == [1, 0]
    chunks = list(iter_table_chunks(workbook, "opinion", chunk_rows=4))
    assert [c.row_numbers for c in chunks] == [[2, 3, 4, 5], [6, 7]]
    with pytest.raises(
        DataError,
        match=r"reviews\.xlsx: no sheet 'train'; the sheets are 'reviews', 'test' — pass --sheet "
        r"with one of these names or a 0-based index \(0 to 1\)",
    ):
        read_table(workbook, sheet="train")


def test_xlsx_messages_use_the_sheet_row_numbers(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["text", "label"])
    sheet.append(["fine", "pos"])
    sheet.append([None, None])  # a blank row: skipped, but it keeps its number
    sheet.append(["", "neg"])
    path = tmp_path / "gaps.xlsx"
    book.save(path)
    with pytest.raises(
        DataError, match=r"gaps\.xlsx: 1 of 2 rows has empty or missing text .*\(row 4\)"
    ):
        read_table(path)


def test_not_an_xlsx_file(write):
    with pytest.raises(DataError, match=r"a\.xlsx: not a readable \.xlsx workbook"):
        read_table(write("a.xlsx", "text,label\nx,1\n"))


def test_missing_columns_are_proposed_all_at_once(workbook, write):
    with pytest.raises(DataError) as info:
        read_table(workbook)
    assert str(info.value).endswith(
        "reviews.xlsx: no text column 'text' and no label column 'label'; the columns are "
        "'id', 'opinion', 'stance', 'source'; the text looks like column 'opinion' and the label "
        "like 'stance' — pass --text-col opinion --label-col stance"
    )
    with pytest.raises(
        DataError,
        match=r"no label column 'label'; the columns are 'id', 'opinion', 'stance', 'source'; the "
        r"label looks like column 'stance' — pass --label-col stance$",
    ):
        read_table(workbook, text_col="opinion")
    path = write("a.csv", table_text(",", header=("my review", "verdict")))
    with pytest.raises(
        DataError,
        match=r"no text column 'text' and no label column 'label'; .* the text looks like column "
        r"'my review' and the label like 'verdict' — pass --text-col 'my review' --label-col "
        r"verdict$",
    ):
        read_table(path)
    # Reading for prediction: only the text is asked for.
    with pytest.raises(
        DataError, match=r"no text column 'text'; .* — pass --text-col 'my review'$"
    ):
        read_table(path, require_labels=False)
