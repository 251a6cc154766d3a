"""Find oneDNN, compile the step path's time loops once, load them.

The compiled time loops (``csrc/step_loops.cpp``, plain C ABI, no PyTorch headers; one oneDNN
sgemm per thread and step) need two things a plain ``pip install rnnlab`` does not bring:
oneDNN's library and headers — the ``rnnlab[fast]`` extra installs them from PyPI
(``onednn-cpu-gomp`` and ``onednn-devel-cpu-gomp``, GNU OpenMP like PyTorch's CPU build) — and a
C++ compiler. PyTorch's own copy of oneDNN is linked statically and exports nothing we could
call. The library compiles in a few seconds and is cached in ``$RNNLAB_CACHE_DIR`` (default
``~/.cache/rnnlab``) under a key of the sources, the oneDNN library, the compiler and its
version, and the whole compile command (:func:`_cache_key`), so a changed source, flag,
compiler or oneDNN builds afresh and nothing else does; the build writes to a temporary file
and renames it, so concurrent processes never load a half-written library.

Portability: the flags (:data:`COMPILE_FLAGS`) target baseline x86-64, never ``-march=native``:
a cache directory may be shared by machines with different CPUs (a home directory on a
cluster). The per-step vector functions carry ``target_clones``, so their AVX2 and AVX-512
versions are chosen when the library loads, on the CPU it runs on.

One OpenMP runtime: the library and oneDNN's ``libdnnl.so.3`` both need ``libgomp.so.1``, and
so does ``libtorch_cpu.so``, which PyPI's torch wheels satisfy with their own copy in
``torch/lib`` (soname ``libgomp.so.1``). :mod:`rnnlab.nn` imports torch before this library
is loaded, so the dynamic linker finds that soname already loaded and binds the library and
oneDNN to torch's copy: one runtime, one thread pool, and oneDNN sees the loops' parallel
regions (it must, or each thread's sgemm would fork a team of its own). Reading
``/proc/self/maps`` after a training step on the compiled loops finds only torch's
``libgomp.so.1`` mapped, not the compiler's; ``tests/nn/test_native_build.py`` holds that.
(A process that imports scikit-learn — the classifier does — also maps the copy its wheels
bring under a soname of their own, ``libgomp-<hash>.so.1``; that one runs only scikit-learn's
loops.)
Linking against torch's copy by path would add nothing where the sonames agree, and could not
help where they do not (a torch build with Intel's OpenMP): oneDNN's own dependency on
``libgomp.so.1`` would still bring a second runtime.

Why ctypes and not ``torch.utils.cpp_extension``: the loops need raw float buffers and
oneDNN's sgemm, nothing of PyTorch. A C file without PyTorch's or Python's headers compiles in
seconds instead of the much longer build of a file that includes ``torch/extension.h``; its
C ABI does not depend on the torch version or its C++ ABI flag, so upgrading torch does not
rebuild it; and it needs only a C++ compiler, where ``cpp_extension.load`` also needs ninja and
the Python development headers (not present on many slim images) and brings pybind11
bindings. What ``cpp_extension`` would give — passing tensors instead of pointers, torch's
own thread pool — the pointers of contiguous tensors and the shared OpenMP runtime already give.

When anything is missing the compiled loops are simply unavailable: :func:`native_library`
returns ``None`` and :func:`native_status` says why in one sentence; every layer then runs on
the pure-PyTorch paths, which compute the same numbers. ``RNNLAB_NATIVE=0`` turns it off.

:data:`SIGNATURES` declares every entry point's ctypes argument types; a test reads the C
declarations in ``step_loops.cpp`` and holds them to it. Every entry point returns 0, or 1
with its message in ``rnnlab_last_error()`` — a failed oneDNN sgemm included
(:func:`rnnlab.nn.recurrence._run` raises it as a ``RuntimeError``).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["COMPILE_FLAGS", "NativeStatus", "native_library", "native_status"]

_SOURCES = (Path(__file__).with_name("csrc") / "step_loops.cpp",)
_DISTRIBUTIONS = ("onednn-cpu-gomp", "onednn-devel-cpu-gomp")
_INSTALL_HINT = 'pip install "rnnlab[fast]"'

COMPILE_FLAGS: tuple[str, ...] = (
    "-O3",
    "-march=x86-64",  # the baseline every x86-64 CPU runs; target_clones pick AVX2/AVX-512
    "-mtune=generic",
    "-fno-trapping-math",  # lets the gate loops vectorise (floor, selects); no value changes
    "-std=c++17",
    "-shared",
    "-fPIC",
    "-fopenmp",
)


@dataclass(frozen=True)
class NativeStatus:
    """Whether the native path can run here, and if not, why (one sentence)."""

    available: bool
    reason: str
    library: Path | None = None


def _cache_dir() -> Path:
    root = os.environ.get("RNNLAB_CACHE_DIR")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rnnlab"


def _find_onednn() -> tuple[Path, Path] | None:
    """(include dir, lib dir) of an installed oneDNN: the PyPI wheels, or $RNNLAB_ONEDNN_ROOT."""
    root = os.environ.get("RNNLAB_ONEDNN_ROOT")
    candidates: list[Path] = []
    if root:
        candidates.append(Path(root))
    for name in _DISTRIBUTIONS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or ():
            if file.name in ("libdnnl.so", "dnnl.hpp"):
                located = Path(dist.locate_file(file)).resolve()
                # …/lib/libdnnl.so or …/include/oneapi/dnnl/dnnl.hpp → the prefix above them
                for parent in located.parents:
                    if parent.name in ("lib", "include"):
                        candidates.append(parent.parent)
                        break
    candidates.append(Path(sys.prefix))
    for prefix in dict.fromkeys(candidates):
        include, lib = prefix / "include", prefix / "lib"
        if (include / "oneapi" / "dnnl" / "dnnl.hpp").is_file() and (lib / "libdnnl.so").exists():
            return include, lib
    return None


def _compiler() -> str | None:
    name = os.environ.get("RNNLAB_CXX") or os.environ.get("CXX") or "g++"
    return shutil.which(name)


@functools.lru_cache(maxsize=8)
def _compiler_version(compiler: str) -> str:
    """The first line of ``compiler --version`` (e.g. ``g++ (Debian 12.2.0-14) 12.2.0``), so
    that an upgraded compiler gets a fresh build; ``"unknown"`` when it does not say."""
    try:
        result = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else "unknown"


def _compile_command(
    compiler: str, include: Path, lib: Path, flags: Sequence[str] = COMPILE_FLAGS
) -> list[str]:
    """The compiler's command line, without its output file."""
    return [
        compiler,
        *flags,
        *(str(source) for source in _SOURCES),
        f"-I{include}",
        f"-L{lib}",
        "-ldnnl",
        f"-Wl,-rpath,{lib}",
    ]


