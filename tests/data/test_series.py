"""Series readers: the built-in series as their packages ship them, long and wide files, and
one sentence naming the line for every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnlab.data.series import SERIES, load_series, read_series, season_length
from rnnlab.errors import ConfigError, DataError

pytest.importorskip("pandas", reason="series are read with pandas (the forecast extra)")


@pytest.mark.parametrize(
    ("name", "length", "season", "first"),
    [("airline", 144, 12, 112.0), ("lynx", 114, 1, 269.0), ("shampoo", 36, 12, 266.0),
     ("sunspots", 309, 1, 5.0), ("nile", 100, 1, 1120.0)],
)  # fmt: skip
def test_builtin_series_as_shipped(name, length, season, first):
    pytest.importorskip(SERIES[name].package, reason=f"{name} ships inside {SERIES[name].pip}")
    found = load_series(name)
    (series,) = found.series
    assert len(series) == length
    assert found.season_length == season
    assert series.values[0] == first
    assert np.all(np.diff(series.times.asi8) > 0)


def test_co2_has_missing_weeks_refused_unless_filled():
    pytest.importorskip("statsmodels", reason="co2 ships inside statsmodels")
    with pytest.raises(DataError, match=r"59 missing value\(s\) in 'co2', the first at line 8"):
        load_series("co2")
    found = load_series("co2", fill="linear")
    assert found.filled == 59 and found.freq == "W-SAT" and found.season_length == 52
    values = found.series[0].values
    assert not np.isnan(values).any()
    # Line 8 (row 6, 1958-05-10) lies between 1958-05-03 and 1958-05-17: their mean.
    assert values[6] == pytest.approx((values[5] + values[7]) / 2)


@pytest.mark.parametrize(
    ("freq", "season"),
    [("MS", 12), ("ME", 12), ("QS-JAN", 4), ("W-SUN", 52), ("D", 7), ("h", 24), ("YS-JAN", 1),
     ("2D", 1)],
)  # fmt: skip
def test_season_length_from_frequency(freq, season):
    assert season_length(freq) == season


def test_unknown_frequency_is_refused():
    with pytest.raises(ConfigError, match="not a pandas frequency"):
        season_length("fortnightly")


def write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_long_file_with_two_series_and_covariates(tmp_path):
    rows = ["unique_id,ds,y,price"]
    for uid, base in (("a", 10), ("b", 100)):
        rows += [f"{uid},2020-{m:02d}-01,{base + m},{m * 0.5}" for m in range(1, 13)]
    found = read_series(write(tmp_path, "\n".join(rows) + "\n"), covariates=["price"])
    assert [s.uid for s in found.series] == ["a", "b"]
    assert found.freq == "MS" and found.season_length == 12
    assert found.series[1].values[0] == 101
    np.testing.assert_allclose(found.series[0].covariates["price"], np.arange(1, 13) * 0.5)


def test_wide_file_needs_its_columns_named(tmp_path):
    path = write(tmp_path, "date,sales\n2021-01-04,3\n2021-01-05,4\n2021-01-06,5\n")
    with pytest.raises(ConfigError, match=r"--time-col .*'date', 'sales'"):
        read_series(path)
    found = read_series(path, time_col="date", target_col="sales")
    assert found.freq == "D" and list(found.series[0].values) == [3, 4, 5]
    with pytest.raises(DataError, match=r"no column 'sale' \(--target-col\); did you mean 'sales'"):
        read_series(path, time_col="date", target_col="sale")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ds,y\n2020-01-01,1\n2020-03-01,2\n2020-02-01,3\n2020-04-01,4\n",
         r"line 4: time 2020-02-01 00:00:00 comes before 2020-03-01 00:00:00 on line 3"),
        ("ds,y\n2020-01-01,1\n2020-02-01,2\n2020-02-01,3\n2020-03-01,4\n",
         r"lines 3 and 4: the time 2020-02-01 00:00:00 appears twice"),
        ("ds,y\n2020-01-01,1\n2020-02-01,two\n2020-03-01,3\n",
         r"line 3: y is 'two', not a number"),
        ("ds,y\n2020-01-01,1\nlast spring,2\n2020-03-01,3\n",
         r"line 3: time 'last spring' in column 'ds' is not a date"),
        ("ds,y\n2020-01-01,1\n2020-02-01,2\n2020-04-01,4\n2020-05-01,5\n2020-06-01,6\n",
         r"1 timestamp\(s\) of the MS grid are missing, the first 2020-03-01 \(before line 4\)"),
        ("ds,y\n2020-01-01,1\n2020-02-01,\n2020-03-01,3\n",
         r"1 missing value\(s\) in 'y', the first at line 3, 2020-02-01"),
        ("ds,y\n", r"the table has no rows"),
    ],
)  # fmt: skip
def test_bad_series_name_the_line(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_series(write(tmp_path, text))


def test_gap_filled_only_when_asked(tmp_path):
    path = write(tmp_path, "ds,y\n2020-01-01,1\n2020-02-01,2\n2020-04-01,4\n2020-05-01,5\n")
    found = read_series(path, fill="linear")
    assert found.filled == 1
    np.testing.assert_allclose(found.series[0].values, [1, 2, 3, 4, 5])
    assert list(read_series(path, fill="zero").series[0].values) == [1, 2, 0, 4, 5]
    assert list(read_series(path, fill="ffill").series[0].values) == [1, 2, 2, 4, 5]
