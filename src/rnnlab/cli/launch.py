"""Training on several processes: ``rnnlab train … --nproc N``, and the ranks under torchrun.

``--nproc N`` (N > 1) starts ``python -m torch.distributed.run --standalone --nproc-per-node N
-m rnnlab.cli train …`` — torchrun, the launcher of the field — with the rest of the command line,
and exits with its status. Each process torchrun starts (this command again, with ``RANK`` and
``WORLD_SIZE`` set; so does a hand-written ``torchrun … -m rnnlab.cli train …`` on several
machines) joins the process group before the command runs. Rank 0 is the command as typed:
it writes ``--out`` and prints. The other ranks train beside it and write their copy of the
run's by-products into a temporary directory that is removed when they exit, and print
nothing, so there is one run directory and one set of messages.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import sys
import tempfile

from rnnlab.errors import ConfigError

__all__ = ["pop_nproc", "torchrun_command", "worker_arguments"]


def pop_nproc(args: list[str]) -> tuple[int, list[str]]:
    """The value of ``--nproc N`` (or ``--nproc=N``) in ``args`` (1 when absent) and the
    arguments without it."""
    rest: list[str] = []
    value: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--nproc":
            if i + 1 >= len(args):
                raise ConfigError("--nproc needs a number of processes, e.g. --nproc 2.")
            value, i = args[i + 1], i + 2
            continue
        if arg.startswith("--nproc="):
            value = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    if value is None:
        return 1, rest
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"--nproc {value!r}: expected a whole number of processes ≥ 1.")
    return int(value), rest


def torchrun_command(nproc: int, args: list[str]) -> list[str]:
    """torchrun on this machine, ``nproc`` processes each running ``rnnlab`` with ``args``."""
    return [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc-per-node={nproc}", "-m", "rnnlab.cli", *args,
    ]  # fmt: skip


def run_torchrun(nproc: int, args: list[str]) -> int:
    """Run :func:`torchrun_command` and return its exit status."""
    return subprocess.call(torchrun_command(nproc, args))


def worker_arguments(args: list[str], rank: int) -> list[str]:
    """``args`` with ``--out`` pointing at a fresh temporary directory (removed at exit), for
    a rank other than 0."""
    scratch = tempfile.mkdtemp(prefix=f"rnnlab-rank{rank}-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "--out" and i + 1 < len(args):
            i += 2
            continue
        if not args[i].startswith("--out="):
            out.append(args[i])
        i += 1
    return [*out, "--out", f"{scratch}/run"]
