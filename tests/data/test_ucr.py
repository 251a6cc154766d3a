"""The UCR ``.ts`` reader: sktime's shipped GunPoint and ItalyPowerDemand as published, and
one sentence naming the line for what it cannot read."""

from __future__ import annotations

import pytest

from rnnlab.data.ucr import load_ucr, read_ts
from rnnlab.errors import DataError


@pytest.mark.parametrize(
    ("name", "split", "shape", "labels"),
    [("gunpoint", "TRAIN", (50, 150), {"1", "2"}), ("gunpoint", "TEST", (150, 150), {"1", "2"}),
     ("italy_power_demand", "TRAIN", (67, 24), {"1", "2"}),
     ("italy_power_demand", "TEST", (1029, 24), {"1", "2"})],
)  # fmt: skip
def test_shipped_sets_have_their_published_sizes(name, split, shape, labels):
    pytest.importorskip("sktime", reason="the UCR sets ship inside sktime")
    found = load_ucr(name, split)
    assert found.values.shape == shape
    assert set(found.labels) == labels


HEADER = "# comment\n@problemName Toy\n@classLabel true a b\n@data\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("1,2,3:a\n1,2:b\n", r"line 6: 2 values, but the first series has 3"),
        ("1,2,3:a\n1,?,3:b\n", r"line 6: value '\?' is not a number"),
        ("1,2:3,4:a\n", r"line 5: expected 'v1,v2,…:label'"),
        ("", r"no series after @data"),
    ],
)
def test_bad_ts_files_name_the_line(tmp_path, body, message):
    path = tmp_path / "toy.ts"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_ts(path)


def test_reads_values_and_labels(tmp_path):
    path = tmp_path / "toy.ts"
    path.write_text(HEADER + "1,2,3:a\n\n4.5,-1e-2,0:b\n", encoding="utf-8")
    found = read_ts(path)
    assert found.values.tolist() == [[1, 2, 3], [4.5, -0.01, 0]]
    assert found.labels == ["a", "b"]
