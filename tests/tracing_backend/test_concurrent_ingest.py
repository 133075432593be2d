"""Spans of one trace arriving in concurrent batches (services exporting their parts of a
distributed trace at once): the trace info reflects every span, whichever batch commits last."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mltrail.tracing.entities import SpanData, mlflow_trace_id
from tests.tracing_backend._spans import BASE_NS, new_span_id, new_trace_id, span
from tests.tracing_backend.conftest import SQL_BACKEND_PARAMS, Backend, open_backend

_TRACES = 40


@pytest.fixture(params=SQL_BACKEND_PARAMS)
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A SQL backend of each kind (the REST one writes through the same SQLite store)."""
    with open_backend(request.param, tmp_path) as b:
        yield b


def _usage(inputs: int, outputs: int) -> dict[str, int]:
    return {"input_tokens": inputs, "output_tokens": outputs, "total_tokens": inputs + outputs}


def _halves(trace_id: str) -> tuple[list[SpanData], list[SpanData]]:
    """Service A's root (0-100 ms) and service B's model call under it (10-20 ms, later start)."""
    root_id = new_span_id()
    root = span(
        trace_id,
        "frontend",
        span_id=root_id,
        start_ms=0,
        end_ms=100,
        attributes={"mlflow.spanType": "AGENT", "mlflow.chat.tokenUsage": _usage(10, 5)},
    )
    child = span(
        trace_id,
        "model-service",
        parent=root_id,
        start_ms=10,
        end_ms=20,
        attributes={"mlflow.spanType": "CHAT_MODEL", "mlflow.chat.tokenUsage": _usage(20, 7)},
    )
    return [root], [child]


def test_concurrent_batches_of_one_trace_merge(sql_backend: Backend) -> None:
    store, experiment = sql_backend.traces, sql_backend.experiment_id
    trace_ids = [new_trace_id() for _ in range(_TRACES)]

    def write(batch: list[SpanData], barrier: threading.Barrier) -> None:
        barrier.wait(timeout=30)
        store.log_spans(experiment, batch)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for trace_id in trace_ids:
            first, second = _halves(trace_id)
            barrier = threading.Barrier(2)
            # Alternate which half goes first so that either may commit last.
            futures = [pool.submit(write, first, barrier), pool.submit(write, second, barrier)]
            for future in futures:
                future.result(timeout=60)

    for trace_id in trace_ids:
        trace = store.get_trace(mlflow_trace_id(trace_id))
        info = trace.info
        assert len(trace.spans) == 2
        assert info.request_time == BASE_NS // 1_000_000, "the trace starts with its earliest span"
        assert info.execution_duration == 100
        assert info.state.value == "OK"
        assert info.tags["mlflow.traceName"] == "frontend"
        assert json.loads(info.trace_metadata["mlflow.trace.tokenUsage"]) == _usage(30, 12)
