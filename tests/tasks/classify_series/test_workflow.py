"""``rnnlab train classify-series`` on UCR GunPoint (sktime's copy): the run, the baselines
(1-NN checked against scikit-learn), the one-file model, bad input."""

from __future__ import annotations

import csv
import json
import urllib.request

import numpy as np
import pytest
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app
from rnnlab.data.ucr import load_ucr
from rnnlab.tasks.classify_series.data import znorm
from rnnlab.tasks.classify_series.workflow import nearest_neighbour, nearest_neighbour_dtw
from tests.browser import chromium_page, report_outline

pytest.importorskip("sktime", reason="the UCR sets ship inside sktime")


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def gunpoint_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("series") / "gunpoint"
    result = invoke("train", "classify-series", "--data", "gunpoint", "--out", out,
                    "--device", "cpu")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1-NN (Euclidean) 0.9133" in result.output
    return out


def test_default_recipe_on_gunpoint(gunpoint_run):
    metrics = json.loads((gunpoint_run / "metrics.json").read_text())
    assert metrics["test_size"] == 150
    assert metrics["baseline_majority_accuracy"] == pytest.approx(74 / 150)
    # Published 1-NN Euclidean error on GunPoint: 0.087.
    assert metrics["baseline_1nn_accuracy"] == pytest.approx(1 - 0.0867, abs=1e-3)
    if "baseline_1nn_dtw_accuracy" in metrics:  # with dtaidistance: published error 0.093
        assert metrics["baseline_1nn_dtw_accuracy"] == pytest.approx(0.907, abs=1e-3)
    assert metrics["accuracy"] > metrics["baseline_majority_accuracy"] + 0.3
    assert metrics["accuracy_ci_low"] <= metrics["accuracy"] <= metrics["accuracy_ci_high"]


