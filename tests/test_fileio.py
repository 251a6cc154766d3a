"""Atomic writes: the target is whole or untouched, and gets an ordinary file's mode."""

from __future__ import annotations

import os
import stat

import pytest

from rnnlab.fileio import atomic_open, atomic_write_json, atomic_write_text
from tests.reliability.outcomes import record


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
    record(
        "write interrupted mid-file",
        "an exception while a file is being written",
        "old file intact, no temporary",
    )


def test_new_file_mode_follows_the_umask_and_existing_mode_is_kept(tmp_path):
    previous = os.umask(0o027)
    try:
        import rnnlab.fileio as fileio

        fileio._umask.cache_clear()
        atomic_write_json(tmp_path / "a.json", {"x": 1})
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
        os.chmod(tmp_path / "a.json", 0o604)
        atomic_write_json(tmp_path / "a.json", {"x": 2})
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o604
    finally:
        os.umask(previous)
        fileio._umask.cache_clear()
