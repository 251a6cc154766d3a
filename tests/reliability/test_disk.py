"""Full disks and read-only places, on real filesystems: a small tmpfs the test mounts (as root;
skipped with the reason otherwise). One sentence naming the path, a non-zero exit, and the
checkpoint written before the disk filled is intact."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnlab.errors import WriteError
from rnnlab.train import Callback, Trainer, load_checkpoint
from tests.reliability.outcomes import record
from tests.train.digits import digits_config, digits_splits, make_model

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, options: str):
    """A tmpfs at ``folder`` with mount ``options``; skips the test when mounting is refused."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"this machine refuses to mount a tmpfs ({done.stderr.strip()})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


class FillTheDisk(Callback):
    """After the first epoch, fill the filesystem holding ``folder`` to the last byte."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def on_epoch_end(self, record) -> None:
        if record["epoch"] == 1:
            with open(self.folder / "ballast", "wb") as handle, contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()


def test_a_disk_that_fills_mid_run_stops_in_one_sentence_and_keeps_the_checkpoint(tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=4m") as disk:
        run_dir = disk / "run"
        train, valid, _ = digits_splits()
        trainer = Trainer(digits_config(epochs=3, checkpoint_every=0), run_dir=run_dir,
                          callbacks=[FillTheDisk(disk)])  # fmt: skip
        with pytest.raises(WriteError, match=r"Cannot write .*: no space left on device"):
            trainer.fit(make_model(), train, valid)
        saved = load_checkpoint(run_dir / "checkpoints" / "last.pt")  # the epoch-1 checkpoint
        assert saved["state"]["epoch"] == 1
        assert not list(run_dir.glob("**/*.tmp"))  # no half-written file left behind
        (disk / "ballast").unlink()
        resumed = Trainer(digits_config(epochs=3, checkpoint_every=0), run_dir=run_dir)
        result = resumed.fit(make_model(), train, valid, resume=True)
        assert len(result.history) == 3
    record("disk full mid-run", "a tmpfs filled to the last byte after epoch 1",
           "one sentence; last.pt intact; --resume finishes")  # fmt: skip


def test_a_read_only_place_is_one_sentence_from_the_command_line(tmp_path):
    with mounted_tmpfs(tmp_path / "ro", "ro,size=1m") as place:
        done = subprocess.run(
            [sys.executable, "-m", "rnnlab.cli", "train", "classify", "--data", "trec",
             "--epochs", "1", "--out", str(place / "run")],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    message = done.stderr.strip()
    assert "Cannot write" in message and "read-only file system" in message, message
    assert "Traceback" not in message and message.count("\n") == 0, message
    record("read-only output place", "rnnlab train --out on a read-only filesystem",
           "one sentence, exit 2")  # fmt: skip


def test_torch_checkpoint_of_a_full_disk_is_not_torn(tmp_path):
    """torch.save on a full disk: the error names the file and the old file stays."""
    from rnnlab.train.checkpoint import save_checkpoint

    with mounted_tmpfs(tmp_path / "tiny", "size=256k") as disk:
        path = disk / "last.pt"
        save_checkpoint(path, {"kind": "last", "w": torch.zeros(10)})
        with pytest.raises(WriteError, match=r"last\.pt"):
            save_checkpoint(path, {"kind": "last", "w": torch.zeros(200_000)})
        assert load_checkpoint(path)["w"].shape == (10,)
    record("checkpoint larger than the free space", "save_checkpoint onto a 256 KB tmpfs",
           "one sentence; the previous file intact")  # fmt: skip
