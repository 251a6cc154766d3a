"""``rnnlab train forecast``, ``predict``, ``evaluate`` on real series through the command line:
the run directory, the baselines on the same windows, the one-file model, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("statsforecast", reason="forecast runs print statsforecast's baselines")
pytest.importorskip("sktime", reason="airline ships inside sktime")

import rnnlab
from rnnlab.cli import app
from rnnlab.data.series import SeriesSet, load_series
from tests.browser import chromium_page, report_outline

QUICK = ["--ensemble", "1", "--epochs", "2", "--seed", "0", "--device", "cpu"]
BASELINES = ("naive", "seasonal_naive", "drift", "ets", "arima", "theta")


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def airline_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("forecast") / "airline"
    result = invoke("train", "forecast", "--data", "airline", "--horizon", "12", "--windows",
                    "2", "--out", out, *QUICK)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "seasonal naive" in result.output and "AutoETS" in result.output
    return out


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_run_directory_and_metrics(airline_run):
    for name in ("config.toml", "model.safetensors", "metrics.json", "history.jsonl",
                 "report.html", "analysis/forecasts.csv"):  # fmt: skip
        assert (airline_run / name).is_file(), name
    metrics = json.loads((airline_run / "metrics.json").read_text())
    assert metrics["horizon"] == 12 and metrics["windows"] == 2 and metrics["season_length"] == 12
    for key in ("mase", "smape", "mae", "rmse", "pinball", "coverage_80", "coverage_95",
                "relative_mase", "rnn_mase", "rnn_coverage_80", "rnn_coverage_95",
                "baseline_median3_mase", "relative_mase_median3"):  # fmt: skip
        assert np.isfinite(metrics[key]), key
    # The default forecast is the combination; the recurrent model alone is reported beside.
    assert metrics["forecast"] == "combination"
    combination = metrics["combination"]
    assert set(combination["weights"]) == {"rnn", "ets", "arima", "theta"}
    assert sum(combination["weights"].values()) == pytest.approx(1, abs=1e-3)
    # The later half of the 120 training months, less a horizon: ⌊(120 − 12)/2⌋ = 54.
    assert combination["validation_windows"] == 54
    for name in BASELINES:
        assert np.isfinite(metrics[f"baseline_{name}_mase"]), name
    assert metrics["relative_mase"] == pytest.approx(
        metrics["mase"] / metrics["baseline_seasonal_naive_mase"], rel=1e-4
    )
    report = (airline_run / "report.html").read_text()
    assert 'id="accuracy"' in report and "data:image/png;base64," in report


def test_report_renders_in_a_real_browser(airline_run):
    metrics = json.loads((airline_run / "metrics.json").read_text())
    with chromium_page() as page:
        headings, sizes = report_outline(page, airline_run / "report.html")
        assert headings == ["Accuracy beside the baselines", "Forecasts against actual values",
                            "Training", "Configuration"]  # fmt: skip
        assert len(sizes) == 2 + 1 and min(sizes) > 100  # both windows and the loss, decoded
        rows = page.locator("#accuracy table tr")
        # header, combination, recurrent model alone, six baselines, median of three
        assert rows.count() == 1 + 2 + len(BASELINES) + 1
        assert f"{metrics['mase']:.3f}" in rows.nth(1).inner_text()


def test_forecasts_csv_holds_both_windows_beside_the_baselines(airline_run):
    rows = read_rows(airline_run / "analysis" / "forecasts.csv")
    assert len(rows) == 24
    series = load_series("airline").series[0]
    # Window 0 covers 1959, window 1 covers 1960 (step = horizon).
    assert rows[0]["ds"] == "1959-01-01" and rows[12]["ds"] == "1960-01-01"
    np.testing.assert_allclose([float(r["actual"]) for r in rows], series.values[-24:])
    # Seasonal naive repeats the year before each origin.
    np.testing.assert_allclose([float(r["seasonal_naive"]) for r in rows[12:]],
                               series.values[-24:-12])  # fmt: skip
    for row in rows:
        assert float(row["lo-80"]) <= float(row["forecast"]) <= float(row["hi-80"])


def test_loaded_model_reproduces_the_backtest(airline_run):
    """The loaded model gives the last window's combined forecast and intervals (refitting
    the statistical models on the same history) and the recurrent model's own median."""
    predictor = rnnlab.load(airline_run)
    series = load_series("airline").series[0]
    rows = read_rows(airline_run / "analysis" / "forecasts.csv")[12:]
    again = predictor.fitted.forecast(series, len(series) - 12)
    median = predictor.levels.index(0.5)
    np.testing.assert_allclose(again[:, median], [float(r["rnn"]) for r in rows], rtol=1e-5)
    history = SeriesSet([series.head(len(series) - 12)], "MS", 12, "airline")
    answer = predictor.forecast(history, 12)
    for key in ("forecast", "lo-80", "hi-80", "lo-95", "hi-95"):
        np.testing.assert_allclose([a[key] for a in answer], [float(r[key]) for r in rows],
                                   rtol=1e-5, err_msg=key)  # fmt: skip


