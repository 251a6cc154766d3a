"""``rnnlab predict --backend ray`` on a translation run: a real local Ray cluster of 2
actors translates the source column of a folder of CSV files into a ``translation`` column,
every id once, each translation the one the single-process predictor gives (an empty source:
an empty translation); a folder of text files is translated line by line, each id naming
its file and line (blank lines skipped)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rnnlab.cli import app

from .conftest import TEN_PAIRS, multi30k_lines

ray = pytest.importorskip("ray", reason="batch prediction on Ray needs rnnlab[ray]")
pd = pytest.importorskip("pandas", reason="Ray batches are pandas frames")

from tests.deploy.test_ray_predict import cluster  # noqa: E402, F401  (the local cluster)


def test_two_actors_translate_every_row_once(cluster, memorised, tmp_path):  # noqa: F811
    from rnnlab.tasks.translate.predictor import save_translator

    model = save_translator(tmp_path / "model.safetensors", memorised)
    sources = [*(s for s, _ in TEN_PAIRS), "", *multi30k_lines("val", "de", 9)]
    table = pd.DataFrame({"id": [f"s{i:02d}" for i in range(len(sources))], "source": sources})
    (tmp_path / "in").mkdir()
    table.iloc[:12].to_csv(tmp_path / "in" / "a.csv", index=False)
    table.iloc[12:].to_csv(tmp_path / "in" / "b.csv", index=False)

    out = tmp_path / "translated"
    result = CliRunner().invoke(
        app,
        ["predict", str(model), "--data", str(tmp_path / "in"), "--out", str(out),
         "--backend", "ray", "--workers", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote {len(sources)} predictions" in result.output
    files = sorted(out.glob("*.parquet"))
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    assert list(frame.columns) == ["id", "translation"]
    assert len(frame) == len(sources) and frame["id"].is_unique
    found = dict(zip(frame["id"], frame["translation"].fillna(""), strict=True))
    kept = [s for s in sources if s]
    expected = dict(zip((s for s in sources if s), memorised.translate(kept), strict=True))
    assert found == {i: expected.get(s, "") for i, s in zip(table["id"], sources, strict=True)}
    assert found["s00"] == TEN_PAIRS[0][1]  # a memorised pair comes back right

    lines = tmp_path / "lines"
    lines.mkdir()
    (lines / "de.txt").write_text("\n".join(sources) + "\n", encoding="utf-8")  # line 11 blank
    result = CliRunner().invoke(
        app,
        ["predict", str(model), "--data", str(lines), "--out", str(tmp_path / "from-lines"),
         "--backend", "ray", "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "from-lines").glob("*.parquet"))
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    by_line = dict(zip(frame["id"], frame["translation"], strict=True))
    assert by_line == {f"de.txt:{n}": expected[s] for n, s in enumerate(sources, 1) if s}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # staged: gone

    missing = CliRunner().invoke(
        app,
        ["predict", str(model), "--data", str(tmp_path / "in"), "--out", str(tmp_path / "x"),
         "--backend", "ray", "--source-col", "de"],
    )  # fmt: skip
    assert missing.exit_code != 0
    assert "--source-col 'de': no such column" in " ".join(missing.output.split())
    assert not (tmp_path / "x").exists()
