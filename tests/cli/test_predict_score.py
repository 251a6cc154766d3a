"""``rnnlab predict`` and ``rnnlab score`` through the real command line on tiny real runs:
text files in, standard input, out-of-vocabulary marks, punctuation, per-text totals,
forecast rounding and column names, and never replacing a file without --overwrite."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app
from rnnlab.deploy.batch_predict import MANIFEST, parts_dir, predict_file
from tests.tiny_run import train_tiny_run


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here on one torch thread."""


def invoke(*args: str | Path, stdin: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=stdin)


def one_sentence_error(result, *fragments: str) -> str:
    """Exit status 2, one line on stderr naming what is wrong, nothing on stdout."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and not result.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def tsv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


# --------------------------------------------------------------------------- classify


@pytest.fixture(scope="module")
def classifier(rotten_tomatoes, tmp_path_factory) -> Path:
    return train_tiny_run(tmp_path_factory.mktemp("classify"), rotten_tomatoes, n=300)


@pytest.fixture(scope="module")
def reviews(rotten_tomatoes) -> list[str]:
    """Real review snippets, commas and quotes included (a text file needs no quoting)."""
    return rotten_tomatoes.valid.texts[:40]


def with_blank_lines(texts: list[str]) -> str:
    """The texts one per line, with blank and whitespace-only lines between some of them."""
    lines = []
    for i, text in enumerate(texts):
        lines.append(text)
        if i % 7 == 3:
            lines += ["", "   "]
    return "\n".join(lines) + "\n"


def test_predict_reads_a_txt_file_one_text_per_line(classifier, reviews, tmp_path):
    data = tmp_path / "reviews.txt"
    data.write_text(with_blank_lines(reviews), encoding="utf-8")
    result = invoke("predict", classifier, "--data", data)
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.stdout)
    assert [r["text"] for r in rows] == reviews  # blank lines skipped, order kept
    expected = rnnlab.load(classifier).predict_proba(reviews)
    probs = [[float(r["p_neg"]), float(r["p_pos"])] for r in rows]
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    out = tmp_path / "labelled.csv"
    result = invoke("predict", classifier, "--data", data, "--out", out, "--chunk-rows", "9")
    assert result.exit_code == 0, result.output
    assert csv_rows(out.read_text(encoding="utf-8")) == rows  # streamed in chunks: the same
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labelled.csv", "reviews.txt"]


def test_format_text_reads_lines_whatever_the_suffix(classifier, reviews, tmp_path):
    data = tmp_path / "reviews.csv"  # raw lines with commas: not a CSV table at all
    data.write_text(with_blank_lines(reviews[:12]), encoding="utf-8")
    for name in ("text", "txt"):
        result = invoke("predict", classifier, "--data", data, "--format", name)
        assert result.exit_code == 0, result.output
        assert [r["text"] for r in csv_rows(result.stdout)] == reviews[:12]
    refused = invoke("predict", classifier, "--data", data, "--format", "text", "--text-col", "x")
    one_sentence_error(refused, "--text-col", "every non-blank line is one text")
    odd = tmp_path / "reviews.dat"
    odd.write_text("A triumph.\n", encoding="utf-8")
    message = one_sentence_error(invoke("predict", classifier, "--data", odd), "reviews.dat")
    assert "pass --format csv|tsv|jsonl|parquet" in message and message.endswith("|text.")
    assert "format=" not in message  # a flag, not Python syntax


def test_predict_never_replaces_a_file_without_overwrite(classifier, reviews, tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("\n".join(reviews[:5]) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("precious\n", encoding="utf-8")
    for args in (["--data", data], []):  # from a file and from stdin
        result = invoke("predict", classifier, *args, "--out", out, stdin="Fine.\n")
        one_sentence_error(result, f"{out} exists; pass --overwrite to replace it")
        assert out.read_text(encoding="utf-8") == "precious\n"
    result = invoke("predict", classifier, "--data", data, "--out", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert [r["text"] for r in csv_rows(out.read_text(encoding="utf-8"))] == reviews[:5]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.csv"]  # no temp file


def test_an_interrupted_text_job_resumes_and_may_finish_over_its_old_output(
    classifier, reviews, tmp_path
):
    """A job begun with --overwrite on an existing --out, then interrupted, resumes without
    --overwrite (it finishes what was allowed); the committed chunks are not redone."""
    data = tmp_path / "in.txt"
    data.write_text(with_blank_lines(reviews), encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("the previous output\n", encoding="utf-8")

    def stop_after_two_chunks(info):
        if info.rows >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        predict_file(rnnlab.load(classifier), data, out, chunk_rows=10,
                     on_progress=stop_after_two_chunks)  # fmt: skip
    manifest = json.loads((parts_dir(out) / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["input_format"] == "text" and len(manifest["parts"]) == 2
    result = invoke("predict", classifier, "--data", data, "--out", out, "--chunk-rows", "10",
                    "--resume")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "resuming after 20 committed rows" in result.stderr
    assert [r["text"] for r in csv_rows(out.read_text(encoding="utf-8"))] == reviews
    assert not parts_dir(out).exists()


# --------------------------------------------------------------------------- score


@pytest.fixture(scope="module")
def lm_run(rotten_tomatoes, tmp_path_factory) -> Path:
    """A word model on 400 real review snippets, pre-tokenised (punctuation spaced off)."""
    folder = tmp_path_factory.mktemp("lm")
    corpus = folder / "train.txt"
    corpus.write_text("\n".join(rotten_tomatoes.train.texts[:400]) + "\n", encoding="utf-8")
    result = invoke(
        "train", "lm", "--data", corpus, "--tokenizer", "whitespace", "--epochs", "1",
        "--embedding-dim", "16", "--hidden-size", "16", "--num-layers", "1", "--bptt", "20",
        "--batch-size", "10", "--device", "cpu", "--seed", "0", "--out", folder / "run",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder / "run"


SENTENCES = ["the film is a triumph .", "a zyzzyva of a movie , dull and long ."]


def test_score_reads_stdin_and_marks_words_outside_the_vocabulary(lm_run, tmp_path):
    result = invoke("score", lm_run, stdin="\n".join(SENTENCES) + "\n\n")
    assert result.exit_code == 0, result.output
    rows = tsv_rows(result.stdout)
    assert list(rows[0])[:4] == ["text", "token_index", "token", "surprisal_bits"]  # as before
    assert [r["token"] for r in rows] == " ".join(SENTENCES).split()
    oov = {r["token"]: r["oov"] for r in rows}
    assert oov["zyzzyva"] == "true"
    assert oov["the"] == oov["film"] == oov["."] == "false"
    assert set(oov.values()) == {"true", "false"}
    assert "outside the vocabulary" in result.stderr and "<unk>" in result.stderr
    assert invoke("score", lm_run, "--data", "-", stdin="\n".join(SENTENCES)).stdout == (
        result.stdout
    )  # --data - is stdin too
    lm = rnnlab.load(lm_run)
    expected = [b for s in lm.surprisal(SENTENCES) for b in s.bits]
    np.testing.assert_allclose([float(r["surprisal_bits"]) for r in rows], expected, atol=1e-5)


def test_punctuation_in_the_vocabulary_is_kept_when_glued_to_words(lm_run, tmp_path):
    glued = "the film is a triumph, and dull."
    data = tmp_path / "texts.txt"
    data.write_text(f"{glued}\n", encoding="utf-8")
    out = tmp_path / "s.jsonl"
    result = invoke("score", lm_run, "--data", data, "--out", out)
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    spaced = "the film is a triumph , and dull ."
    assert record["tokens"] == spaced.split()  # as the pre-tokenised corpus had them
    assert not any(record["oov"])
    (again,) = rnnlab.load(lm_run).surprisal([spaced])
    np.testing.assert_allclose(record["surprisal_bits"], again.bits, atol=1e-5)


def test_per_text_totals_are_the_sums_of_the_token_surprisals(lm_run, tmp_path):
    result = invoke("score", lm_run, stdin="\n".join(SENTENCES) + "\n")
    assert result.exit_code == 0, result.output
    rows = tsv_rows(result.stdout)
    for i, sentence in enumerate(SENTENCES):
        mine = [r for r in rows if r["text"] == str(i)]
        bits = [float(r["surprisal_bits"]) for r in mine]
        total, count = float(mine[0]["text_total_bits"]), int(mine[0]["text_tokens"])
        assert count == len(sentence.split()) == len(mine)
        assert total == pytest.approx(sum(bits), abs=1e-4)
        assert float(mine[0]["text_mean_bits"]) == pytest.approx(total / count, abs=1e-5)
        assert float(mine[0]["text_perplexity"]) == pytest.approx(2 ** (total / count),
                                                                   rel=1e-4)  # fmt: skip
        assert all(r["text_total_bits"] == mine[0]["text_total_bits"] for r in mine)
    out = tmp_path / "s.jsonl"
    assert invoke("score", lm_run, "--out", out, stdin=SENTENCES[1]).exit_code == 0
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["num_tokens"] == len(record["tokens"]) == len(record["oov"])
    assert record["total_bits"] == pytest.approx(sum(record["surprisal_bits"]), abs=1e-4)
    assert record["perplexity"] == pytest.approx(2 ** record["mean_bits"], rel=1e-4)


def test_score_never_replaces_a_file_without_overwrite(lm_run, tmp_path):
    out = tmp_path / "s.tsv"
    out.write_text("precious\n", encoding="utf-8")
    result = invoke("score", lm_run, "--out", out, stdin=SENTENCES[0])
    one_sentence_error(result, f"{out} exists; pass --overwrite to replace it")
    assert out.read_text(encoding="utf-8") == "precious\n"
    result = invoke("score", lm_run, "--out", out, "--overwrite", stdin=SENTENCES[0])
    assert result.exit_code == 0, result.output
    assert [r["token"] for r in tsv_rows(out.read_text(encoding="utf-8"))] == (SENTENCES[0].split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.tsv"]


# --------------------------------------------------------------------------- forecast


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory) -> tuple[Path, Path]:
    """A forecaster on the airline passengers in hundreds (two decimals: 1.12, 1.18, …)."""
    pytest.importorskip("statsforecast", reason="forecast runs print statsforecast's baselines")
    pytest.importorskip("sktime", reason="airline ships inside sktime")
    from rnnlab.data.series import load_series

    series = load_series("airline").series[0]
    folder = tmp_path_factory.mktemp("forecast")
    data = folder / "hundreds.csv"
    data.write_text("ds,y\n" + "".join(f"{t.date()},{v / 100:.2f}\n" for t, v in
                                       zip(series.times, series.values, strict=True)))  # fmt: skip
    result = invoke(
        "train", "forecast", "--data", data, "--horizon", "4", "--windows", "1",
        "--quantiles", "0.025,0.1,0.25,0.5,0.9,0.975", "--combine", "none", "--ensemble", "1",
        "--epochs", "1", "--hidden-size", "8", "--seed", "0", "--device", "cpu",
        "--out", folder / "run",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder / "run", data


def test_forecast_csv_names_each_column_once_rounded_as_the_data(forecast_run, tmp_path):
    run, data = forecast_run
    result = invoke("predict", run)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    header = lines[0].split(",")
    assert len(header) == len(set(header))
    # q0.5 is the forecast and q0.1 … q0.975 the interval bounds: named once each; 0.25 has
    # no partner, so it keeps its quantile column.
    assert header == ["unique_id", "ds", "forecast", "lo-80", "hi-80", "lo-95", "hi-95", "q0.25"]
    expected = rnnlab.load(run).forecast(horizon=4)
    for line, step in zip(lines[1:], expected, strict=True):
        cells = dict(zip(header, line.split(","), strict=True))
        for name in header[2:]:
            assert len(cells[name].split(".")[1]) == 2, cells[name]  # two decimals, as data
            assert float(cells[name]) == pytest.approx(step[name], abs=0.005 + 1e-9)
    out = tmp_path / "f.jsonl"
    assert invoke("predict", run, "--data", data, "--out", out).exit_code == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert list(records[0]) == header
    assert all(round(v, 2) == v for r in records for v in list(r.values())[2:])
    again = invoke("predict", run, "--out", out)
    one_sentence_error(again, f"{out} exists; pass --overwrite to replace it")


def test_the_decimals_of_the_data_survive_float32_and_stop_at_six():
    from rnnlab.tasks.forecast.workflow import value_decimals

    assert value_decimals(np.array([112.0, 118.0, 132.0])) == 0
    assert value_decimals(np.array([1.12, 1.18]), np.array([3.5])) == 2
    assert value_decimals(np.array([1.12, 1.18], dtype=np.float32)) == 2  # not 1.1200000047…
    assert value_decimals(np.array([math.pi, 1.0])) == 6
    assert value_decimals(np.array([np.nan, 2.5])) == 1


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])
def test_predict_reads_tables_and_text_files_in_their_own_encoding(
    classifier, reviews, tmp_path, encoding
):
    """The same reviews saved as UTF-8 and in another encoding, as a ;-delimited CSV and a
    text file: the same labels and probabilities, detected or named with --encoding."""
    texts = [t + " — café “très” bien" for t in reviews[:15]]
    reference = tmp_path / "utf8.csv"
    with reference.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "text"], *[[i, t] for i, t in enumerate(texts)]])
    expected = csv_rows(invoke("predict", classifier, "--data", reference).stdout)
    table = tmp_path / f"{encoding}.csv"
    with table.open("w", newline="", encoding=encoding) as handle:
        rows = [["id", "text"], *[[i, t] for i, t in enumerate(texts)]]
        csv.writer(handle, delimiter=";").writerows(rows)
    lines = tmp_path / f"{encoding}.txt"
    lines.write_text("\n".join(texts) + "\n", encoding=encoding)
    for args in (
        ("--data", table),
        ("--data", table, "--encoding", encoding, "--delimiter", ";"),
        ("--data", lines),
        ("--data", lines, "--encoding", encoding),
    ):
        result = invoke("predict", classifier, *args)
        assert result.exit_code == 0, result.output
        assert csv_rows(result.stdout) == expected
    one_sentence_error(
        invoke("predict", classifier, "--data", lines, "--delimiter", ";"), "--delimiter"
    )
