"""The doors the translation task opens: ``rnnlab train/evaluate/predict translate`` on the
command line, and ``POST /translate`` on a real local server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app as cli

from .conftest import TEN_PAIRS


def test_predict_writes_one_translation_a_line(run, tmp_path):
    sources = [s for s, _ in TEN_PAIRS[:4]]
    (tmp_path / "in.txt").write_text("\n".join(sources) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["predict", str(run.run_dir), "--data", str(tmp_path / "in.txt"),
              "--out", str(tmp_path / "out.txt")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = (tmp_path / "out.txt").read_text("utf-8").splitlines()
    assert written == rnnlab.load(run.run_dir).translate(sources)
    piped = CliRunner().invoke(cli, ["predict", str(run.run_dir)], input=sources[0] + "\n")
    assert piped.exit_code == 0, piped.output
    assert piped.stdout.splitlines()[0] == written[0]


def test_evaluate_prints_bleu_beside_the_copy_baseline(run):
    result = CliRunner().invoke(cli, ["evaluate", str(run.run_dir)])
    assert result.exit_code == 0, result.output
    assert "copy the source" in result.output and "nrefs:1|case:mixed" in result.output


def test_train_refuses_misaligned_files_in_one_sentence(tmp_path):
    (tmp_path / "a.de").write_text("eins\nzwei\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("one\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["train", "translate", "--data", str(tmp_path / "a.de"), "--target-data",
              str(tmp_path / "a.en"), "--out", str(tmp_path / "run")],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "aligned line by line" in result.output
    assert not (tmp_path / "run").exists()


def _post(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_translate_over_http_with_the_beam_bounded(run):
    pytest.importorskip("uvicorn", reason="the server needs uvicorn")
    from rnnlab.serve import ServeConfig, app_for, running_server
    from rnnlab.serve.translate import MAX_BEAM

    predictor = rnnlab.load(run.run_dir)
    app = app_for(predictor, run=run.run_dir, config=ServeConfig(max_texts=4))
    with running_server(app) as base:
        status, found = _post(f"{base}/translate", {"texts": ["Ein Hund rennt.", "Zwei Männer."]})
        assert status == 200
        assert found["translations"] == predictor.translate(["Ein Hund rennt.", "Zwei Männer."])
        status, found = _post(f"{base}/translate", {"text": "Ein Hund.", "beam": 1})
        assert status == 200 and found["beam"] == 1
        status, error = _post(f"{base}/translate", {"text": "Ein Hund.", "beam": MAX_BEAM + 1})
        assert status == 422 and "error" in error


def test_score_gives_the_surprisal_of_reference_translations(run, tmp_path):
    (tmp_path / "pairs.tsv").write_text("Ein Hund rennt.\tA dog runs.\nZwei Männer.\tTwo men.\n",
                                        encoding="utf-8")  # fmt: skip
    result = CliRunner().invoke(cli, ["score", str(run.run_dir), "--data",
                                      str(tmp_path / "pairs.tsv"), "--out",
                                      str(tmp_path / "s.jsonl")])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text("utf-8").splitlines()]
    expected = rnnlab.load(run.run_dir).surprisal(["Ein Hund rennt."], ["A dog runs."])[0]
    assert rows[0]["tokens"] == expected.tokens
    assert rows[0]["total_bits"] == pytest.approx(expected.total_bits, abs=1e-4)


def test_evaluate_other_aligned_files_from_the_command_line(run, subset_files):
    result = CliRunner().invoke(
        cli, ["evaluate", str(run.run_dir), "--data", str(subset_files["valid.de"]),
              "--target-data", str(subset_files["valid.en"]), "--name", "val100"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((run.run_dir / "evaluations" / "val100" / "metrics.json").read_text())
    assert metrics["num_sentences"] == 100