def test_predict_forecasts_after_the_end_of_the_data(airline_run, tmp_path):
    result = invoke("predict", airline_run, "--horizon", "3")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("unique_id,ds,forecast,lo-80,hi-80,lo-95,hi-95")
    assert [line.split(",")[1] for line in lines[1:]] == ["1961-01-01", "1961-02-01",
                                                           "1961-03-01"]  # fmt: skip
    too_far = invoke("predict", airline_run, "--horizon", "13")
    assert too_far.exit_code == 2
    assert "forecasts 12 steps ahead, not 13" in too_far.output


def test_evaluate_on_other_series_writes_beside_the_run(airline_run, tmp_path):
    series = load_series("airline").series[0]
    path = tmp_path / "two.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("unique_id,ds,y\n")
        for uid, factor in (("small", 0.5), ("large", 3.0)):
            for stamp, value in zip(series.times, series.values, strict=True):
                handle.write(f"{uid},{stamp.date()},{value * factor}\n")
    result = invoke("evaluate", airline_run, "--data", path, "--name", "scaled")
    assert result.exit_code == 0, result.output
    metrics = json.loads((airline_run / "evaluations" / "scaled" / "metrics.json").read_text())
    assert metrics["series"] == 2 and metrics["horizon"] == 12
    own = json.loads((airline_run / "metrics.json").read_text())
    # MASE and the log transform are scale-free, and window scaling divides the scale out:
    # the scaled copies are forecast as well as the original (window 1 of 2, as the run).
    assert metrics["mase"] == pytest.approx(own["mase"], rel=0.05)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--horizon", "-1"], "--horizon must be an integer >= 0, got -1"),
        (["--horizon", "60", "--windows", "3"], "too short for lookback"),
        (["--quantiles", "0.1,0.9"], "must include 0.5"),
        (["--quantiles", "0.1,half"], "'half' is not a number"),
        (["--data", "co2"], "missing value(s) in 'co2'"),
    ],
)
def test_bad_input_is_one_sentence(tmp_path, args, message):
    base = ["--data", "airline"] if "--data" not in args else []
    result = invoke("train", "forecast", *base, *args, "--out", tmp_path / "bad", *QUICK)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "bad").exists()


def test_forecast_over_http(airline_run):
    pytest.importorskip("fastapi", reason="the server needs fastapi and uvicorn")
    from rnnlab.serve import app_for, running_server
    from tests.serve.test_lm import post

    predictor = rnnlab.load(airline_run)
    series = load_series("airline").series[0]
    with running_server(app_for(predictor, run=airline_run)) as base:
        status, answer = post(f"{base}/forecast", {"horizon": 4})
        assert status == 200
        assert answer["forecasts"] == predictor.forecast(horizon=4)
        # Given series (the first 11 years) are forecast from their own end: 1960.
        stamps = [str(t.date()) for t in series.times[:132]]
        body = {"series": [{"unique_id": "airline", "ds": stamps,
                            "y": series.values[:132].tolist()}]}  # fmt: skip
        status, answer = post(f"{base}/forecast", body)
        assert status == 200 and answer["forecasts"][0]["ds"] == "1960-01-01"
        assert len(answer["forecasts"]) == 12
        body["series"][0]["y"][5] = None
        status, answer = post(f"{base}/forecast", body)
        assert status == 422 and "missing value(s) in 'y'" in answer["error"]
        status, answer = post(f"{base}/forecast", {"horizon": 0})
        assert status == 422
        status, info = post(f"{base}/forecast", {"horizon": 40})
        assert status == 422 and "forecasts 12 steps ahead" in info["error"]