def test_predictions_file_and_report(gunpoint_run):
    test = load_ucr("gunpoint", "TEST")
    with open(gunpoint_run / "analysis" / "predictions.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["truth"] for r in rows] == list(test.labels)
    assert [r["predicted"] for r in rows] == rnnlab.load(gunpoint_run).predict(test.values)
    np.testing.assert_allclose([float(v) for v in rows[3]["values"].split()], test.values[3],
                               rtol=1e-5)  # fmt: skip
    metrics = json.loads((gunpoint_run / "metrics.json").read_text())
    right = np.mean([r["truth"] == r["predicted"] for r in rows])
    assert right == pytest.approx(metrics["accuracy"])
    report = (gunpoint_run / "report.html").read_text(encoding="utf-8")
    assert 'id="accuracy"' in report and 'id="errors"' in report
    assert "1-NN, Euclidean" in report and "data:image/png;base64," in report


def test_report_renders_in_a_real_browser(gunpoint_run):
    metrics = json.loads((gunpoint_run / "metrics.json").read_text())
    with chromium_page() as page:
        headings, sizes = report_outline(page, gunpoint_run / "report.html")
        assert headings == ["Accuracy beside the baselines",
                            "Confusions and the most confident mistakes", "Training",
                            "Configuration"]  # fmt: skip
        # Confusion matrix, mistakes (GunPoint's default run makes some), loss curve.
        wrong = metrics["accuracy"] < 1
        assert len(sizes) == 2 + wrong and min(sizes) > 100  # every figure decoded
        first_row = page.locator("#accuracy table tr").nth(1).inner_text()
        assert f"{metrics['accuracy']:.4f}" in first_row


def test_loaded_model_predicts_the_recorded_accuracy(gunpoint_run):
    predictor = rnnlab.load(gunpoint_run)
    test = load_ucr("gunpoint", "TEST")
    predicted = predictor.predict(test.values)
    metrics = json.loads((gunpoint_run / "metrics.json").read_text())
    assert np.mean(np.array(predicted) == np.array(test.labels)) == pytest.approx(
        metrics["accuracy"]
    )
    with pytest.raises(ValueError, match="expected series of 150 values"):
        predictor.predict(test.values[:, :100])


def test_nearest_neighbour_agrees_with_scikit_learn():
    neighbors = pytest.importorskip("sklearn.neighbors", reason="scikit-learn is the reference")
    train, test = load_ucr("italy_power_demand", "TRAIN"), load_ucr("italy_power_demand", "TEST")
    x_train, x_test = znorm(train.values), znorm(test.values)
    reference = neighbors.KNeighborsClassifier(1).fit(x_train, train.labels).predict(x_test)
    assert nearest_neighbour(x_train, train.labels, x_test) == list(reference)


def _dtw_by_recursion(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook recurrence, cell by cell."""
    cost = np.full((len(a) + 1, len(b) + 1), np.inf)
    cost[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            step = (a[i - 1] - b[j - 1]) ** 2
            cost[i, j] = step + min(cost[i - 1, j], cost[i, j - 1], cost[i - 1, j - 1])
    return float(np.sqrt(cost[-1, -1]))


def test_dtw_nearest_neighbour_follows_the_recurrence_and_the_published_errors():
    pytest.importorskip("dtaidistance", reason="the DTW baseline runs on dtaidistance")
    train, test = load_ucr("italy_power_demand", "TRAIN"), load_ucr("italy_power_demand", "TEST")
    x_train, x_test = znorm(train.values), znorm(test.values)
    chosen = nearest_neighbour_dtw(x_train, train.labels, x_test[:12])
    for row, label in zip(x_test[:12], chosen, strict=True):
        distances = [_dtw_by_recursion(row, other) for other in x_train]
        assert label == train.labels[int(np.argmin(distances))]
    # The UCR archive's 1-NN DTW (full window) test errors: 0.050 and 0.093.
    found = nearest_neighbour_dtw(x_train, train.labels, x_test)
    assert np.mean(np.array(found) == np.array(test.labels)) == pytest.approx(0.950, abs=1e-3)
    train, test = load_ucr("gunpoint", "TRAIN"), load_ucr("gunpoint", "TEST")
    found = nearest_neighbour_dtw(znorm(train.values), train.labels, znorm(test.values))
    assert np.mean(np.array(found) == np.array(test.labels)) == pytest.approx(0.907, abs=1e-3)


def test_a_file_without_test_series_is_refused(tmp_path):
    path = tmp_path / "train.ts"
    path.write_text("@data\n1,2,3:a\n3,2,1:b\n", encoding="utf-8")
    result = invoke("train", "classify-series", "--data", path, "--out", tmp_path / "run")
    assert result.exit_code == 2 and "pass the test series with --test" in result.output
    assert not (tmp_path / "run").exists()


def test_predict_command_reads_one_series_per_line(gunpoint_run, tmp_path):
    test = load_ucr("gunpoint", "TEST")
    path = tmp_path / "series.txt"
    lines = [",".join(f"{v:.8g}" for v in row) for row in test.values[:5]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("predict", gunpoint_run, "--data", path)
    assert result.exit_code == 0, result.output
    predicted = [line.rsplit("\t", 1)[1] for line in result.output.strip().splitlines()]
    assert predicted == rnnlab.load(gunpoint_run).predict(test.values[:5])
    path.write_text(lines[0] + "\n1,two,3\n", encoding="utf-8")
    result = invoke("predict", gunpoint_run, "--data", path)
    assert result.exit_code == 2 and "input 2: value 'two' is not a number" in result.output


def test_predict_writes_a_label_per_line_as_the_loaded_model_does(gunpoint_run, tmp_path):
    test = load_ucr("gunpoint", "TEST")
    lines = tmp_path / "series.txt"
    lines.write_text("".join(",".join(f"{v:.6g}" for v in row) + "\n" for row in test.values[:20]),
                     encoding="utf-8")  # fmt: skip
    out = tmp_path / "labels.tsv"
    result = invoke("predict", gunpoint_run, "--data", lines, "--out", out)
    assert result.exit_code == 0, result.output
    written = [line.split("\t")[1] for line in out.read_text("utf-8").splitlines()]
    rows = [[float(v) for v in line.split(",")] for line in lines.read_text("utf-8").split()]
    assert written == rnnlab.load(gunpoint_run).predict(rows)
    short = tmp_path / "short.txt"
    short.write_text("1,2,3\n", encoding="utf-8")
    result = invoke("predict", gunpoint_run, "--data", short, "--out", tmp_path / "x.tsv")
    assert result.exit_code == 2 and "expected series of 150 values" in result.output


def test_serve_labels_series_over_http(gunpoint_run):
    pytest.importorskip("fastapi", reason="the server needs fastapi and uvicorn")
    from rnnlab.serve import app_for, running_server
    from tests.serve.test_lm import post

    predictor = rnnlab.load(gunpoint_run)
    test = load_ucr("gunpoint", "TEST")
    rows = test.values[:5].tolist()
    with running_server(app_for(predictor, run=gunpoint_run)) as base:
        status, answer = post(f"{base}/predict", {"series": rows})
        assert status == 200, answer
        assert [p["label"] for p in answer["predictions"]] == predictor.predict(rows)
        expected = predictor.predict_proba(rows)
        for found, row in zip(answer["predictions"], expected, strict=True):
            assert list(found["probabilities"]) == predictor.labels
            np.testing.assert_allclose(list(found["probabilities"].values()), row, rtol=1e-6)
        status, answer = post(f"{base}/predict", {"series": [rows[0][:100]]})
        assert status == 422 and "expected series of 150 values" in answer["error"]
        status, answer = post(f"{base}/predict", {"texts": ["a"]})
        assert status == 422 and "error" in answer
        with urllib.request.urlopen(f"{base}/model", timeout=30) as response:
            info = json.loads(response.read())
        assert info["task"] == "classify_series" and info["preprocessing"]["length"] == 150
