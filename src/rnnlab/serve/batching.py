"""Dynamic micro-batching: concurrent requests share one model call.

A recurrent model labels 32 texts in little more time than one (the per-call overhead and
the sequential steps dominate), so a server that runs each request on its own wastes most of
its time under load. :class:`MicroBatcher` puts every request on an asyncio queue; one
collector task takes the first waiting request, keeps gathering for up to ``max_wait_ms``
or until ``max_batch`` texts are waiting, and runs them as one call in a single worker
thread. While that call runs, new requests queue up and form the next batch, so the batch
size adapts to the load with no tuning::

    requests ─► queue ─► collector: first item, then more for ≤ max_wait_ms / ≤ max_batch texts
                                        │
                                        ▼
                   worker thread: fn(all texts) ─► split ─► each request's future

The single worker thread also serialises every use of the model (prediction, explanation),
so torch never runs two calls at once on the shared weights. ``enabled=False`` runs each
request alone, through the same thread (the baseline in ``benchmarks/bench_serve.py``).

The worker thread runs torch on ``threads`` intra-op threads (default 1). A second OpenMP
team beside the main thread's makes the two teams spin against each other, which on a small
machine made each request many times slower than one thread does (the README's serving
table has the measurements).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch

__all__ = ["BatchStats", "MicroBatcher"]

T = TypeVar("T")


@dataclass
class BatchStats:
    """Counters since start: model calls, texts through them, the largest batch."""

    batches: int = 0
    texts: int = 0
    largest: int = 0


@dataclass
class _Item:
    texts: list[Any]  # texts, or a series classifier's series
    future: asyncio.Future


class MicroBatcher:
    """Gathers concurrent ``submit`` calls into batches for ``fn`` (texts → (N, K) array;
    any inputs that ``fn`` takes as a list work the same, such as a series classifier's series).

    Args:
        fn: the batch function, run in the worker thread.
        max_batch: stop gathering once this many texts wait (one larger request runs alone).
        max_wait_ms: how long the first request of a batch waits for company.
        enabled: False runs each request as its own call.
        threads: torch intra-op threads of the worker thread (None: leave torch's setting).
    """

    def __init__(
        self,
        fn: Callable[[list[Any]], np.ndarray],
        *,
        max_batch: int = 64,
        max_wait_ms: float = 5.0,
        enabled: bool = True,
        threads: int | None = 1,
    ) -> None:
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.enabled = enabled
        self.stats = BatchStats()
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="rnnlab-model",
            initializer=None if threads is None else torch.set_num_threads,
            initargs=() if threads is None else (threads,),
        )

    @property
    def pending(self) -> int:
        return 0 if self._queue is None else self._queue.qsize()

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._collect())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)

    async def submit(self, texts: Sequence[Any]) -> np.ndarray:
        """Probabilities (len(texts), K) for ``texts``, computed in some batch."""
        if self._queue is None:
            raise RuntimeError("MicroBatcher.submit before start(); run it inside the app.")
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Item(list(texts), future))
        return await future

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the model's worker thread (explanations, traces)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _gather(self, first: _Item) -> list[_Item]:
        assert self._queue is not None
        items, size = [first], len(first.texts)
        if not self.enabled:
            return items
        deadline = time.monotonic() + self.max_wait
        while size < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = (
                    self._queue.get_nowait()
                    if remaining <= 0
                    else await asyncio.wait_for(self._queue.get(), remaining)
                )
            except (asyncio.QueueEmpty, asyncio.TimeoutError):
                break
            items.append(item)
            size += len(item.texts)
        return items

    async def _collect(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            items = await self._gather(await self._queue.get())
            texts = [text for item in items for text in item.texts]
            try:
                probs = await loop.run_in_executor(self._executor, self.fn, texts)
            except Exception as exc:  # every waiting request gets the error, the loop goes on
                for item in items:
                    if not item.future.done():
                        item.future.set_exception(exc)
                continue
            self.stats.batches += 1
            self.stats.texts += len(texts)
            self.stats.largest = max(self.stats.largest, len(texts))
            start = 0
            for item in items:
                end = start + len(item.texts)
                if not item.future.done():  # a client that hung up cancelled its future
                    item.future.set_result(probs[start:end])
                start = end
