"""The background metric batcher: batching limits, flush semantics, failures, concurrency."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import pytest

from mltrail.errors import BackendError, InvalidArgumentError, MltrailError
from mltrail.tracking._batcher import MAX_POINTS_PER_BATCH, MetricBatcher
from mltrail.tracking.entities import Metric


class Recorder:
    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[tuple[str, list[Metric]]] = []
        self.lock = threading.Lock()
        self.delay = delay
        self.fail_for: dict[str, Exception] = {}

    def __call__(self, run_id: str, metrics: Sequence[Metric]) -> None:
        if self.delay:
            time.sleep(self.delay)
        if run_id in self.fail_for:
            raise self.fail_for[run_id]
        with self.lock:
            self.batches.append((run_id, list(metrics)))

    def points(self, run_id: str | None = None) -> list[Metric]:
        return [m for r, ms in self.batches for m in ms if run_id is None or r == run_id]


def _m(i: int, key: str = "k") -> Metric:
    return Metric(key=key, value=float(i), timestamp=1000 + i, step=i)


def test_thread_starts_lazily_and_is_a_daemon() -> None:
    batcher = MetricBatcher(Recorder(), flush_interval=10)
    assert batcher._thread is None
    batcher.add("r", _m(0))
    thread = batcher._thread
    assert thread is not None and thread.daemon and thread.is_alive()
    batcher.close()
    assert not thread.is_alive()


def test_flush_writes_everything_grouped_per_run_in_batches_of_at_most_1000() -> None:
    rec = Recorder()
    batcher = MetricBatcher(rec, flush_interval=60)
    for i in range(2500):
        batcher.add("a", _m(i))
    for i in range(10):
        batcher.add("b", _m(i))
    batcher.flush()
    assert batcher.pending == 0
    assert all(len(ms) <= MAX_POINTS_PER_BATCH for _, ms in rec.batches)
    assert [m.step for m in rec.points("a")] == list(range(2500))
    assert [m.step for m in rec.points("b")] == list(range(10))
    batcher.close()


def test_background_thread_writes_without_flush() -> None:
    rec = Recorder()
    batcher = MetricBatcher(rec, flush_interval=0.05)
    batcher.add("r", _m(1))
    deadline = time.monotonic() + 5
    while not rec.batches and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rec.points("r") == [_m(1)]
    batcher.close()


def test_flush_reraises_background_failure_once_and_keeps_other_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rec = Recorder()
    rec.fail_for["bad"] = BackendError("database on fire")
    batcher = MetricBatcher(rec, flush_interval=0.02)
    with caplog.at_level(logging.WARNING, logger="mltrail.tracking._batcher"):
        batcher.add("bad", _m(1))
        batcher.add("good", _m(2))
        deadline = time.monotonic() + 5
        while not rec.batches and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(BackendError, match="database on fire"):
            batcher.flush()
    assert rec.points("good") == [_m(2)]
    assert any("database on fire" in r.getMessage() for r in caplog.records)
    batcher.flush()  # the failure was reported once; nothing else is pending
    batcher.close()


def test_several_failures_become_one_mltrail_error() -> None:
    rec = Recorder()
    rec.fail_for["x"] = ValueError("boom-x")
    rec.fail_for["y"] = InvalidArgumentError("boom-y")
    batcher = MetricBatcher(rec, flush_interval=60)
    batcher.add("x", _m(1))
    batcher.add("y", _m(1))
    with pytest.raises(MltrailError, match="2 background metric write") as info:
        batcher.flush()
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.details["failures"] == ["boom-x", "boom-y"]
    batcher.close()


def test_close_flushes_and_later_adds_fail() -> None:
    rec = Recorder()
    batcher = MetricBatcher(rec, flush_interval=60)
    batcher.add("r", _m(1))
    batcher.close()
    assert rec.points() == [_m(1)]
    with pytest.raises(MltrailError, match="closed"):
        batcher.add("r", _m(2))
    batcher.close()


def test_flush_waits_for_a_write_in_progress() -> None:
    rec = Recorder(delay=0.3)
    batcher = MetricBatcher(rec, flush_interval=0.01)
    batcher.add("r", _m(1))
    time.sleep(0.1)  # the writer has taken the point and is inside the slow write
    assert batcher.pending == 0
    batcher.flush()
    assert rec.points() == [_m(1)]
    batcher.close()


def test_16_threads_lose_and_duplicate_nothing() -> None:
    rec = Recorder()
    batcher = MetricBatcher(rec, flush_interval=0.01)
    start = threading.Barrier(16)

    def worker(t: int) -> None:
        start.wait()
        for i in range(2000):
            batcher.add(f"run{t % 4}", Metric(key=f"t{t}", value=float(i), timestamp=i, step=i))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    batcher.flush()
    points = [(r, m.key, m.step) for r, ms in rec.batches for m in ms]
    assert len(points) == 16 * 2000
    assert len(set(points)) == 16 * 2000
    assert all(len(ms) <= MAX_POINTS_PER_BATCH for _, ms in rec.batches)
    batcher.close()
