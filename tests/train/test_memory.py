"""The training loop keeps freed memory for reuse: repeated large allocations stop faulting
in fresh pages (rnnlab.train.memory), and RNNLAB_KEEP_FREED_MEMORY=0 leaves malloc alone."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

import pytest

_PROBE = """
import resource, torch
from rnnlab.train.memory import keep_freed_memory
print(keep_freed_memory(), end=" ")
for _ in range(5):  # 32 MB blocks, above glibc's default thresholds; the first few can
    x = torch.ones(8 << 20); del x  # still fault in the kept heap: measure the steady state
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    x = torch.ones(8 << 20); del x
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _probe(setting: str, runs: int = 3) -> tuple[str, int]:
    """Whether the setting took effect, and the median page-fault count of ``runs`` fresh
    processes (one process can be hit by a neighbour's memory pressure)."""
    env = {**os.environ, "RNNLAB_KEEP_FREED_MEMORY": setting}
    applied, counts = set(), []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
        )
        flag, faults = result.stdout.split()
        applied.add(flag)
        counts.append(int(faults))
    assert len(applied) == 1, applied
    return applied.pop(), statistics.median_low(counts)


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="mallopt is glibc's; other systems are untouched"
)
def test_freed_blocks_are_reused_instead_of_faulting_in_fresh_pages():
    kept, kept_faults = _probe("1")
    default, default_faults = _probe("0")
    assert (kept, default) == ("True", "False")
    if default_faults < 5 * 8192 * 0.9:  # 5 × 32 MB of 4 KiB pages, mapped afresh each time
        pytest.skip(f"only {default_faults} page faults by default: huge pages back the blocks")
    assert kept_faults * 3 < default_faults
