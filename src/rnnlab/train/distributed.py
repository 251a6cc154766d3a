"""Data-parallel training on ``torch.distributed``: who this process is, and what it shares.

Under ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
``LOCAL_WORLD_SIZE``) every process runs the same command; the one
:class:`~rnnlab.train.trainer.Trainer` then trains under
:class:`~torch.nn.parallel.DistributedDataParallel`:

- every rank builds the same batches from ``seed + epoch``; :func:`shard` cuts them to a
  multiple of the world size and deals ``batches[rank::world]`` (uneven counts would hang the
  gradient all-reduce), or asks the source for its own shard when it has one (a language
  model's token stream is cut into one contiguous block of columns per rank, so the hidden
  state it carries still runs along the text);
- DDP averages the gradients, so W ranks with batch b take the same step as one process with
  batch W·b (a test checks it to 1e-5);
- the training loss is all-reduced as a sum and a count; validation runs on rank 0 and its
  metrics are broadcast, so early stopping decides the same on every rank;
- only rank 0 writes checkpoints and history (atomically, then a barrier); a resumed run reads
  ``last.pt`` on rank 0 and broadcasts it, so the ranks need no shared disk.

With one process none of this happens: :func:`current` says ``world_size == 1`` and the
Trainer runs exactly as before. The process group (gloo on the CPU, NCCL for CUDA tensors) is
started by :func:`init_from_environment`, which the ``rnnlab`` command calls under torchrun;
a script of one's own may call it too, or start the group itself.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from rnnlab.train.protocols import Batch, BatchSource

__all__ = [
    "Distributed",
    "ShardedBatches",
    "current",
    "init_from_environment",
    "shard",
    "threads_per_process",
]

_CPU = torch.device("cpu")


@dataclass(frozen=True)
class Distributed:
    """This process's place among the training processes (rank 0 of 1 when alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def active(self) -> bool:
        """True when gradients are averaged across more than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and prints."""
        return self.rank == 0

    # ---- collectives (each a no-op with one process)

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` (any picklable object) on every rank."""
        if not self.active:
            return value
        box = [value if self.is_main else None]
        dist.broadcast_object_list(box, src=0, device=_CPU)
        return box[0]

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.active:
            return [value]
        values: list[Any] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def sum(self, *values: float) -> tuple[float, ...]:
        """The sums of ``values`` over the ranks (float64, on the CPU)."""
        if not self.active:
            return tuple(float(v) for v in values)
        totals = torch.tensor(values, dtype=torch.float64, device=_CPU)
        dist.all_reduce(totals, op=dist.ReduceOp.SUM)
        return tuple(float(v) for v in totals)


def current() -> Distributed:
    """The running process group's view of this process; one process when none runs."""
    if not (dist.is_available() and dist.is_initialized()):
        return Distributed()
    world = dist.get_world_size()
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    return Distributed(
        rank=dist.get_rank(),
        world_size=world,
        local_rank=int(os.environ.get("LOCAL_RANK", dist.get_rank() % max(local_world, 1))),
        local_world_size=local_world,
    )


def threads_per_process(local_world_size: int) -> int:
    """The machine's cores shared out among the processes on it (at least one each).

    torchrun sets ``OMP_NUM_THREADS=1`` for every process, which would leave cores idle on a
    machine with more cores than processes.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(local_world_size, 1))


def init_from_environment() -> Distributed:
    """Join the process group torchrun describes in the environment; one process without it.

    The backend is gloo for CPU tensors, with NCCL for CUDA tensors when CUDA is present (each
    process then uses ``cuda:LOCAL_RANK``). Intra-op threads are set to cores / processes.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or not dist.is_available():
        return current()
    if not dist.is_initialized():
        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend="cpu:gloo,cuda:nccl" if cuda else "gloo")
    here = current()
    torch.set_num_threads(threads_per_process(here.local_world_size))
    return here


class ShardedBatches:
    """One rank's share of a batch source: of each epoch's batches, cut to a multiple of the
    world size, the ones at ``rank, rank + world, …``."""

    def __init__(self, source: BatchSource, rank: int, world_size: int) -> None:
        self.source, self.rank, self.world_size = source, rank, world_size

    def num_batches(self, epoch: int) -> int:
        return self.source.num_batches(epoch) // self.world_size

    def batches(self, epoch: int) -> Iterator[Batch]:
        stop = self.num_batches(epoch) * self.world_size
        return itertools.islice(self.source.batches(epoch), self.rank, stop, self.world_size)


def shard(source: BatchSource, place: Distributed) -> BatchSource:
    """``source`` as this rank sees it: the source's own ``shard(rank, world_size)`` when it
    has one, else every world-size-th batch (:class:`ShardedBatches`); itself when alone."""
    if not place.active:
        return source
    own = getattr(source, "shard", None)
    if callable(own):
        return own(place.rank, place.world_size)
    return ShardedBatches(source, place.rank, place.world_size)