def test_predict_with_future_covariates_from_a_file(tmp_path):
    """A run with a future covariate forecasts past the end of the data only with --future:
    the values of the steps after the end, read from a file, are what the forecast uses."""
    series = load_series("airline").series[0]
    rng = np.random.default_rng(0)
    promo = rng.integers(0, 2, len(series) + 12)
    data = tmp_path / "sales.csv"
    with open(data, "w", encoding="utf-8") as handle:
        handle.write("ds,y,promo\n")
        for i, (stamp, value) in enumerate(zip(series.times, series.values, strict=True)):
            handle.write(f"{stamp.date()},{value * (1 + 0.2 * promo[i])},{promo[i]}\n")
    out = tmp_path / "run"
    result = invoke("train", "forecast", "--data", data, "--horizon", "6",
                    "--future-covariates", "promo", "--out", out, *QUICK)  # fmt: skip
    assert result.exit_code == 0, result.output
    missing = invoke("predict", out)
    assert missing.exit_code == 2 and "--future FILE" in missing.output

    def future_file(values) -> Path:
        path = tmp_path / "future.csv"
        stamps = [f"1961-{m:02d}-01" for m in range(1, 7)]
        path.write_text("ds,promo\n" + "".join(f"{d},{v}\n" for d, v in zip(stamps, values,
                        strict=True)), encoding="utf-8")  # fmt: skip
        return path

    first = invoke("predict", out, "--future", future_file([0] * 6))
    second = invoke("predict", out, "--future", future_file([1] * 6))
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    dates = [line.split(",")[1] for line in first.output.strip().splitlines()[1:]]
    assert dates == [f"1961-{m:02d}-01" for m in range(1, 7)]
    assert first.output != second.output  # the forecast reads the future values
    late = tmp_path / "late.csv"
    late.write_text("ds,promo\n1961-03-01,1\n1961-04-01,1\n", encoding="utf-8")
    wrong = invoke("predict", out, "--future", late)
    assert wrong.exit_code == 2 and "must start at 1961-01-01" in wrong.output
    # The same over HTTP: POST /forecast with "future" answers what --future FILE printed.
    pytest.importorskip("fastapi", reason="the server needs fastapi and uvicorn")
    from rnnlab.data.series import read_future
    from rnnlab.serve import app_for, running_server
    from tests.serve.test_lm import post

    predictor = rnnlab.load(out)
    stamps = [f"1961-{m:02d}-01" for m in range(1, 7)]
    expected = predictor.forecast(None, 6, read_future(future_file([1] * 6), ["promo"]))
    with running_server(app_for(predictor, run=out)) as base:
        status, answer = post(f"{base}/forecast", {"horizon": 6, "future": [
            {"ds": stamps, "values": {"promo": [1] * 6}}]})  # fmt: skip
        assert status == 200, answer
        assert answer["forecasts"] == expected
        status, answer = post(f"{base}/forecast", {"horizon": 6})
        assert status == 422 and "needs future covariate 'promo'" in answer["error"]
        status, answer = post(f"{base}/forecast", {"horizon": 6, "future": [
            {"ds": stamps, "values": {"price": [1] * 6}}]})  # fmt: skip
        assert status == 422 and "lacks the covariate(s) promo" in answer["error"]
        status, answer = post(f"{base}/forecast", {"horizon": 6, "future": [
            {"ds": stamps[2:], "values": {"promo": [1] * 4}}]})  # fmt: skip
        assert status == 422 and "must start at 1961-01-01" in answer["error"]
        # Given series carry their covariates; forecasting from the end of 1959 needs 1960's.
        series = load_series("airline").series[0]
        history = [str(t.date()) for t in series.times[:132]]
        body = {"horizon": 6,
                "series": [{"unique_id": "s", "ds": history, "y": series.values[:132].tolist(),
                            "covariates": {"promo": promo[:132].tolist()}}],
                "future": [{"ds": [f"1960-{m:02d}-01" for m in range(1, 7)],
                            "values": {"promo": promo[132:138].tolist()}}]}  # fmt: skip
        status, answer = post(f"{base}/forecast", body)
        assert status == 200, answer
        assert answer["forecasts"][0]["ds"] == "1960-01-01"
        del body["series"][0]["covariates"]
        status, answer = post(f"{base}/forecast", body)
        assert status == 422 and "lacks the covariate(s) promo" in answer["error"]
