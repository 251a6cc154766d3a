from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RNNLAB = str(Path(sys.executable).parent / "rnnlab")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RNNLAB, "embed", *args], capture_output=True, text=True, timeout=300)


def test_train_eval_neighbors(imdb_file, tmp_path):
    out = tmp_path / "vecs"
    done = run(
        "train",
        "--data",
        str(imdb_file),
        "--method",
        "cbow",
        "--embedding-dim",
        "20",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert "words/s" in done.stdout and (out / "vectors.safetensors").is_file()
    ev = run("eval", str(out))
    assert ev.returncode == 0, ev.stderr
    assert "7,074 most frequent" in ev.stdout and "wordsim353: Spearman rho" in ev.stdout
    nb = run("neighbors", str(out), "good", "--top-k", "3")
    assert nb.returncode == 0 and len(nb.stdout.strip().splitlines()) == 3
    conv = run("convert", str(out), "--to", "glove", "--out", str(tmp_path / "g.txt"))
    assert conv.returncode == 0, conv.stderr
    weat = run(
        "weat",
        str(out),
        "--x",
        "good,great",
        "--y",
        "bad,awful",
        "--a",
        "love,fun",
        "--b",
        "boring,waste",
    )
    assert weat.returncode == 0 and "effect size" in weat.stdout, weat.stderr


def test_errors_are_one_sentence(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2\nb 1\n", encoding="utf-8")
    done = run("eval", str(bad))
    assert done.returncode == 2 and "line 2" in done.stderr and "Traceback" not in done.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    out = tmp_path / "out"
    done = run("train", "--corpus", str(empty), "--out", str(out))
    assert done.returncode == 2 and "no tokens" in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".out*"))
    done = run("train", "--corpus", str(empty), "--method", "nope", "--out", str(out))
    assert done.returncode == 2 and "method: expected one of" in done.stderr
    # --corpus is the older name of --data: both at once, with different values, is refused.
    done = run("train", "--data", "imdb", "--corpus", str(empty), "--out", str(out))
    assert done.returncode == 2 and "--data and --corpus (its older name)" in done.stderr
    done = run("neighbors", str(tmp_path / "missing"), "good")
    assert done.returncode == 2 and "does not exist" in done.stderr