def _cache_key(sources: bytes, onednn: Path, command: Sequence[str], compiler_version: str) -> str:
    """What names a build in the cache: the sources, the oneDNN library it links (path, size,
    modification time — a reinstalled or upgraded oneDNN gets a fresh build), the whole
    compile command (compiler, flags, paths) and the compiler's version, and the machine."""
    stat = onednn.stat()
    identity = "\0".join(
        [
            f"{onednn}|{stat.st_size}|{stat.st_mtime_ns}",
            *command,
            compiler_version,
            platform.machine(),
        ]
    )
    return hashlib.sha256(sources + b"\0" + identity.encode()).hexdigest()[:16]


def _build(compiler: str, include: Path, lib: Path, flags: Sequence[str] = COMPILE_FLAGS) -> Path:
    """Compile the wrapper into the cache (atomically) unless an identical build is there."""
    command = _compile_command(compiler, include, lib, flags)
    sources = b"".join(source.read_bytes() for source in _SOURCES)
    key = _cache_key(sources, (lib / "libdnnl.so").resolve(), command, _compiler_version(compiler))
    cache = _cache_dir()
    target = cache / f"librnnlab_onednn-{key}.so"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=cache)
    os.close(fd)
    try:
        result = subprocess.run(
            [*command, "-o", tmp_name], capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            first = (result.stderr.strip().splitlines() or ["no output"])[0]
            raise OSError(f"compiling the native path failed: {first}")
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


_POINTER, _INT, _SIZE = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64
# Entry point → (argument types, result type), as declared in csrc/step_loops.cpp.
SIGNATURES: dict[str, tuple[list[Any], Any]] = {
    "rnnlab_last_error": ([], ctypes.c_char_p),
    "rnnlab_set_threads": ([_INT], None),
    "rnnlab_gru_steps_forward": ([_SIZE] * 3 + [_INT] + [_POINTER] * 10, _INT),
    "rnnlab_gru_steps_backward": ([_SIZE] * 3 + [_INT, _POINTER, _SIZE] + [_POINTER] * 11, _INT),
    "rnnlab_lstm_steps_forward": ([_SIZE] * 3 + [_INT] + [_POINTER] * 10, _INT),
    "rnnlab_lstm_steps_backward": ([_SIZE] * 3 + [_INT, _POINTER, _SIZE] + [_POINTER] * 10, _INT),
    "rnnlab_rnn_steps_forward": ([_SIZE] * 3 + [_INT] * 2 + [_POINTER] * 9, _INT),
    "rnnlab_rnn_steps_backward": (
        [_SIZE] * 3 + [_INT] * 2 + [_POINTER, _SIZE] + [_POINTER] * 6,
        _INT,
    ),
}


def _configure(library: Any) -> Any:
    """Set every entry point's ctypes signature from :data:`SIGNATURES`."""
    for name, (argtypes, restype) in SIGNATURES.items():
        function = getattr(library, name)
        function.argtypes = argtypes
        function.restype = restype
    return library


@functools.lru_cache(maxsize=1)
def _load() -> tuple[ctypes.CDLL | None, NativeStatus]:
    if os.environ.get("RNNLAB_NATIVE", "1") == "0":
        return None, NativeStatus(False, "the native path is turned off (RNNLAB_NATIVE=0).")
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None, NativeStatus(
            False,
            f"the native path needs Linux on x86-64, this is {sys.platform} on "
            f"{platform.machine()}.",
        )
    found = _find_onednn()
    if found is None:
        return None, NativeStatus(False, f"oneDNN is not installed; `{_INSTALL_HINT}` installs it.")
    compiler = _compiler()
    if compiler is None:
        return None, NativeStatus(
            False, "no C++ compiler (g++ or $CXX) was found to build the native path."
        )
    try:
        path = _build(compiler, *found)
        library = _configure(ctypes.CDLL(str(path)))
    except (OSError, subprocess.SubprocessError) as error:
        return None, NativeStatus(False, f"the native path could not be built: {error}")
    return library, NativeStatus(True, f"native path ready ({path}).", path)


def native_library() -> ctypes.CDLL | None:
    """The loaded wrapper library, or ``None`` when the native path cannot run here."""
    return _load()[0]


def native_status() -> NativeStatus:
    """Whether the native path is available (building it on first call) and why not."""
    return _load()[1]
