"""Fuzzing the other readers: series tables, UCR .ts files, language-model text corpora and
word-vector files, each fed mutated copies of a valid file.

Property: a result or an RnnlabError with one sentence.
"""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="fuzzing needs hypothesis (a dev extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rnnlab.data.ucr import read_ts  # noqa: E402
from rnnlab.embeddings.formats import read_vectors  # noqa: E402
from rnnlab.tasks.lm.data import read_documents  # noqa: E402
from tests.reliability.mutate import MUTATED, mutated_file  # noqa: E402
from tests.reliability.outcomes import tried  # noqa: E402

FUZZ = settings(
    max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
LONG = (
    b"unique_id,ds,y\n"
    + b"".join(b"a,2020-%02d-01,%d\n" % (m, 100 + m) for m in range(1, 13))
    + b"".join(b"b,2020-%02d-01,%d.5\n" % (m, 7 * m) for m in range(1, 13))
)
TS = (
    b"@problemName Tiny\n@timeStamps false\n@univariate true\n@classLabel true 1 2\n@data\n"
    b"1.0,2.0,3.0,2.5:1\n0.5,0.1,-1.0,0.0:2\n3.0,3.5,4.0,4.5:1\n"
)
CORPUS = "The cat sat on the mat .\nA dog ran .\n\n中文 句子 。\n".encode()
TEXT_VECTORS = b"3 4\ncat 0.1 0.2 0.3 0.4\ndog -1 0 1 2\n\xc3\xa9t\xc3\xa9 1e-3 2 3 4\n"


@FUZZ
@given(data=st.data())
def test_series_tables(tmp_path, data):
    pytest.importorskip("pandas", reason="series tables are read with pandas")
    from rnnlab.data.series import read_series

    path = mutated_file(tmp_path, "series.csv", data, LONG)
    with tried("series table .csv: mutated file", f"read_series on long CSV tables {MUTATED}"):
        read_series(path)


@FUZZ
@given(data=st.data())
def test_ucr_ts_files(tmp_path, data):
    path = mutated_file(tmp_path, "tiny.ts", data, TS)
    with tried("UCR .ts file: mutated", f"read_ts on .ts files {MUTATED}"):
        read_ts(path)


@FUZZ
@given(data=st.data(), continuous=st.booleans())
def test_language_model_corpora(tmp_path, data, continuous):
    path = mutated_file(tmp_path, "corpus.txt", data, CORPUS)
    with tried("text corpus: mutated file", f"a language model's text file {MUTATED}"):
        read_documents(str(path), "--data", continuous=continuous)


@FUZZ
@given(data=st.data())
def test_word2vec_text_vectors(tmp_path, data):
    path = mutated_file(tmp_path, "vectors.txt", data, TEXT_VECTORS)
    with tried("vectors file (word2vec text): mutated", f"word2vec text vectors {MUTATED}"):
        read_vectors(path)


def test_the_unmutated_files_read():
    """The seeds of the mutations are valid, so the fuzzing starts from files that work."""
    import tempfile
    from pathlib import Path

    pytest.importorskip("pandas", reason="series tables are read with pandas")
    from rnnlab.data.series import read_series

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "s.csv").write_bytes(LONG)
        (base / "t.ts").write_bytes(TS)
        (base / "c.txt").write_bytes(CORPUS)
        (base / "v.txt").write_bytes(TEXT_VECTORS)
        assert len(read_series(base / "s.csv").series) == 2
        assert len(read_ts(base / "t.ts").labels) == 3
        assert len(read_documents(str(base / "c.txt"), "--data")) >= 3
        assert len(read_vectors(base / "v.txt")) == 3


@pytest.fixture(scope="module")
def binary_vectors(tmp_path_factory) -> bytes:
    from rnnlab.embeddings.formats import write_vectors

    folder = tmp_path_factory.mktemp("vectors")
    (folder / "v.txt").write_bytes(TEXT_VECTORS)
    path = write_vectors(read_vectors(folder / "v.txt"), folder / "v.bin", "word2vec-binary")
    return path.read_bytes()


@FUZZ
@given(data=st.data())
def test_word2vec_binary_vectors(tmp_path, binary_vectors, data):
    path = mutated_file(tmp_path, "vectors.bin", data, binary_vectors)
    what = f"binary word2vec vectors {MUTATED}"
    with tried("vectors file (word2vec binary): mutated", what):
        read_vectors(path, "word2vec-binary")


@pytest.fixture(scope="module")
def rnnlab_vectors(tmp_path_factory) -> dict[str, bytes]:
    """The two files of a real rnnlab-format vectors directory."""
    from rnnlab.embeddings.formats import write_vectors

    folder = tmp_path_factory.mktemp("rnnlab-vectors")
    (folder / "v.txt").write_bytes(TEXT_VECTORS)
    out = write_vectors(read_vectors(folder / "v.txt"), folder / "vecs", "rnnlab")
    return {f.name: f.read_bytes() for f in out.iterdir()}


@FUZZ
@given(data=st.data(), which=st.sampled_from(["json", "safetensors"]))
def test_rnnlab_vectors_directories(tmp_path, rnnlab_vectors, data, which):
    """One of the directory's two files mutated (its JSON header, or the tensors' header and
    data), the other intact."""
    folder = tmp_path / "vecs"
    folder.mkdir(exist_ok=True)
    for name, raw in rnnlab_vectors.items():
        if name.endswith(which):
            mutated_file(folder, name, data, raw)
        else:
            (folder / name).write_bytes(raw)
    what = f"rnnlab vectors directories, their {which} file {MUTATED}"
    with tried(f"vectors directory (rnnlab): mutated {which}", what):
        read_vectors(folder)
