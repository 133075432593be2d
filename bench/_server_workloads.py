"""The HTTP workloads of ``bench/server.py``: the same requests against mltrail and MLflow servers.

Every workload talks to a server only through its REST API with a keep-alive ``requests.Session``
(one per client thread), builds its own experiment and runs first (never timed), checks what it
reads back, and returns a :class:`Measure`. Search runs are seeded by a callback, because each
tool's setup differs (see ``bench/server.py``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from _server_data import SEARCH_FILTER, SEARCH_ORDER_BY, SEARCH_PAGE_SIZE

__all__ = [
    "BATCH_SIZE",
    "Api",
    "Measure",
    "concurrent_log_metric",
    "get_history",
    "log_batch",
    "log_metric",
    "search_runs",
]

BATCH_SIZE = 1000
_TIMEOUT_S = 600.0


class ApiError(RuntimeError):
    """A request answered with a status other than 200."""


class Api:
    """A keep-alive JSON client of one server's ``/api/2.0/mlflow`` routes.

    Args:
        base_url: ``http://127.0.0.1:PORT``.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.prefix = f"{base_url}/api/2.0/mlflow/"
        self.session = requests.Session()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body; the decoded reply.

        Raises:
            ApiError: the server answered with an error status.
        """
        response = self.session.post(self.prefix + path, json=body, timeout=_TIMEOUT_S)
        if response.status_code != 200:
            raise ApiError(f"POST {path}: {response.status_code} {response.text[:500]}")
        reply: dict[str, Any] = response.json()
        return reply

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """GET with query parameters; the decoded reply.

        Raises:
            ApiError: the server answered with an error status.
        """
        response = self.session.get(self.prefix + path, params=params, timeout=_TIMEOUT_S)
        if response.status_code != 200:
            raise ApiError(f"GET {path}: {response.status_code} {response.text[:500]}")
        reply: dict[str, Any] = response.json()
        return reply

    def create_experiment(self, name: str) -> str:
        """A new experiment's id; its name is ``name`` plus a unique suffix."""
        body = {"name": f"{name}-{uuid.uuid4().hex[:8]}"}
        return str(self.post("experiments/create", body)["experiment_id"])

    def create_run(self, experiment_id: str, name: str) -> str:
        """A new run's id."""
        body = {"experiment_id": experiment_id, "run_name": name, "start_time": _now_ms()}
        return str(self.post("runs/create", body)["run"]["info"]["run_id"])

    def history_len(self, run_id: str, key: str) -> int:
        """How many points a metric has (one unpaged get-history)."""
        reply = self.get("metrics/get-history", {"run_id": run_id, "metric_key": key})
        return len(reply.get("metrics", ()))

    def close(self) -> None:
        """Close the connection pool."""
        self.session.close()


