"""The HTTP workloads of ``bench/server.py``: the same requests against mltrail and MLflow servers.

Every workload talks to a server only through its REST API with a keep-alive ``requests.Session``
(one per client thread). A workload is an object in three steps: ``prepare`` builds its experiment
and runs (never timed), ``run_round`` times one share of the work, and ``finish`` checks what the
server stored and returns the :class:`Measure`. ``bench/server.py`` runs the rounds of the two
tools in turn, so both see the same background load. Search runs are seeded by a callback,
because each tool's setup differs.
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
    "ConcurrentLogMetric",
    "GetHistory",
    "LogBatch",
    "LogMetric",
    "Measure",
    "SearchRuns",
    "Workload",
    "shares",
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


def shares(total: int, rounds: int) -> list[int]:
    """``total`` split into ``rounds`` near-equal whole parts."""
    return [total // rounds + (1 if i < total % rounds else 0) for i in range(rounds)]


class Workload:
    """One workload against one server: untimed ``prepare``, timed rounds, checked ``finish``.

    Rate workloads add up their rounds (``best_of`` false); single timed operations (a search, a
    history read) keep their fastest round.
    """

    best_of = False

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.operations = 0
        self.points = 0
        self.errors = 0
        self.extra: dict[str, Any] = {}

    def prepare(self) -> None:
        """Create what the timed rounds need."""

    def run_round(self, index: int, rounds: int) -> None:
        """Run and time round ``index`` of ``rounds``."""
        raise NotImplementedError

    def check(self) -> None:
        """Raise ``RuntimeError`` when the server did not store or return what was sent."""

    def finish(self) -> Measure:
        """Check the result and return the measure."""
        self.check()
        seconds = min(self.seconds) if self.best_of else sum(self.seconds)
        extra = dict(self.extra, rounds=len(self.seconds))
        return Measure(seconds, self.operations, self.points, self.errors, extra)


class LogMetric(Workload):
    """Sequential ``runs/log-metric`` requests, one point each, into one run."""

    def __init__(self, api: Api, calls: int) -> None:
        super().__init__()
        self.api, self.calls = api, calls
        self.run_id = ""
        self.step = 0

    def prepare(self) -> None:
        self.run_id = self.api.create_run(self.api.create_experiment("bench-log-metric"), "log-metric")
        for i in range(20):
            self.api.post(
                "runs/log-metric",
                {"run_id": self.run_id, "key": "warmup", "value": 0.0, "timestamp": 0, "step": i},
            )

    def run_round(self, index: int, rounds: int) -> None:
        n = shares(self.calls, rounds)[index]
        timestamp = _now_ms()
        post, run_id, first = self.api.post, self.run_id, self.step
        start = time.perf_counter()
        for i in range(first, first + n):
            post(
                "runs/log-metric",
                {"run_id": run_id, "key": "loss", "value": 1.0 / (i + 1), "timestamp": timestamp, "step": i},
            )
        self.seconds.append(time.perf_counter() - start)
        self.step += n
        self.operations += n
        self.points += n

    def check(self) -> None:
        stored = self.api.history_len(self.run_id, "loss")
        if stored != self.calls:
            raise RuntimeError(f"log-metric: {stored} points stored, {self.calls} sent")


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


class LogBatch(Workload):
    """``runs/log-batch`` requests of 1,000 metric points each, into one run."""

    def __init__(self, api: Api, calls: int) -> None:
        super().__init__()
        self.api, self.calls = api, calls
        self.run_id = ""
        self.call = 0

    def prepare(self) -> None:
        self.run_id = self.api.create_run(self.api.create_experiment("bench-log-batch"), "log-batch")

    def run_round(self, index: int, rounds: int) -> None:
        n = shares(self.calls, rounds)[index]
        timestamp = _now_ms()
        start = time.perf_counter()
        for call in range(self.call, self.call + n):
            self.api.post("runs/log-batch", _batch_body(self.run_id, call, timestamp))
        self.seconds.append(time.perf_counter() - start)
        self.call += n
        self.operations += n
        self.points += n * BATCH_SIZE

    def check(self) -> None:
        stored = self.api.history_len(self.run_id, "m0") * 100
        if stored != self.calls * BATCH_SIZE:
            raise RuntimeError(f"log-batch: {stored} points stored, {self.calls * BATCH_SIZE} sent")


class SearchRuns(Workload):
    """Page through every run matching the filter, ordered, 1,000 a page; the fastest round counts.

    Args:
        api: The server.
        runs: How many runs ``seed`` creates.
        seed: Writes the runs into the experiment it is given (setup, not timed).
        expected: How many runs match the filter.
    """

    best_of = True

    def __init__(self, api: Api, runs: int, seed: Callable[[Api, str, int], None], expected: int) -> None:
        super().__init__()
        self.api, self.runs, self.seed, self.expected = api, runs, seed, expected
        self.experiment_id = ""

    def prepare(self) -> None:
        self.experiment_id = self.api.create_experiment("bench-search")
        started = time.perf_counter()
        self.seed(self.api, self.experiment_id, self.runs)
        self.extra["setup_seconds"] = time.perf_counter() - started
        self.api.post("runs/search", {"experiment_ids": [self.experiment_id], "max_results": 1})

    def run_round(self, index: int, rounds: int) -> None:
        start = time.perf_counter()
        token: str | None = None
        found = pages = 0
        while True:
            body: dict[str, Any] = {
                "experiment_ids": [self.experiment_id],
                "filter": SEARCH_FILTER,
                "order_by": SEARCH_ORDER_BY,
                "max_results": SEARCH_PAGE_SIZE,
            }
            if token:
                body["page_token"] = token
            reply = self.api.post("runs/search", body)
            found += len(reply.get("runs", ()))
            pages += 1
            token = reply.get("next_page_token")
            if not token:
                break
        self.seconds.append(time.perf_counter() - start)
        if found != self.expected:
            raise RuntimeError(f"search: {found} runs found, {self.expected} expected")
        self.operations, self.points = pages, found


class GetHistory(Workload):
    """One unpaged ``metrics/get-history`` of a ``points``-point metric; the fastest round counts."""

    best_of = True

    def __init__(self, api: Api, points: int) -> None:
        super().__init__()
        self.api, self.total = api, points
        self.run_id = ""

    def prepare(self) -> None:
        self.run_id = self.api.create_run(self.api.create_experiment("bench-history"), "history")
        timestamp = _now_ms()
        for call in range(0, self.total, BATCH_SIZE):
            metrics = [
                {"key": "loss", "value": 1.0 / (step + 1), "timestamp": timestamp, "step": step}
                for step in range(call, min(call + BATCH_SIZE, self.total))
            ]
            self.api.post("runs/log-batch", {"run_id": self.run_id, "metrics": metrics})

    def run_round(self, index: int, rounds: int) -> None:
        start = time.perf_counter()
        read = self.api.history_len(self.run_id, "loss")
        self.seconds.append(time.perf_counter() - start)
        if read != self.total:
            raise RuntimeError(f"get-history: {read} points read, {self.total} logged")
        self.operations, self.points = 1, read


class ConcurrentLogMetric(Workload):
    """``clients`` threads, each with its own session and run, logging single points.

    In every round all clients start at the same moment; a round lasts until the last client is
    done. A failed request counts as an error and the client carries on.
    """

    def __init__(self, base_url: str, clients: int, calls_each: int) -> None:
        super().__init__()
        self.base_url, self.clients, self.calls_each = base_url, clients, calls_each
        self.apis: list[Api] = []
        self.run_ids: list[str] = []
        self.step = 0
        self.extra["clients"] = clients

    def prepare(self) -> None:
        setup = Api(self.base_url)
        experiment_id = setup.create_experiment("bench-concurrent")
        self.run_ids = [setup.create_run(experiment_id, f"client-{c}") for c in range(self.clients)]
        setup.close()
        self.apis = [Api(self.base_url) for _ in range(self.clients)]
        for api, run_id in zip(self.apis, self.run_ids, strict=True):
            api.post("runs/log-metric", {"run_id": run_id, "key": "warmup", "value": 0.0, "timestamp": 0})

    def run_round(self, index: int, rounds: int) -> None:
        n = shares(self.calls_each, rounds)[index]
        first = self.step
        barrier = threading.Barrier(self.clients + 1)
        errors = [0] * self.clients
        timestamp = _now_ms()

        def client(c: int) -> None:
            api, run_id = self.apis[c], self.run_ids[c]
            barrier.wait()
            for i in range(first, first + n):
                try:
                    api.post(
                        "runs/log-metric",
                        {
                            "run_id": run_id,
                            "key": "loss",
                            "value": float(i),
                            "timestamp": timestamp,
                            "step": i,
                        },
                    )
                except (ApiError, requests.RequestException):
                    errors[c] += 1

        with ThreadPoolExecutor(max_workers=self.clients) as pool:
            futures = [pool.submit(client, c) for c in range(self.clients)]
            barrier.wait()
            start = time.perf_counter()
            for future in futures:
                future.result()
            self.seconds.append(time.perf_counter() - start)
        self.step += n
        self.operations += self.clients * n
        self.errors += sum(errors)
        self.points += self.clients * n - sum(errors)

    def check(self) -> None:
        stored = sum(self.apis[0].history_len(run_id, "loss") for run_id in self.run_ids)
        for api in self.apis:
            api.close()
        if stored != self.points:
            raise RuntimeError(f"concurrent: {stored} points stored, {self.points} acknowledged")
