"""Benchmark workloads run with mltrail (this repository's .venv) on a local SQLite file.

Usage: ``python _workload_mltrail.py WORKLOAD SIZE WORKDIR``; prints one JSON line with the result.
The MLflow twin is ``_workload_mlflow.py``: the same steps through MLflow's APIs. Setup (creating
the experiment, the run, or the runs to search) is never timed; for metrics the timing includes
``flush()``, so every point is on disk when the clock stops.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import mltrail
from mltrail.config import Settings
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import Metric, Param, RunStatus, RunTag

SEARCH_FILTER = "metrics.accuracy > 0.5"
SEARCH_ORDER_BY = ["metrics.loss ASC"]
SEARCH_PAGE_SIZE = 1000


def _uri(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'mltrail.db'}"


def _client(workdir: Path) -> TrackingClient:
    settings = Settings(tracking_uri=_uri(workdir), artifact_root=str(workdir / "artifacts"))
    return TrackingClient(settings=settings)


def fluent_log_metric(n: int, workdir: Path) -> dict[str, float]:
    """``n`` calls of ``mltrail.log_metric`` in one run, timed until ``flush()`` returns."""
    mltrail.set_tracking_uri(_uri(workdir))
    experiment_id = mltrail.create_experiment("bench", artifact_location=str(workdir / "artifacts"))
    with mltrail.start_run(experiment_id=experiment_id) as run:
        mltrail.log_metric("warmup", 0.0)
        mltrail.flush()
        start = time.perf_counter()
        for i in range(n):
            mltrail.log_metric("loss", 1.0 / (i + 1), step=i)
        mltrail.flush()
        seconds = time.perf_counter() - start
    with _client(workdir) as client:
        stored = len(client.get_metric_history(run.info.run_id, "loss"))
    return {"seconds": seconds, "operations": n, "points": n, "stored": stored}


def client_log_batch(calls: int, workdir: Path) -> dict[str, float]:
    """``calls`` calls of ``TrackingClient.log_batch`` with 1,000 metric points each."""
    with _client(workdir) as client:
        experiment_id = client.create_experiment("bench", artifact_location=str(workdir / "artifacts"))
        run_id = client.create_run(experiment_id).info.run_id
        timestamp = int(time.time() * 1000)
        batches = [
            [Metric(f"m{j % 100}", float(c * 1000 + j), timestamp, c * 10 + j // 100) for j in range(1000)]
            for c in range(calls)
        ]
        start = time.perf_counter()
        for metrics in batches:
            client.log_batch(run_id, metrics=metrics)
        seconds = time.perf_counter() - start
        stored = len(client.get_metric_history(run_id, "m0")) * 100
    return {"seconds": seconds, "operations": calls, "points": calls * 1000, "stored": stored}


def _create_runs(client: TrackingClient, experiment_id: str, n: int) -> None:
    """``n`` finished runs with the same data as the MLflow twin (same seed), through the store API."""
    store = client.store
    rng = random.Random(42)
    now = int(time.time() * 1000)
    for i in range(n):
        accuracy, loss = rng.random(), rng.random()
        run_id = store.create_run(
            experiment_id, user_id="bench", start_time=now - i, run_name=f"run-{i}"
        ).info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric("accuracy", accuracy, now, 0), Metric("loss", loss, now, 0)],
            params=[Param("lr", str(i % 10))],
            tags=[RunTag("mlflow.runName", f"run-{i}")],
        )
        store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=now)


def search_runs(n: int, workdir: Path) -> dict[str, float]:
    """Search ``n`` runs with a metric filter and an order_by, paging through every result."""
    with _client(workdir) as client:
        experiment_id = client.create_experiment("bench", artifact_location=str(workdir / "artifacts"))
        _create_runs(client, experiment_id, n)
        client.search_runs([experiment_id], max_results=1)  # warm-up outside the timing
        start = time.perf_counter()
        found = 0
        token: str | None = None
        while True:
            page = client.search_runs(
                [experiment_id],
                filter_string=SEARCH_FILTER,
                order_by=SEARCH_ORDER_BY,
                max_results=SEARCH_PAGE_SIZE,
                page_token=token,
            )
            found += len(page)
            token = page.next_page_token
            if not token:
                break
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "operations": 1, "points": n, "stored": found}


WORKLOADS = {"log_metric": fluent_log_metric, "log_batch": client_log_batch, "search_runs": search_runs}

if __name__ == "__main__":
    name, size, workdir = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    result = WORKLOADS[name](size, workdir)
    print(json.dumps({"tool": "mltrail", "version": mltrail.__version__, "workload": name, **result}))
