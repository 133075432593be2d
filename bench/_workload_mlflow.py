"""Benchmark workloads run with MLflow (inside bench/.venv-mlflow) on a local SQLite file.

Usage: ``python _workload_mlflow.py WORKLOAD SIZE WORKDIR``; prints one JSON line with the result.
The mltrail twin is ``_workload_mltrail.py``: the same steps through mltrail's APIs. Setup
(creating the experiment, the run, or the runs to search) is never timed.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

SEARCH_FILTER = "metrics.accuracy > 0.5"
SEARCH_ORDER_BY = ["metrics.loss ASC"]
SEARCH_PAGE_SIZE = 1000


def _uri(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'mlflow.db'}"


def fluent_log_metric(n: int, workdir: Path) -> dict[str, float]:
    """``n`` calls of ``mlflow.log_metric`` in one run; each call is written when it returns."""
    mlflow.set_tracking_uri(_uri(workdir))
    experiment_id = mlflow.create_experiment("bench", artifact_location=str(workdir / "artifacts"))
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_metric("warmup", 0.0)
        start = time.perf_counter()
        for i in range(n):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
        seconds = time.perf_counter() - start
    stored = len(MlflowClient(_uri(workdir)).get_metric_history(run.info.run_id, "loss"))
    return {"seconds": seconds, "operations": n, "points": n, "stored": stored}


def client_log_batch(calls: int, workdir: Path) -> dict[str, float]:
    """``calls`` calls of ``MlflowClient.log_batch`` with 1,000 metric points each."""
    client = MlflowClient(_uri(workdir))
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


def _bulk_create_runs(uri: str, workdir: Path, experiment_id: str, n: int) -> None:
    """Write ``n`` finished runs with MLflow's own store models in one transaction (fast setup)."""
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun, SqlTag
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(uri, str(workdir / "artifacts"))  # type: ignore[no-untyped-call]
    rng = random.Random(42)
    now = int(time.time() * 1000)
    rows: list[object] = []
    for i in range(n):
        run_id = uuid.uuid4().hex
        accuracy, loss = rng.random(), rng.random()
        rows.append(
            SqlRun(
                run_uuid=run_id,
                name=f"run-{i}",
                experiment_id=int(experiment_id),
                user_id="bench",
                status="FINISHED",
                start_time=now - i,
                end_time=now,
                lifecycle_stage="active",
                artifact_uri=str(workdir / "artifacts" / run_id / "artifacts"),
                source_type="LOCAL",
                source_name="bench",
                entry_point_name="",
                source_version="",
            )
        )
        for key, value in (("accuracy", accuracy), ("loss", loss)):
            rows.append(SqlMetric(run_uuid=run_id, key=key, value=value, timestamp=now, step=0, is_nan=False))
            rows.append(
                SqlLatestMetric(run_uuid=run_id, key=key, value=value, timestamp=now, step=0, is_nan=False)
            )
        rows.append(SqlParam(run_uuid=run_id, key="lr", value=str(i % 10)))
        rows.append(SqlTag(run_uuid=run_id, key="mlflow.runName", value=f"run-{i}"))
    with store.ManagedSessionMaker() as session:
        session.add_all(rows)


def search_runs(n: int, workdir: Path) -> dict[str, float]:
    """Search ``n`` runs with a metric filter and an order_by, paging through every result."""
    uri = _uri(workdir)
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("bench", artifact_location=str(workdir / "artifacts"))
    _bulk_create_runs(uri, workdir, experiment_id, n)
    client.search_runs([experiment_id], max_results=1)  # warm-up outside the timing
    start = time.perf_counter()
    found = 0
    token = None
    while True:
        page = client.search_runs(
            [experiment_id],
            filter_string=SEARCH_FILTER,
            order_by=SEARCH_ORDER_BY,
            max_results=SEARCH_PAGE_SIZE,
            page_token=token,
        )
        found += len(page)
        token = page.token
        if not token:
            break
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "operations": 1, "points": n, "stored": found}


WORKLOADS = {"log_metric": fluent_log_metric, "log_batch": client_log_batch, "search_runs": search_runs}

if __name__ == "__main__":
    name, size, workdir = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    result = WORKLOADS[name](size, workdir)
    print(json.dumps({"tool": "mlflow", "version": mlflow.__version__, "workload": name, **result}))
