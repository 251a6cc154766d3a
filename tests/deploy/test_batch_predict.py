"""Streaming batch prediction on real files: order, formats, chunk commits, resume, errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rnnlab
from rnnlab.deploy.batch_predict import MANIFEST, parts_dir, predict_file
from rnnlab.errors import ConfigError, DataError
from tests.reliability.outcomes import record
from tests.tiny_run import train_tiny_run

RNNLAB = Path(sys.executable).parent / "rnnlab"


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here on one torch thread."""


@pytest.fixture(scope="module")
def run(rotten_tomatoes, tmp_path_factory) -> Path:
    return train_tiny_run(tmp_path_factory.mktemp("run"), rotten_tomatoes, n=600)


@pytest.fixture(scope="module")
def texts(rotten_tomatoes) -> list[str]:
    """437 real review snippets with quotes, commas and non-ASCII characters intact."""
    return rotten_tomatoes.test.texts[:437]


@pytest.fixture(scope="module")
def table(texts, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "in.parquet"
    pq.write_table(
        pa.table({"id": list(range(len(texts))), "review": texts}), path, row_group_size=50
    )
    return path


def read_output(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class Counting:
    """A predictor wrapper that counts the texts it labels (to see what resume recomputes)."""

    def __init__(self, predictor) -> None:
        self.predictor = predictor
        self.seen = 0

    def __getattr__(self, name):
        return getattr(self.predictor, name)

    def predict_proba(self, texts, batch_size=64):
        self.seen += len(texts)
        return self.predictor.predict_proba(texts, batch_size=batch_size)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_every_row_in_input_order_with_the_predictor_s_probabilities(
    run, texts, table, tmp_path, suffix
):
    predictor = rnnlab.load(run)
    out = tmp_path / f"out{suffix}"
    reports = []
    summary = predict_file(
        predictor, table, out, text_col="review", chunk_rows=60, on_progress=reports.append
    )
    rows = read_output(out)
    assert summary.rows == len(rows) == len(texts)
    assert [r["text"] for r in rows] == texts
    assert list(rows[0]) == ["text", "label", "p_neg", "p_pos"]
    probs = np.array([[float(r["p_neg"]), float(r["p_pos"])] for r in rows])
    np.testing.assert_allclose(probs, predictor.predict_proba(texts), atol=1e-6)
    assert [r["label"] for r in rows] == predictor.predict(texts)
    assert [r.rows for r in reports] == [*range(60, 437, 60), 437]  # one report per chunk
    assert reports[-1].total == 437  # Parquet knows its size up front
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # parts removed


def test_an_interrupted_job_resumes_without_losing_or_repeating_rows(run, texts, table, tmp_path):
    out = tmp_path / "out.parquet"
    first = Counting(rnnlab.load(run))

    def interrupt_after_three_chunks(info):
        if info.rows >= 150:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        predict_file(
            first,
            table,
            out,
            text_col="review",
            chunk_rows=50,
            on_progress=interrupt_after_three_chunks,
        )
    assert not out.exists()
    manifest = json.loads((parts_dir(out) / MANIFEST).read_text(encoding="utf-8"))
    assert [p["rows"] for p in manifest["parts"]] == [50, 50, 50]

    second = Counting(rnnlab.load(run))
    summary = predict_file(second, table, out, text_col="review", chunk_rows=50, resume=True)
    assert second.seen == len(texts) - 150  # committed chunks are not predicted again
    assert summary.resumed_rows == 150
    rows = read_output(out)
    assert [r["text"] for r in rows] == texts
    expected = rnnlab.load(run).predict_proba(texts)
    np.testing.assert_allclose([[r["p_neg"], r["p_pos"]] for r in rows], expected, atol=1e-6)
    assert not parts_dir(out).exists()
    record(
        "batch prediction interrupted",
        "predict --out interrupted mid-file, then --resume",
        "no row lost or repeated",
    )


def test_resume_refuses_a_changed_input_or_settings(run, texts, tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("review\n" + "".join(f'"{t.replace(chr(34), 2 * chr(34))}"\n' for t in texts))
    out = tmp_path / "out.csv"

    def stop(info):
        raise KeyboardInterrupt

    predictor = rnnlab.load(run)
    with pytest.raises(KeyboardInterrupt):
        predict_file(predictor, data, out, text_col="review", chunk_rows=100, on_progress=stop)
    with pytest.raises(ConfigError, match="'chunk_rows' differs from the interrupted job"):
        predict_file(predictor, data, out, text_col="review", chunk_rows=10, resume=True)
    with open(data, "a", encoding="utf-8") as handle:
        handle.write("one more row\n")
    with pytest.raises(ConfigError, match="the input file differs from the interrupted job"):
        predict_file(predictor, data, out, text_col="review", chunk_rows=100, resume=True)
    assert parts_dir(out).is_dir() and not out.exists()  # kept for the user to decide
    predict_file(predictor, data, out, text_col="review", chunk_rows=100)  # no --resume: anew
    assert len(read_output(out)) == len(texts) + 1


def test_chunks_are_committed_before_the_rest_of_the_file_is_read(run, texts, tmp_path):
    """Streaming, not load-then-predict: a bad line at the end is found after earlier chunks
    were predicted; the error names the line and no output or parts are left behind."""
    data = tmp_path / "in.jsonl"
    lines = [json.dumps({"review": t}) for t in texts[:120]] + ["{broken"]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    reports = []
    with pytest.raises(DataError, match=r"line 121 \(row 121\): not valid JSON"):
        predict_file(
            rnnlab.load(run),
            data,
            out,
            text_col="review",
            chunk_rows=25,
            on_progress=reports.append,
        )
    assert [r.rows for r in reports] == [25, 50, 75, 100]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_empty_texts_stop_the_job_or_are_skipped(run, texts, tmp_path):
    data = tmp_path / "in.csv"
    rows = [[t] for t in texts[:30]]
    rows[7] = [""]
    with open(data, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["review"], *rows])
    out = tmp_path / "out.csv"
    with pytest.raises(DataError, match=r"row 8 .line 9.\); fill them in, or pass --skip-empty"):
        predict_file(rnnlab.load(run), data, out, text_col="review")
    summary = predict_file(rnnlab.load(run), data, out, text_col="review", skip_empty=True)
    assert (summary.rows, summary.dropped_empty) == (29, 1)
    assert [r["text"] for r in read_output(out)] == [t for i, t in enumerate(texts[:30]) if i != 7]


def test_unknown_output_format_is_refused_before_reading(run, table, tmp_path):
    with pytest.raises(ConfigError, match=r"--out .*out\.xlsx: cannot tell the output format"):
        predict_file(rnnlab.load(run), table, tmp_path / "out.xlsx", text_col="review")
    assert list(tmp_path.iterdir()) == []


def test_cli_resumes_an_interrupted_job_and_reports_speed(run, texts, table, tmp_path):
    out = tmp_path / "out.csv"

    def stop(info):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        predict_file(
            rnnlab.load(run), table, out, text_col="review", chunk_rows=100, on_progress=stop
        )
    result = subprocess.run(
        [str(RNNLAB), "predict", str(run), "--data", str(table), "--out", str(out),
         "--text-col", "review", "--chunk-rows", "100", "--resume", "--engine", "onnx"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "resuming after 100 committed rows" in result.stderr
    assert f"wrote {len(texts)} predictions to {out} (" in result.stderr
    assert "rows/s" in result.stderr
    rows = read_output(out)
    assert [r["text"] for r in rows] == texts
    expected = rnnlab.load(run).predict_proba(texts)  # torch; the CLI ran onnxruntime
    np.testing.assert_allclose(
        [[float(r["p_neg"]), float(r["p_pos"])] for r in rows], expected, atol=2e-6
    )


def invoke(*args: str | Path, stdin: str | None = None):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=stdin)


def test_cli_refuses_table_options_that_would_have_no_effect(run, table, tmp_path):
    result = invoke("predict", run, "--chunk-rows", "10", "--skip-empty", stdin="Fine.\n")
    assert result.exit_code == 2
    assert (
        "--chunk-rows, --skip-empty: not supported without --data, where every non-blank line "
        "of stdin is one text; drop them, or pass a table with --data." in result.output
    )
    result = invoke("predict", run, "--data", table, "--text-col", "review", "--resume")
    assert result.exit_code == 2
    assert "--resume: not supported without --out, as CSV on stdout cannot be resumed" in (
        result.output
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_cli_writes_stdin_lines_in_the_format_of_out(run, texts, tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    result = invoke("predict", run, "--out", out, stdin="\n".join(texts[:9]) + "\n")
    assert result.exit_code == 0, result.output
    rows = read_output(out)
    assert [r["text"] for r in rows] == texts[:9]
    expected = rnnlab.load(run).predict_proba(texts[:9])
    np.testing.assert_allclose([[r["p_neg"], r["p_pos"]] for r in rows], expected, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_stream_writes_the_header_once_when_a_chunk_is_all_empty(run, texts, tmp_path):
    import io

    from rnnlab.deploy.batch_predict import stream_csv

    data = tmp_path / "in.csv"
    with open(data, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["review"], [""], [""], *[[t] for t in texts[:5]]])
    sink = io.StringIO()
    count = stream_csv(
        rnnlab.load(run), data, sink, text_col="review", chunk_rows=2, skip_empty=True
    )
    assert count == 5
    lines = list(csv.reader(io.StringIO(sink.getvalue())))
    assert lines[0] == ["text", "label", "p_neg", "p_pos"]
    assert [line[0] for line in lines[1:]] == texts[:5]  # no second header
