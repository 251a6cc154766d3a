"""Keep freed memory in the process between training steps instead of returning it to the OS.

Why: every training step allocates and frees the same large tensors (activations saved for the
backward pass, gradients; tens of MB at batch 32 × 400 tokens). glibc's malloc serves blocks
above its mmap threshold (dynamic, 128 KiB–32 MiB) with fresh mappings and unmaps them on
free, and trims the top of its heap when more than twice that is free, so the next step gets
the memory back as new zero-filled pages, each one a page fault (the README's "Speed" section
has the count and the time it costs). Fixing the mmap threshold at 64 MiB and the trim
threshold at 256 MiB keeps those blocks in the heap for reuse: the process holds on to up to
256 MiB it has freed — what jemalloc and tcmalloc, which PyTorch's CPU tuning guide suggests
preloading, do as well.

This changes the process's allocator settings, so only the training loop asks for it
(:meth:`rnnlab.train.Trainer.fit`); ``RNNLAB_KEEP_FREED_MEMORY=0`` turns it off. It does nothing
where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 64 << 20
_TRIM_THRESHOLD = 256 << 20


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Set glibc's malloc to reuse freed blocks (once per process); True when it was set."""
    if os.environ.get("RNNLAB_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith(
        "linux"
    ):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
