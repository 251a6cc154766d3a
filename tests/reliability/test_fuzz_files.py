"""Fuzzing configuration files and model files: random TOML for every task's run config, and
real model files truncated, mutated, given forged headers or replaced by a pickle.

Property: a result or an RnnlabError with one sentence; a planted pickle never runs.
"""

from __future__ import annotations

import json
import pickle
import struct

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="fuzzing needs hypothesis (a dev extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rnnlab.tasks.base import get_task, load_predictor  # noqa: E402
from tests.reliability.outcomes import tried  # noqa: E402
from tests.tiny_run import train_tiny_run  # noqa: E402

FUZZ = settings(
    max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SECTIONS = ["model", "data", "train", "modle", ""]
KEYS = "lr epochs hidden_size cell max_len seed dropout batch_size tokenizer pooling horizon bptt"
KEYS = [*KEYS.split(), "optimizer", "patience", "nonsense", "lr0"]
SCALARS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(max_size=20).map(json.dumps),
    st.just("[1, 2, 3]"),
    st.just("{ a = 1 }"),
    st.just("1979-05-27T07:32:00Z"),
)
LINES = st.lists(
    st.one_of(
        st.sampled_from(SECTIONS).map(lambda s: f"[{s}]"),
        st.tuples(st.sampled_from(KEYS), SCALARS).map(lambda kv: f"{kv[0]} = {kv[1]}"),
        st.text(max_size=30),
    ),
    max_size=12,
)


@pytest.mark.parametrize("task", ["classify", "tag", "lm", "forecast", "classify_series"])
@FUZZ
@given(lines=LINES)
def test_random_toml_gives_a_config_or_one_sentence(tmp_path, task, lines):
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    with tried(f"config file ({task}): random TOML", f"{task} run config from random TOML"):
        get_task(task).config_type.from_toml(path)


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory, rotten_tomatoes) -> bytes:
    run = train_tiny_run(tmp_path_factory.mktemp("tiny"), rotten_tomatoes, n=300)
    return (run / "model.safetensors").read_bytes()


def load(path) -> None:
    load_predictor(path)


@FUZZ
@given(data=st.data())
def test_truncated_and_mutated_model_files(tmp_path, model_bytes, data):
    raw = bytearray(model_bytes)
    cut = data.draw(st.integers(0, len(raw)))
    if data.draw(st.booleans()):
        raw = raw[:cut]
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            at = data.draw(st.integers(0, len(raw) - 1))
            raw[at] = data.draw(st.integers(0, 255))
    path = tmp_path / "model.safetensors"
    path.write_bytes(bytes(raw))
    with tried(
        "model file: truncated or bytes flipped",
        "a real model file cut short or with bytes flipped",
    ):
        load(path)


def header_file(folder, name: str, header: bytes, declared: int | None = None, tail=b""):
    """A safetensors-shaped file: 8-byte little-endian header size, header, data."""
    path = folder / name.replace(" ", "_") / "model.safetensors"
    path.parent.mkdir()
    size = len(header) if declared is None else declared
    path.write_bytes(struct.pack("<Q", size) + header + tail)
    return path


def test_forged_headers(tmp_path, model_bytes):
    n = struct.unpack("<Q", model_bytes[:8])[0]
    header = json.loads(model_bytes[8 : 8 + n])
    data = model_bytes[8 + n :]
    some = next(k for k in header if k != "__metadata__")
    forged = {
        "wrong dtype": {**header, some: {**header[some], "dtype": "F64"}},
        "wrong shape": {**header, some: {**header[some], "shape": [3, 3, 3]}},
        "offsets past the end": {**header, some: {**header[some], "data_offsets": [0, 10**9]}},
        "metadata not JSON": {
            **header,
            "__metadata__": {**header.get("__metadata__", {}), "model_config": "{broken"},
        },
        "a path as a tensor name": {**header, "../../etc/passwd": header[some]},
    }
    meta = header.get("__metadata__", {})
    config = json.loads(meta["model_config"])
    for name, key, value in (
        ("an unknown model_config key", "model_config", {**config, " idirectional": True}),
        ("model_config a list", "model_config", [1, 2]),
        ("a negative hidden size", "model_config", {**config, "hidden_size": -3}),
        ("preprocessing a list", "preprocessing", [1]),
    ):
        forged[name] = {**header, "__metadata__": {**meta, key: json.dumps(value)}}
    cases = {
        "huge declared header": header_file(tmp_path, "huge", b"{}", declared=2**62),
        "header not JSON": header_file(tmp_path, "notjson", b"{not json" + b" " * 40),
        "header a JSON list": header_file(tmp_path, "list", b"[1, 2, 3]"),
    }
    for name, content in forged.items():
        cases[name] = header_file(tmp_path, name, json.dumps(content).encode(), tail=data)
    for name, path in cases.items():
        with tried(f"model file: {name}", f"a model file with {name}"):
            load(path)


class Planted:
    """Unpickling this writes a marker file: proof that pickled code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_in_place_of_a_model_or_checkpoint_never_runs(tmp_path):
    from rnnlab.train.checkpoint import load_checkpoint

    marker = tmp_path / "pickle-ran"
    payload = pickle.dumps({"format": "x", "evil": Planted(str(marker))})
    for name, reader in [("model.safetensors", load), ("last.pt", load_checkpoint)]:
        path = tmp_path / name
        path.write_bytes(payload)
        with tried(f"pickle payload as {name}", f"a pickle that writes a file, saved as {name}"):
            reader(path)
    import torch

    torch.save(
        {"format": "rnnlab.train.checkpoint", "evil": Planted(str(marker))}, tmp_path / "torch.pt"
    )
    with tried("pickle payload as last.pt", "a pickle that writes a file, saved as last.pt"):
        load_checkpoint(tmp_path / "torch.pt")
    assert not marker.exists()
