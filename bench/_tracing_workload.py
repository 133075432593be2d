"""One tracing workload in a fresh process: ``python _tracing_workload.py TOOL CALLS DIR``.

TOOL is ``mltrail`` or ``mlflow``. The script times CALLS calls of an untraced trivial function
and CALLS calls of the same function traced, exporting to a SQLite store in DIR, then waits for
the export to finish and counts the traces stored. It prints one JSON object.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

WARMUP = 20


def plain(x: int) -> int:
    return x + 1


def _loop(fn: Callable[[int], int], calls: int) -> float:
    started = time.perf_counter()
    for i in range(calls):
        fn(i)
    return time.perf_counter() - started


def run_mltrail(calls: int, directory: str) -> dict[str, Any]:
    import mltrail
    from mltrail.tracing import setup

    mltrail.set_tracking_uri(f"sqlite:///{directory}/mltrail.db")
    experiment = mltrail.set_experiment("bench-tracing")
    traced = mltrail.trace(plain)
    _loop(traced, WARMUP)
    mltrail.flush_traces()
    baseline = _loop(plain, calls)
    elapsed = _loop(traced, calls)
    started = time.perf_counter()
    mltrail.flush_traces()
    flush = time.perf_counter() - started
    store = setup.trace_store()
    stored, token = 0, None
    while True:
        page = store.search_traces([experiment.experiment_id], max_results=50000, page_token=token)
        stored += len(page.items)
        token = page.next_page_token
        if not token:
            break
    stats = setup.get_export_stats()
    return {
        "baseline_s": baseline,
        "traced_s": elapsed,
        "flush_s": flush,
        "stored": stored - WARMUP,
        "dropped": stats.dropped,
        "failed": stats.failed,
    }


def run_mlflow(calls: int, directory: str) -> dict[str, Any]:
    import mlflow
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(f"sqlite:///{directory}/mlflow.db")
    experiment_id = mlflow.set_experiment("bench-tracing").experiment_id
    traced = mlflow.trace(plain)
    _loop(traced, WARMUP)
    flush_async = getattr(mlflow, "flush_trace_async_logging", None)
    if flush_async is not None:
        flush_async()
    baseline = _loop(plain, calls)
    elapsed = _loop(traced, calls)
    started = time.perf_counter()
    if flush_async is not None:
        flush_async()
    flush = time.perf_counter() - started
    client = MlflowClient()
    stored, token = 0, None
    while True:
        page = client.search_traces(locations=[experiment_id], max_results=1000, page_token=token)
        stored += len(page)
        token = page.token
        if not token:
            break
    return {
        "baseline_s": baseline,
        "traced_s": elapsed,
        "flush_s": flush,
        "stored": stored - WARMUP,
        "dropped": None,
        "failed": None,
    }


def main() -> None:
    tool, calls, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    result = run_mltrail(calls, directory) if tool == "mltrail" else run_mlflow(calls, directory)
    result.update(tool=tool, calls=calls)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
