"""Adaptive micro-batching: concurrent requests are grouped into one predict call.

A request waits at most ``max_delay`` seconds for others to join its group, and a group holds at
most ``max_batch_size`` requests. One group runs at a time per process (in a worker thread);
requests that arrive while it runs form the next group, so under load groups grow by themselves.
A group goes as soon as it holds as many requests as the previous one did (or is full, or its
first request has waited ``max_delay``), so under steady load the wait is short, and under serial
load (the previous group was a lone request) a request is dispatched at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

__all__ = ["MicroBatcher"]

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """Groups items submitted concurrently and runs each group through one call.

    Args:
        run_batch: Computes one result per item, in order (runs in ``executor``).
        max_batch_size: Most items per call.
        max_delay: Longest, in seconds, the first item of a group waits for more items.
        executor: Where ``run_batch`` runs.
    """

    def __init__(
        self,
        run_batch: Callable[[Sequence[T]], Sequence[R]],
        *,
        max_batch_size: int,
        max_delay: float,
        executor: Executor,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        if max_delay < 0:
            raise ValueError("max_delay cannot be negative")
        self._run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.max_delay = max_delay
        self._executor = executor
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self.batch_sizes: list[int] = []
        """Sizes of the groups run so far (most recent last, at most 10,000 kept)."""

    def _ensure_started(self) -> asyncio.Queue[tuple[T, asyncio.Future[R]]]:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._collect(self._queue))
        return self._queue

    async def submit(self, item: T) -> R:
        """Queue ``item`` and wait for its own result.

        Raises:
            Exception: whatever ``run_batch`` raised for the group holding the item.
        """
        queue = self._ensure_started()
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        queue.put_nowait((item, future))
        return await future

    async def _gather(
        self, queue: asyncio.Queue[tuple[T, asyncio.Future[R]]]
    ) -> list[tuple[T, asyncio.Future[R]]]:
        loop = asyncio.get_running_loop()
        group = [await queue.get()]
        deadline = loop.time() + self.max_delay
        # Adaptive: expect as many requests as the previous group held. Once that many are here
        # the group goes at once; a lone request under serial load never waits.
        expected = min(self.batch_sizes[-1] if self.batch_sizes else 1, self.max_batch_size)
        while len(group) < self.max_batch_size:
            try:
                group.append(queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if len(group) >= expected or remaining <= 0:
                break
            try:
                group.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        return group

    async def _collect(self, queue: asyncio.Queue[tuple[T, asyncio.Future[R]]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            group = [(item, fut) for item, fut in await self._gather(queue) if not fut.done()]
            if not group:
                continue
            self.batch_sizes.append(len(group))
            if len(self.batch_sizes) > 10_000:
                del self.batch_sizes[:5_000]
            try:
                results = await loop.run_in_executor(self._executor, self._run_batch, [i for i, _ in group])
            except Exception as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def aclose(self) -> None:
        """Stop collecting; requests still queued are cancelled."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._queue is not None:
            while not self._queue.empty():
                _, future = self._queue.get_nowait()
                future.cancel()
            self._queue = None
