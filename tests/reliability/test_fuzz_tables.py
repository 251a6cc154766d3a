"""Fuzzing a researcher's own tables: real Chinese and accented English reviews saved in
every encoding and delimiter rnnlab detects, and the same files with bytes flipped or cut.

Properties: a table saved in any of the encodings and delimiters reads back exactly the texts
and labels that were written (detected, nothing passed); a damaged table gives a result or an
RnnlabError with one sentence.
"""

from __future__ import annotations

import csv
import io

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="fuzzing needs hypothesis (a dev extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rnnlab.data.tables import read_table  # noqa: E402
from tests.reliability.outcomes import record, tried  # noqa: E402

FUZZ = settings(
    max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CHINESE = ("utf-8", "utf-8-sig", "utf-16", "gb18030")
WESTERN = ("utf-8", "utf-8-sig", "utf-16", "cp1252")
DELIMITERS = (",", ";", "\t", "|")


@pytest.fixture(scope="module")
def reviews(rotten_tomatoes) -> dict[str, list[tuple[str, str]]]:
    """(text, label) rows: Chinese reviews (chinese_reviews, when its package is installed)
    and English ones given the accents and typographic quotes cp1252 carries."""
    from rnnlab.data import datasets
    from rnnlab.errors import MissingDependencyError

    english = [
        (f"{text} — café “très” naïve", str(label))
        for text, label in zip(rotten_tomatoes.valid.texts[:200],
                               rotten_tomatoes.valid.labels[:200], strict=True)
    ]  # fmt: skip
    rows = {"western": english}
    try:
        zh = datasets.load("chinese_reviews", seed=0)
        rows["chinese"] = [
            (text, str(label))
            for text, label in zip(zh.valid.texts[:200], zh.valid.labels[:200], strict=True)
            if text.encode("gb18030", "strict")
        ]
    except MissingDependencyError:
        pass
    return rows


def _table(rows: list[tuple[str, str]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    return buffer.getvalue()


@FUZZ
@given(data=st.data())
def test_any_encoding_and_delimiter_reads_back_the_same_rows(tmp_path, reviews, data):
    script = data.draw(st.sampled_from(sorted(reviews)))
    encoding = data.draw(st.sampled_from(CHINESE if script == "chinese" else WESTERN))
    delimiter = data.draw(st.sampled_from(DELIMITERS))
    rows = data.draw(st.lists(st.sampled_from(reviews[script]), min_size=1, max_size=30))
    path = tmp_path / "table.csv"
    path.write_bytes(_table(rows, delimiter).encode(encoding))
    table = read_table(path)  # any error here fails the test: these files are valid
    assert table.texts == [text for text, _ in rows], (encoding, delimiter)
    assert [str(label) for label in table.labels] == [label for _, label in rows]
    record(
        "table in any encoding and delimiter",
        "real Chinese / accented English rows saved as UTF-8 (BOM or not), UTF-16, GB18030 or "
        "cp1252 with , ; tab or |, read with nothing passed",
        "the same rows",
    )


@FUZZ
@given(data=st.data())
def test_damaged_tables_give_a_result_or_one_sentence(tmp_path, reviews, data):
    script = data.draw(st.sampled_from(sorted(reviews)))
    encoding = data.draw(st.sampled_from(CHINESE if script == "chinese" else WESTERN))
    raw = bytearray(_table(reviews[script][:20], data.draw(st.sampled_from(DELIMITERS))).encode(
        encoding
    ))  # fmt: skip
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "table.csv"
    path.write_bytes(bytes(raw))
    with tried(
        "table in another encoding: bytes flipped or cut",
        "read_table on such tables with flipped or truncated bytes",
    ):
        read_table(path)