@dataclass
class Measure:
    """One workload's outcome.

    Args:
        seconds: Timed wall time.
        operations: Requests (or searches, or reads) timed.
        points: Metric points written or read, or runs found.
        errors: Failed requests (concurrent workload).
        extra: Workload-specific facts for the report.
    """

    seconds: float
    operations: int
    points: int
    errors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Points per second."""
        return self.points / self.seconds if self.seconds > 0 else float("inf")


def _now_ms() -> int:
    return int(time.time() * 1000)


def log_metric(api: Api, calls: int) -> Measure:
    """``calls`` sequential ``runs/log-metric`` requests, one point each, into one run."""
    run_id = api.create_run(api.create_experiment("bench-log-metric"), "log-metric")
    for i in range(20):
        api.post(
            "runs/log-metric", {"run_id": run_id, "key": "warmup", "value": 0.0, "timestamp": 0, "step": i}
        )
    timestamp = _now_ms()
    start = time.perf_counter()
    for i in range(calls):
        api.post(
            "runs/log-metric",
            {"run_id": run_id, "key": "loss", "value": 1.0 / (i + 1), "timestamp": timestamp, "step": i},
        )
    seconds = time.perf_counter() - start
    stored = api.history_len(run_id, "loss")
    if stored != calls:
        raise RuntimeError(f"log-metric: {stored} points stored, {calls} sent")
    return Measure(seconds, calls, calls)


def _batch_body(run_id: str, call: int, timestamp: int) -> dict[str, Any]:
    # 100 keys x 10 steps per request: histories grow as in a real run logging many metrics.
    return {
        "run_id": run_id,
        "metrics": [
            {
                "key": f"m{j % 100}",
                "value": float(call * BATCH_SIZE + j),
                "timestamp": timestamp,
                "step": call * 10 + j // 100,
            }
            for j in range(BATCH_SIZE)
        ],
    }


def log_batch(api: Api, calls: int) -> Measure:
    """``calls`` ``runs/log-batch`` requests of 1,000 metric points each, into one run."""
    run_id = api.create_run(api.create_experiment("bench-log-batch"), "log-batch")
    timestamp = _now_ms()
    start = time.perf_counter()
    for call in range(calls):
        api.post("runs/log-batch", _batch_body(run_id, call, timestamp))
    seconds = time.perf_counter() - start
    stored = api.history_len(run_id, "m0") * 100
    if stored != calls * BATCH_SIZE:
        raise RuntimeError(f"log-batch: {stored} points stored, {calls * BATCH_SIZE} sent")
    return Measure(seconds, calls, calls * BATCH_SIZE)


def search_runs(
    api: Api, runs: int, seed: Callable[[Api, str, int], None], expected: int, repeats: int = 1
) -> Measure:
    """Page through every run matching the filter, ordered, 1,000 a page; the best of ``repeats``.

    Args:
        api: The server.
        runs: How many runs ``seed`` creates.
        seed: Writes the runs into the experiment it is given (setup, not timed).
        expected: How many runs match the filter.
        repeats: Timed passes; the fastest counts.
    """
    experiment_id = api.create_experiment("bench-search")
    started = time.perf_counter()
    seed(api, experiment_id, runs)
    setup_seconds = time.perf_counter() - started
    api.post("runs/search", {"experiment_ids": [experiment_id], "max_results": 1})
    best = float("inf")
    pages = found = 0
    for _ in range(repeats):
        start = time.perf_counter()
        token: str | None = None
        found = pages = 0
        while True:
            body: dict[str, Any] = {
                "experiment_ids": [experiment_id],
                "filter": SEARCH_FILTER,
                "order_by": SEARCH_ORDER_BY,
                "max_results": SEARCH_PAGE_SIZE,
            }
            if token:
                body["page_token"] = token
            reply = api.post("runs/search", body)
            found += len(reply.get("runs", ()))
            pages += 1
            token = reply.get("next_page_token")
            if not token:
                break
        best = min(best, time.perf_counter() - start)
        if found != expected:
            raise RuntimeError(f"search: {found} runs found, {expected} expected")
    return Measure(best, pages, found, extra={"setup_seconds": setup_seconds, "repeats": repeats})


def get_history(api: Api, points: int, repeats: int = 2) -> Measure:
    """One unpaged ``metrics/get-history`` of a ``points``-point metric; the best of ``repeats``."""
    run_id = api.create_run(api.create_experiment("bench-history"), "history")
    timestamp = _now_ms()
    for call in range(0, points, BATCH_SIZE):
        metrics = [
            {"key": "loss", "value": 1.0 / (step + 1), "timestamp": timestamp, "step": step}
            for step in range(call, min(call + BATCH_SIZE, points))
        ]
        api.post("runs/log-batch", {"run_id": run_id, "metrics": metrics})
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        read = api.history_len(run_id, "loss")
        best = min(best, time.perf_counter() - start)
        if read != points:
            raise RuntimeError(f"get-history: {read} points read, {points} logged")
    return Measure(best, 1, points, extra={"repeats": repeats})


def concurrent_log_metric(base_url: str, clients: int, calls_each: int) -> Measure:
    """``clients`` threads, each with its own session and run, logging ``calls_each`` single points.

    Every client starts at the same moment; the rate is all points over the wall time until the
    last client finishes. A failed request counts as an error and the client carries on.
    """
    setup = Api(base_url)
    experiment_id = setup.create_experiment("bench-concurrent")
    run_ids = [setup.create_run(experiment_id, f"client-{c}") for c in range(clients)]
    apis = [Api(base_url) for _ in range(clients)]
    for api, run_id in zip(apis, run_ids, strict=True):
        api.post("runs/log-metric", {"run_id": run_id, "key": "warmup", "value": 0.0, "timestamp": 0})
    barrier = threading.Barrier(clients + 1)
    errors = [0] * clients
    timestamp = _now_ms()

    def client(index: int) -> None:
        api, run_id = apis[index], run_ids[index]
        barrier.wait()
        for i in range(calls_each):
            try:
                api.post(
                    "runs/log-metric",
                    {"run_id": run_id, "key": "loss", "value": float(i), "timestamp": timestamp, "step": i},
                )
            except (ApiError, requests.RequestException):
                errors[index] += 1

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(client, c) for c in range(clients)]
        barrier.wait()
        start = time.perf_counter()
        for future in futures:
            future.result()
        seconds = time.perf_counter() - start
    total = clients * calls_each
    stored = sum(setup.history_len(run_id, "loss") for run_id in run_ids)
    for api in apis:
        api.close()
    setup.close()
    ok = total - sum(errors)
    if stored != ok:
        raise RuntimeError(f"concurrent: {stored} points stored, {ok} acknowledged")
    return Measure(seconds, total, ok, errors=sum(errors), extra={"clients": clients})
