"""The compiled step loops' library: built once and cached, chosen by ``auto`` on the CPU in
float32, its ctypes signatures equal to the C declarations, and without oneDNN or a compiler
everything falls back to the pure-PyTorch loops (their numbers: tests/nn/test_step_loops.py)."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.errors import ConfigError
from rnnlab.nn import native_build
from rnnlab.nn.native_build import SIGNATURES, native_status

needs_native = pytest.mark.skipif(
    not native_status().available,
    reason=f"native path unavailable here: {native_status().reason}",
)

BATCH, STEPS, INPUT, HIDDEN = 4, 7, 5, 6
MIXED_LENGTHS = [3, STEPS, 1, 5]
CPP = Path(native_build.__file__).with_name("csrc") / "step_loops.cpp"
C_TYPES = {"int64_t": ctypes.c_int64, "int": ctypes.c_int}


@needs_native
def test_auto_runs_the_compiled_step_loops_on_cpu_float32():
    """With the native library built, auto takes the step path (its compiled loops) for every
    CPU float32 call; other dtypes stay on torch's kernels. The oneDNN-primitive path is gone."""
    x = torch.randn(BATCH, STEPS, INPUT)
    lengths = torch.tensor(MIXED_LENGTHS)
    for layer in (
        rnn.GRU(INPUT, HIDDEN, num_layers=2, batch_first=True),
        rnn.LSTM(INPUT, HIDDEN, batch_first=True, bidirectional=True),
        rnn.RNN(INPUT, HIDDEN, batch_first=True, input_dropout=0.2),
    ):
        for training in (True, False):
            for lens in (None, lengths):
                assert layer.train(training)._choose_path(False, x, lens) == "step"
        assert layer._choose_path(False, x.double(), None) == "fused"
    with pytest.raises(ConfigError, match=r"path must be one of \('auto', 'fused', 'step'\)"):
        rnn.GRU(INPUT, HIDDEN, path="native")


def c_declarations() -> dict[str, tuple[list, object]]:
    """Every ``rnnlab_*`` function of step_loops.cpp's extern "C" block, as ctypes types."""
    source = CPP.read_text(encoding="utf-8")
    block = source[source.index('extern "C" {') :]
    found = {}
    for result, name, params in re.findall(
        r"^(int|void|const char \*)\s*(rnnlab_\w+)\(([^)]*)\)", block, flags=re.M
    ):
        types = []
        for param in filter(None, (p.strip() for p in params.split(","))):
            declared = param.rsplit(" ", 1)[0].replace("const ", "")
            types.append(ctypes.c_void_p if "*" in param else C_TYPES[declared])
        restype = {"int": ctypes.c_int, "void": None, "const char *": ctypes.c_char_p}[result]
        found[name] = (types, restype)
    return found


def test_ctypes_signatures_match_the_c_declarations():
    """The argument types Python declares are the ones the C++ file declares, entry by entry
    (a mismatch would pass garbage without any error)."""
    declared = c_declarations()
    assert set(declared) == set(SIGNATURES)
    for name, (argtypes, restype) in SIGNATURES.items():
        assert declared[name] == (argtypes, restype), name

    class Library:  # what _configure sets, on stand-ins for the loaded functions
        def __init__(self) -> None:
            self.functions: dict[str, object] = {}

        def __getattr__(self, name: str) -> object:
            return self.functions.setdefault(name, type("Function", (), {})())

    library = native_build._configure(Library())
    for name, (argtypes, restype) in SIGNATURES.items():
        assert library.functions[name].argtypes == argtypes
        assert library.functions[name].restype is restype


def test_no_exception_crosses_the_c_abi():
    """Every entry point that does work runs inside guarded(): the file says so line by line."""
    source = CPP.read_text(encoding="utf-8")
    block = source[source.index('extern "C" {') :]
    bodies = re.findall(r"^int (rnnlab_\w+_steps_\w+)\([^)]*\) \{\n(.*?)\n\}", block, re.S | re.M)
    assert len(bodies) == 6
    for name, body in bodies:
        assert body.lstrip().startswith("return guarded([&] {"), name
    assert "__builtin_bit_cast" not in source  # older compilers fall back to a slow path


def test_missing_onednn_gives_one_sentence_and_layers_still_run(monkeypatch):
    monkeypatch.setattr(native_build, "_find_onednn", lambda: None)
    native_build._load.cache_clear()
    try:
        status = native_status()
        assert not status.available
        assert status.reason == 'oneDNN is not installed; `pip install "rnnlab[fast]"` installs it.'
        gru = rnn.GRU(INPUT, HIDDEN, batch_first=True)
        x = torch.randn(BATCH, STEPS, INPUT)
        assert gru._choose_path(False, x, torch.tensor(MIXED_LENGTHS)) == "step"
        gru(x, lengths=MIXED_LENGTHS)[0].sum().backward()
    finally:
        native_build._load.cache_clear()


def test_no_compiler_falls_back_cleanly_in_a_fresh_process(tmp_path):
    """A machine without g++: the build is skipped, the reason is one sentence, training works."""
    code = (
        "import torch, rnnlab.nn as rnn\n"
        "from rnnlab.nn.native_build import native_status\n"
        "s = native_status()\n"
        "gru = rnn.GRU(5, 6, batch_first=True)\n"
        "x = torch.randn(4, 7, 5)\n"
        "gru(x, lengths=[3, 7, 1, 5])[0].sum().backward()\n"
        "print(s.available, '|', s.reason)\n"
    )
    env = {
        **os.environ,
        "RNNLAB_CXX": str(tmp_path / "no-such-compiler"),
        "CXX": "",
        "RNNLAB_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    available, reason = result.stdout.strip().split(" | ")
    if "oneDNN is not installed" in reason:
        pytest.skip("oneDNN is not installed here, so the compiler is never looked for")
    assert available == "False"
    assert reason == "no C++ compiler (g++ or $CXX) was found to build the native path."


@needs_native
def test_build_is_cached_and_reused(tmp_path, monkeypatch):
    """A second load in a fresh cache builds once; the library lands atomically (no temp files)."""
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path))
    native_build._load.cache_clear()
    try:
        first = native_status()
        assert first.available and first.library is not None
        assert first.library.parent == tmp_path
        stamp = first.library.stat().st_mtime_ns
        native_build._load.cache_clear()
        second = native_status()
        assert second.library == first.library
        assert second.library.stat().st_mtime_ns == stamp
        assert [p.name for p in tmp_path.iterdir()] == [first.library.name]
    finally:
        native_build._load.cache_clear()
