"""Background batching of metric points.

``MetricBatcher.add`` appends a point to a lock-free deque and returns; one daemon thread per
batcher drains the deque every ``flush_interval`` seconds (or as soon as enough points wait),
groups the points per run and writes them with ``log_batch`` calls of at most 1,000 points.
``flush`` writes everything queued before it and re-raises any failure of the background
writes, so no failure is ever silently lost.
"""

from __future__ import annotations

import atexit
import collections
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from mltrail.errors import MltrailError
from mltrail.tracking.entities import Metric

__all__ = ["MAX_POINTS_PER_BATCH", "MetricBatcher"]

_logger = logging.getLogger(__name__)

MAX_POINTS_PER_BATCH = 1000
# Wake the writer as soon as this many points wait, without waiting for the interval.
_WAKE_THRESHOLD = MAX_POINTS_PER_BATCH
# Past this many waiting points, callers write synchronously so memory stays bounded.
_BACKPRESSURE_LIMIT = 200_000

WriteBatch = Callable[[str, Sequence[Metric]], None]


class MetricBatcher:
    """Queue of metric points written in the background by one daemon thread.

    Args:
        write_batch: ``write_batch(run_id, metrics)`` writes up to 1,000 points of one run.
        flush_interval: Seconds between background flushes.
    """

    def __init__(self, write_batch: WriteBatch, flush_interval: float) -> None:
        self._write_batch = write_batch
        self._interval = flush_interval
        # Items are (run_id, Metric) or (run_id, key, value, timestamp, step).
        self._queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self._wake = threading.Event()
        self._write_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._errors: list[BaseException] = []
        self._errors_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- producer side -----------------------------------------------------------------------

    def add_point(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        """Queue one point given by its fields (the ``Metric`` is built by the writer, off the
        caller's path); starts the writer thread on first use."""
        if self._thread is None:
            self._start()
        queue = self._queue
        queue.append((run_id, key, value, timestamp, step))
        size = len(queue)
        if size >= _WAKE_THRESHOLD:
            self._wake.set()
            if size >= _BACKPRESSURE_LIMIT:
                self._drain_and_write(raise_errors=False)

    def add(self, run_id: str, metric: Metric) -> None:
        """Queue one point; starts the writer thread on first use."""
        if self._thread is None:
            self._start()
        queue = self._queue
        queue.append((run_id, metric))
        size = len(queue)
        if size >= _WAKE_THRESHOLD:
            self._wake.set()
            if size >= _BACKPRESSURE_LIMIT:
                self._drain_and_write(raise_errors=False)

    def add_many(self, run_id: str, metrics: Sequence[Metric]) -> None:
        """Queue several points of one run."""
        if self._thread is None:
            self._start()
        self._queue.extend((run_id, m) for m in metrics)
        if len(self._queue) >= _WAKE_THRESHOLD:
            self._wake.set()

    @property
    def pending(self) -> int:
        """Points queued and not yet taken by a writer."""
        return len(self._queue)

    # -- writer side -------------------------------------------------------------------------

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            if self._closed:
                raise MltrailError("The metric batcher is closed")
            thread = threading.Thread(target=self._run, name="mltrail-metric-batcher", daemon=True)
            atexit.register(self._flush_at_exit)
            thread.start()
            self._thread = thread

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._drain_and_write(raise_errors=False)

    def _drain_and_write(self, *, raise_errors: bool) -> None:
        """Write every queued point; failures are recorded (and raised when asked)."""
        with self._write_lock:
            self._write_queued()
        if raise_errors:
            self._raise_recorded()

    def _write_queued(self) -> None:
        """Take every queued point and write it, grouped per run; the caller holds the write lock."""
        queue = self._queue
        count = len(queue)
        if count == 0:
            return
        by_run: dict[str, list[Metric]] = {}
        popleft = queue.popleft
        for _ in range(count):
            item = popleft()
            run_id = item[0]
            metric = item[1] if len(item) == 2 else Metric(item[1], item[2], item[3], item[4])
            points = by_run.get(run_id)
            if points is None:
                by_run[run_id] = [metric]
            else:
                points.append(metric)
        failures: list[BaseException] = []
        for run_id, points in by_run.items():
            for start in range(0, len(points), MAX_POINTS_PER_BATCH):
                chunk = points[start : start + MAX_POINTS_PER_BATCH]
                try:
                    self._write_batch(run_id, chunk)
                except Exception as exc:
                    _logger.warning(
                        "mltrail: writing %d metric point(s) to run %s failed: %s",
                        len(chunk),
                        run_id,
                        exc,
                    )
                    failures.append(exc)
        if failures:
            with self._errors_lock:
                self._errors.extend(failures)

    def _raise_recorded(self) -> None:
        with self._errors_lock:
            errors, self._errors = self._errors, []
        if not errors:
            return
        first = errors[0]
        if len(errors) == 1 and isinstance(first, MltrailError):
            raise first
        raise MltrailError(
            f"{len(errors)} background metric write(s) failed; first: {first}",
            details={"failures": [str(e) for e in errors[:10]]},
        ) from first

    def flush(self) -> None:
        """Write every point queued before this call, then raise any background failure.

        Raises:
            MltrailError: a write (in the background or now) failed; the first failure is the
                cause. Points of other runs and batches are still written.
        """
        self._drain_and_write(raise_errors=True)

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception as exc:
            _logger.error("mltrail: metric points could not be written at exit: %s", exc)

    def close(self) -> None:
        """Stop the writer thread, write what is left and unregister the exit hook.

        Idempotent; adding points after ``close`` raises ``MltrailError``.

        Raises:
            MltrailError: a write failed (see :meth:`flush`).
        """
        with self._start_lock:
            self._closed = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None:
            atexit.unregister(self._flush_at_exit)
            if thread is not threading.current_thread():
                thread.join(timeout=max(5.0, 2 * self._interval))
        self.flush()
