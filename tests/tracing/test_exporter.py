"""The background exporter: batching, blocking backpressure, counted drops, errors never raised."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import pytest

import mltrail
from mltrail.errors import BackendError
from mltrail.tracing import setup
from mltrail.tracing.entities import SpanData, TraceInfo
from mltrail.tracing.store.memory import InMemoryTraceStore


class SlowStore(InMemoryTraceStore):
    """Takes ``delay`` seconds per ``log_spans`` call."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def log_spans(
        self, experiment_id: str, spans: Sequence[SpanData], *, run_id: str | None = None
    ) -> list[TraceInfo]:
        time.sleep(self.delay)
        return super().log_spans(experiment_id, spans, run_id=run_id)


class BrokenStore(InMemoryTraceStore):
    """Fails every write."""

    def log_spans(
        self, experiment_id: str, spans: Sequence[SpanData], *, run_id: str | None = None
    ) -> list[TraceInfo]:
        raise BackendError("database is on fire")


@mltrail.trace
def work(i: int) -> int:
    return i


def test_traces_are_batched(memory_store: InMemoryTraceStore) -> None:
    gate = threading.Event()
    original = memory_store.log_spans

    def gated(experiment_id: str, spans: Sequence[SpanData], *, run_id: str | None = None) -> list[TraceInfo]:
        gate.wait(10)
        return original(experiment_id, spans, run_id=run_id)

    memory_store.log_spans = gated  # type: ignore[method-assign]
    for i in range(200):
        work(i)
    gate.set()
    assert mltrail.flush_traces(30)
    assert len(memory_store.search_traces(["0"], max_results=1000).items) == 200
    # the first trace may go alone; the 199 that waited meanwhile go in very few calls
    assert memory_store.log_spans_calls <= 3
    stats = setup.get_export_stats()
    assert (stats.submitted, stats.exported, stats.dropped, stats.failed) == (200, 200, 0, 0)


def test_full_queue_blocks_the_caller_and_keeps_every_trace() -> None:
    store = SlowStore(delay=0.02)
    setup.configure(store=store, max_queue_size=2, max_batch_size=1)
    started = time.perf_counter()
    for i in range(20):
        work(i)
    elapsed = time.perf_counter() - started
    assert mltrail.flush_traces(30)
    assert len(store.search_traces(["0"]).items) == 20
    assert elapsed > 0.2  # the caller waited for room: 20 writes of 20 ms through a queue of 2
    assert setup.get_export_stats().dropped == 0


def test_drop_policy_counts_and_reports_what_it_dropped(caplog: pytest.LogCaptureFixture) -> None:
    store = SlowStore(delay=0.2)
    setup.configure(store=store, max_queue_size=1, max_batch_size=1, on_queue_full="drop")
    with caplog.at_level(logging.WARNING, logger="mltrail.tracing.exporter"):
        for i in range(10):
            work(i)
    assert mltrail.flush_traces(30)
    stats = setup.get_export_stats()
    stored = len(store.search_traces(["0"]).items)
    assert stats.dropped > 0
    assert stored + stats.dropped == 10
    assert stats.exported == stored
    assert "dropped" in caplog.text and "max_queue_size=1" in caplog.text


def test_store_errors_are_logged_and_counted_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    setup.configure(store=BrokenStore())
    with caplog.at_level(logging.ERROR, logger="mltrail.tracing.exporter"):
        assert work(5) == 5
        assert mltrail.flush_traces(30)
    stats = setup.get_export_stats()
    assert stats.failed == 1 and stats.exported == 0
    assert "database is on fire" in caplog.text


def test_synchronous_export_writes_before_returning() -> None:
    store = InMemoryTraceStore()
    setup.configure(store=store, asynchronous=False)
    work(1)
    assert len(store.search_traces(["0"]).items) == 1


def test_flush_times_out_when_the_store_is_slow() -> None:
    store = SlowStore(delay=1.0)
    setup.configure(store=store)
    work(1)
    assert mltrail.flush_traces(0.05) is False
    assert mltrail.flush_traces(30) is True


def test_pending_traces_are_written_when_the_program_exits(tmp_path: object) -> None:
    script = """
import mltrail
from mltrail.tracing import setup
mltrail.set_tracking_uri("sqlite:///{db}")

@mltrail.trace
def f(i):
    return i

for i in range(50):
    f(i)
# no flush: the exporter thread drains the queue before the interpreter exits
"""
    db = f"{tmp_path}/exit.db"
    subprocess.run([sys.executable, "-c", script.format(db=db)], check=True, timeout=120, cwd=str(tmp_path))
    mltrail.set_tracking_uri(f"sqlite:///{db}")
    assert len(setup.trace_store().search_traces(["0"]).items) == 50


def test_traces_finished_in_atexit_handlers_are_still_written(tmp_path: object) -> None:
    script = """
import atexit
import mltrail
mltrail.set_tracking_uri("sqlite:///{db}")

@mltrail.trace
def f(i):
    return i

f(0)
atexit.register(lambda: (f(1), mltrail.flush_traces(30)))
"""
    db = f"{tmp_path}/atexit.db"
    done = subprocess.run(
        [sys.executable, "-c", script.format(db=db)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    mltrail.set_tracking_uri(f"sqlite:///{db}")
    assert len(setup.trace_store().search_traces(["0"]).items) == 2


def test_import_mltrail_loads_no_opentelemetry() -> None:
    code = "import sys, mltrail; print(any(m.startswith('opentelemetry') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"
