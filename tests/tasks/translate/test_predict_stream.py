"""``rnnlab predict`` on a translation run streams like the classifier's batch prediction:
chunked output equals unchunked output, blank lines keep their place, ``.gz`` and tables
(source column in, source and ``translation`` columns out) are read in chunks, and an
interrupted ``--out`` job continued with ``--resume`` writes the same file as one that ran
through."""

from __future__ import annotations

import csv
import gzip
import json

import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.deploy.batch_predict import MANIFEST, parts_dir

from .conftest import TEN_PAIRS, multi30k_lines

SOURCES = [source for source, _ in TEN_PAIRS]


@pytest.fixture(scope="module")
def model_file(memorised, tmp_path_factory):
    """The model that memorised :data:`TEN_PAIRS`, saved as a one-file model."""
    from rnnlab.tasks.translate.predictor import save_translator

    return save_translator(tmp_path_factory.mktemp("translator") / "model.safetensors", memorised)


@pytest.fixture(scope="module")
def lines():
    """The memorised sentences, four real Multi30K test sentences, and blank lines (one
    of them only spaces) among them: 17 lines."""
    real = multi30k_lines("test_2016_flickr", "de", 4)
    return [*SOURCES[:4], "", *real[:2], "   ", *SOURCES[4:], *real[2:], ""]


def expected_lines(memorised, lines: list[str]) -> list[str]:
    """One translation per input line, an empty one for a blank line."""
    kept = [line for line in lines if line.strip()]
    found = iter(memorised.translate(kept))
    return [next(found) if line.strip() else "" for line in lines]


def predict(*args: object, stdin: str | None = None):
    result = CliRunner().invoke(app, ["predict", *map(str, args)], input=stdin)
    return result


def test_chunked_equals_unchunked_and_line_i_translates_line_i(
    model_file, memorised, lines, tmp_path
):
    data = tmp_path / "src.de"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = predict(model_file, "--data", data, "--out", tmp_path / "whole.en")
    assert whole.exit_code == 0, whole.output
    assert f"wrote {len(lines)} translations to" in whole.output
    chunked = predict(model_file, "--data", data, "--out", tmp_path / "chunked.en",
                      "--chunk-rows", "3")  # fmt: skip
    assert chunked.exit_code == 0, chunked.output
    text = (tmp_path / "whole.en").read_text(encoding="utf-8")
    assert (tmp_path / "chunked.en").read_text(encoding="utf-8") == text
    assert text.splitlines() == expected_lines(memorised, lines)
    assert text.splitlines()[:4] == [target for _, target in TEN_PAIRS[:4]]  # memorised
    assert text.splitlines()[4] == ""  # the blank line keeps its place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked.en", "src.de", "whole.en"]

    packed = tmp_path / "src.de.gz"
    packed.write_bytes(gzip.compress(data.read_bytes()))
    streamed = predict(model_file, "--data", packed, "--chunk-rows", "5")  # to stdout
    assert streamed.exit_code == 0, streamed.output
    assert streamed.stdout == text
    piped = predict(model_file, "--chunk-rows", "2", stdin=data.read_text(encoding="utf-8"))
    assert piped.exit_code == 0, piped.output
    assert piped.stdout == text


def test_a_table_gets_its_source_and_translation_columns(model_file, memorised, tmp_path):
    pd = pytest.importorskip("pandas", reason="the Parquet input is written with pandas")
    real = multi30k_lines("val", "de", 3)
    sources = [*SOURCES[:5], *real]
    data = tmp_path / "in.csv"
    with open(data, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "de"])
        writer.writerows([i, s] for i, s in enumerate(sources))
    expected = memorised.translate(sources)
    result = predict(model_file, "--data", data, "--source-col", "de", "--out",
                     tmp_path / "out.csv", "--chunk-rows", "3")  # fmt: skip
    assert result.exit_code == 0, result.output
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [list(row) for row in rows[:1]] == [["de", "translation"]]
    assert [row["de"] for row in rows] == sources
    assert [row["translation"] for row in rows] == expected

    pd.DataFrame({"source": sources}).to_parquet(tmp_path / "in.parquet")
    for out in ("out.parquet", "out.jsonl"):
        result = predict(model_file, "--data", tmp_path / "in.parquet", "--out", tmp_path / out,
                         "--chunk-rows", "4")  # fmt: skip
        assert result.exit_code == 0, result.output
    frame = pd.read_parquet(tmp_path / "out.parquet")
    assert list(frame.columns) == ["source", "translation"]
    assert frame["translation"].tolist() == expected
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert records == [{"source": s, "translation": t} for s, t in zip(sources, expected,
                                                                       strict=True)]  # fmt: skip


