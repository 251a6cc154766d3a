"""The compiled step loops' library: built once and cached, chosen by ``auto`` on the CPU in
float32, its ctypes signatures equal to the C declarations, and without oneDNN or a compiler
everything falls back to the pure-PyTorch loops (their numbers: tests/nn/test_step_loops.py)."""

from __future__ import annotations

import ctypes
import json
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


def _fake_onednn(root: Path) -> tuple[Path, Path]:
    """An include and a lib directory with a stand-in ``libdnnl.so`` (only stat-ed here)."""
    include, lib = root / "include", root / "lib"
    include.mkdir(parents=True)
    lib.mkdir(parents=True)
    (lib / "libdnnl.so").write_bytes(b"not a library")
    return include, lib


def test_cache_key_changes_with_flags_compiler_and_sources(tmp_path):
    """The key names everything that shapes the binary: the same inputs give the same key,
    and a changed flag, compiler, compiler version, source or oneDNN gives another."""
    include, lib = _fake_onednn(tmp_path)
    onednn = lib / "libdnnl.so"
    command = native_build._compile_command("/usr/bin/g++", include, lib)
    version = "g++ (Debian 12.2.0-14) 12.2.0"
    key = native_build._cache_key(b"source", onednn, command, version)
    assert native_build._cache_key(b"source", onednn, list(command), version) == key
    other_flags = native_build._compile_command(
        "/usr/bin/g++", include, lib, [*native_build.COMPILE_FLAGS, "-DNDEBUG"]
    )
    other_compiler = native_build._compile_command("/usr/bin/clang++", include, lib)
    changed = {
        native_build._cache_key(b"source", onednn, other_flags, version),
        native_build._cache_key(b"source", onednn, other_compiler, version),
        native_build._cache_key(b"source", onednn, command, "g++ (Debian 13.1.0-1) 13.1.0"),
        native_build._cache_key(b"source2", onednn, command, version),
    }
    assert key not in changed and len(changed) == 4
    onednn.write_bytes(b"an upgraded library")
    assert native_build._cache_key(b"source", onednn, command, version) != key


def test_build_reuses_the_cache_until_a_flag_changes(tmp_path, monkeypatch):
    """No compiler runs when an identical build is cached; a changed flag compiles anew
    (the compiler is a stand-in that records its command and writes the output file)."""
    include, lib = _fake_onednn(tmp_path / "onednn")
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(native_build, "_compiler_version", lambda compiler: "g++ 12.2.0")
    commands: list[list[str]] = []

    def compile_(command, **kwargs):
        commands.append(command)
        Path(command[command.index("-o") + 1]).write_bytes(b"built")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(native_build.subprocess, "run", compile_)
    first = native_build._build("/usr/bin/g++", include, lib)
    assert len(commands) == 1 and first.read_bytes() == b"built"
    assert native_build._build("/usr/bin/g++", include, lib) == first
    assert len(commands) == 1  # reused, not rebuilt
    flags = [flag for flag in native_build.COMPILE_FLAGS if flag != "-O3"] + ["-O2"]
    second = native_build._build("/usr/bin/g++", include, lib, flags)
    assert second != first and len(commands) == 2 and "-O2" in commands[1]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [first.name, second.name]
    )


def test_compiler_version_is_the_first_line_or_unknown(tmp_path):
    compiler = tmp_path / "cc"
    compiler.write_text("#!/bin/sh\necho 'cc (Fake) 9.9.9'\necho 'Copyright'\n")
    compiler.chmod(0o755)
    assert native_build._compiler_version(str(compiler)) == "cc (Fake) 9.9.9"
    assert native_build._compiler_version(str(tmp_path / "missing")) == "unknown"


def test_flags_build_for_any_x86_64():
    """Baseline x86-64 code, never the build machine's own CPU: a shared cache directory may
    serve other CPUs; the vector functions dispatch at load time (target_clones)."""
    flags = native_build.COMPILE_FLAGS
    assert "-march=x86-64" in flags
    assert not any(
        flag in ("-march=native", "-mtune=native", "-xHost") or flag.startswith(("-mavx", "-mfma"))
        for flag in flags
    )
    assert CPP.read_text(encoding="utf-8").count('target_clones("avx512f", "avx2", "default")') >= 8


@needs_native
def test_a_failed_sgemm_is_an_error_not_garbage():
    """A oneDNN sgemm that returns a status other than success stops the loop with its status
    (here invalid arguments: a zero-width hidden state makes every leading dimension 0)."""
    from rnnlab.nn import recurrence

    library = native_build.native_library()
    one = [torch.zeros(4) for _ in range(7)]
    ptr = [ctypes.c_void_p(t.data_ptr()) for t in one]
    # T=1, B=1, H=0, reverse=0, relu=0, gx, w_t, b_hh, step_mask, rec_mask, states, h_prev, out, h
    args = (1, 1, 0, 0, 0, ptr[0], ptr[1], None, None, None, ptr[2], ptr[3], ptr[4], ptr[5])
    with pytest.raises(
        RuntimeError,
        match=r"rnnlab_rnn_steps_forward failed: oneDNN's sgemm failed \(invalid_arguments\) "
        r"on a \(1 x 0\) by \(0 x 0\) product .*set RNNLAB_NATIVE=0",
    ):
        recurrence._run(library.rnnlab_rnn_steps_forward, *args)


OPENMP_PROBE = """
import json, os, re
import torch
import rnnlab.nn as rnn
from rnnlab.nn import recurrence
from rnnlab.nn.native_build import native_status

assert native_status().available, native_status().reason
taken = []
original = recurrence._compiled_loops

def counting(*tensors):
    library = original(*tensors)
    taken.append(library is not None)
    return library

recurrence._compiled_loops = counting
torch.set_num_threads(2)
for layer in (rnn.GRU(5, 6, batch_first=True), rnn.LSTM(5, 6, batch_first=True)):
    layer(torch.randn(4, 7, 5), lengths=[3, 7, 1, 5])[0].sum().backward()
assert taken and all(taken), taken
runtimes = set()
with open("/proc/self/maps", encoding="utf-8") as maps:
    for line in maps:
        fields = line.split(None, 5)
        if len(fields) == 6 and re.search(r"/lib(gomp|iomp5|omp)[-.][^/]*$", fields[5].strip()):
            runtimes.add(os.path.realpath(fields[5].strip()))
print(json.dumps(sorted(runtimes)))
"""


@needs_native
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
def test_one_openmp_runtime_after_a_native_step():
    """The compiled loops, oneDNN and torch share one OpenMP runtime (torch's libgomp.so.1):
    two would mean two thread pools, and oneDNN blind to the loops' parallel regions. In a
    fresh process, so that libraries other tests import (scikit-learn bundles a libgomp of
    its own) do not count."""
    result = subprocess.run(
        [sys.executable, "-c", OPENMP_PROBE], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    runtimes = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(runtimes) == 1, runtimes