def test_an_interrupted_job_resumed_writes_the_same_file(model_file, lines, tmp_path, monkeypatch):
    from rnnlab.cli.progress import BatchProgressDisplay

    data = tmp_path / "src.de"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = predict(model_file, "--data", data, "--out", tmp_path / "whole.en")
    assert whole.exit_code == 0, whole.output

    out = tmp_path / "resumed.en"
    update = BatchProgressDisplay.update

    def stop_after_the_first_commit(self, info):
        update(self, info)
        raise KeyboardInterrupt

    monkeypatch.setattr(BatchProgressDisplay, "update", stop_after_the_first_commit)
    stopped = predict(model_file, "--data", data, "--out", out, "--chunk-rows", "6")
    assert stopped.exit_code == 130
    assert "run the same command with --resume to continue" in stopped.output
    assert not out.exists()
    manifest = json.loads((parts_dir(out) / MANIFEST).read_text(encoding="utf-8"))
    assert [part["rows"] for part in manifest["parts"]] == [6]

    monkeypatch.setattr(BatchProgressDisplay, "update", update)
    other = predict(model_file, "--data", data, "--out", out, "--chunk-rows", "5", "--resume")
    assert other.exit_code != 0
    assert "'chunk_rows' differs from the interrupted job" in " ".join(other.output.split())
    resumed = predict(model_file, "--data", data, "--out", out, "--chunk-rows", "6", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "resuming after 6 committed rows" in resumed.output
    assert out.read_text(encoding="utf-8") == (tmp_path / "whole.en").read_text(encoding="utf-8")
    assert not parts_dir(out).exists()


def test_resume_needs_out_and_a_file(model_file, tmp_path):
    data = tmp_path / "src.de"
    data.write_text("Ein Hund rennt.\n", encoding="utf-8")
    result = predict(model_file, "--data", data, "--resume")
    assert result.exit_code == 2
    assert (
        "--resume: not supported without --out, as translations written to stdout cannot be "
        "resumed; drop it, or write to a file with --out." in " ".join(result.output.split())
    )
    result = predict(model_file, "--out", tmp_path / "o.en", "--resume", stdin="Ein Hund.\n")
    assert result.exit_code == 2
    assert "not supported without --data, as standard input cannot be read again" in " ".join(
        result.output.split()
    )
    assert not (tmp_path / "o.en").exists()


def test_a_missing_source_column_names_the_translation_flag(model_file, tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("de\nEin Hund rennt.\n", encoding="utf-8")
    result = predict(model_file, "--data", data, "--out", tmp_path / "out.csv")
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "no text column 'source'; the columns are 'de'" in message
    assert "with --source-col" in message
    assert "--text-col" not in message
    assert not (tmp_path / "out.csv").exists() and not parts_dir(tmp_path / "out.csv").exists()


def test_a_truncated_gz_is_one_sentence(model_file, tmp_path):
    packed = gzip.compress("\n".join(SOURCES).encode("utf-8"))
    (tmp_path / "cut.de.gz").write_bytes(packed[: len(packed) // 2])
    result = predict(model_file, "--data", tmp_path / "cut.de.gz", "--out", tmp_path / "o.en")
    assert result.exit_code == 2
    assert "cut.de.gz cannot be decompressed" in " ".join(result.output.split())
    assert not (tmp_path / "o.en").exists() and not parts_dir(tmp_path / "o.en").exists()
