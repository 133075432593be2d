"""A real ``mltrail server`` process under load and failure: concurrency, durability, scale-out.

* 32 concurrent clients on one SQLite-backed server lose no point and never see "database is locked".
* A server SIGKILLed in the middle of a stream of log-batch requests loses none it acknowledged.
* Two server processes on one PostgreSQL database, written to at once, agree on every run.
* ``--workers 2`` serves from several processes sharing one SQLite store.
* A 256 MiB artifact goes up and down through the proxy without the server holding it in memory.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.databases import fresh_database
from tests.support.live_server import LiveServer, running_server, start_server

pytestmark = pytest.mark.integration

API = "/api/2.0/mlflow"


def call(session: requests.Session, url: str, method: str, rpc: str, **kwargs: Any) -> dict[str, Any]:
    response = session.request(method, f"{url}{API}/{rpc}", timeout=60, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def new_run(url: str, experiment_id: str | None = None) -> tuple[str, str]:
    with requests.Session() as s:
        if experiment_id is None:
            name = f"live-{time.time_ns()}"
            experiment_id = str(
                call(s, url, "POST", "experiments/create", json={"name": name})["experiment_id"]
            )
        run = call(s, url, "POST", "runs/create", json={"experiment_id": experiment_id})["run"]
        return experiment_id, str(run["info"]["run_id"])


def history(url: str, run_id: str, key: str) -> list[dict[str, Any]]:
    with requests.Session() as s:
        body = call(s, url, "GET", "metrics/get-history", params={"run_id": run_id, "metric_key": key})
        points: list[dict[str, Any]] = body.get("metrics", [])
        return points


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(tmp_path_factory.mktemp("live")) as live:
        yield live


def test_32_concurrent_clients_lose_nothing(server: LiveServer) -> None:
    experiment_id, shared_run = new_run(server.url)
    clients, batches, per_batch = 32, 8, 25
    own_runs = [new_run(server.url, experiment_id)[1] for _ in range(clients)]
    errors: list[str] = []

    def client(index: int) -> None:
        with requests.Session() as s:
            for batch in range(batches):
                steps = range(batch * per_batch, (batch + 1) * per_batch)
                for run_id in (own_runs[index], shared_run):
                    metrics = [
                        {"key": f"c{index}", "value": float(step), "timestamp": step, "step": step}
                        for step in steps
                    ]
                    response = s.post(
                        f"{server.url}{API}/runs/log-batch",
                        json={"run_id": run_id, "metrics": metrics},
                        timeout=120,
                    )
                    if response.status_code != 200:
                        errors.append(response.text)
                response = s.post(
                    f"{server.url}{API}/runs/log-metric",
                    json={
                        "run_id": shared_run,
                        "key": "single",
                        "value": index,
                        "timestamp": batch,
                        "step": index,
                    },
                    timeout=120,
                )
                if response.status_code != 200:
                    errors.append(response.text)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    assert errors == []
    for index in range(clients):
        expected = list(range(batches * per_batch))
        assert [p["step"] for p in history(server.url, own_runs[index], f"c{index}")] == expected
        assert [p["step"] for p in history(server.url, shared_run, f"c{index}")] == expected
    assert len(history(server.url, shared_run, "single")) == clients * batches
    assert "database is locked" not in server.log()


def test_sigkill_loses_no_acknowledged_batch(tmp_path: Path) -> None:
    live = start_server(tmp_path)
    try:
        _, run_id = new_run(live.url)
        acknowledged: list[int] = []
        stop = threading.Event()

        def writer() -> None:
            with requests.Session() as s:
                batch = 0
                while not stop.is_set():
                    metrics = [
                        {"key": "m", "value": 1.0, "timestamp": batch, "step": batch * 10 + i}
                        for i in range(10)
                    ]
                    try:
                        response = s.post(
                            f"{live.url}{API}/runs/log-batch",
                            json={"run_id": run_id, "metrics": metrics},
                            timeout=10,
                        )
                    except requests.RequestException:
                        return
                    if response.status_code == 200:
                        acknowledged.append(batch)
                    batch += 1

        thread = threading.Thread(target=writer)
        thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        live.kill()
        stop.set()
        thread.join(timeout=30)
        assert len(acknowledged) >= 50
    finally:
        live.kill()

    restarted = start_server(tmp_path, backend_store_uri=live.backend_store_uri)
    try:
        steps = {p["step"] for p in history(restarted.url, run_id, "m")}
    finally:
        restarted.stop()
    expected = {batch * 10 + i for batch in acknowledged for i in range(10)}
    assert expected <= steps


@pytest.mark.postgres
def test_two_servers_on_one_postgres_database_agree(tmp_path: Path) -> None:
    with (
        fresh_database("postgresql") as uri,
        running_server(tmp_path / "a", backend_store_uri=uri) as first,
        running_server(tmp_path / "b", backend_store_uri=uri) as second,
    ):
        experiment_id, _ = new_run(first.url)
        runs = [new_run(first.url if i % 2 else second.url, experiment_id)[1] for i in range(6)]
        urls = [first.url, second.url]

        def client(index: int) -> None:
            with requests.Session() as s:
                for batch in range(10):
                    url = urls[(index + batch) % 2]
                    run_id = runs[(index + batch) % len(runs)]
                    metrics = [{"key": f"k{index}", "value": batch, "timestamp": batch, "step": batch}]
                    params = [{"key": f"p{index}-{batch}", "value": str(batch)}]
                    call(
                        s,
                        url,
                        "POST",
                        "runs/log-batch",
                        json={"run_id": run_id, "metrics": metrics, "params": params},
                    )
                    call(
                        s,
                        url,
                        "POST",
                        "runs/set-tag",
                        json={"run_id": run_id, "key": f"t{index}", "value": str(batch)},
                    )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(client, range(8)))

        with requests.Session() as s:
            for run_id in runs:
                views = [call(s, url, "GET", "runs/get", params={"run_id": run_id})["run"] for url in urls]
                assert views[0] == views[1]
            search = [
                call(
                    s,
                    url,
                    "POST",
                    "runs/search",
                    json={"experiment_ids": [experiment_id], "max_results": 100},
                )
                for url in urls
            ]
            assert search[0] == search[1]
        total_params = sum(len(r["data"].get("params", [])) for r in search[0]["runs"])
        assert total_params == 8 * 10
        for index in range(8):
            points = [p for run_id in runs for p in history(second.url, run_id, f"k{index}")]
            assert sorted(p["step"] for p in points) == list(range(10))


def test_several_workers_share_one_sqlite_store(tmp_path: Path) -> None:
    with running_server(tmp_path, extra_args=["--workers", "2"]) as live:
        # /health answers once the first worker is up; the second may still be importing the
        # app on a busy machine. Wait for both, so the writes below meet two processes.
        live.wait_for_log("Application startup complete.", count=2)
        experiment_id, _ = new_run(live.url)
        with ThreadPoolExecutor(8) as pool:
            run_ids = list(pool.map(lambda _: new_run(live.url, experiment_id)[1], range(16)))

        def client(run_id: str) -> list[str]:
            failures = []
            with requests.Session() as s:
                for batch in range(10):
                    metrics = [
                        {"key": "w", "value": 1.0, "timestamp": 1, "step": batch * 20 + i} for i in range(20)
                    ]
                    response = s.post(
                        f"{live.url}{API}/runs/log-batch",
                        json={"run_id": run_id, "metrics": metrics},
                        timeout=120,
                    )
                    if response.status_code != 200:
                        failures.append(response.text)
            return failures

        with ThreadPoolExecutor(16) as pool:
            failures = [f for result in pool.map(client, run_ids) for f in result]
        assert failures == []
        with requests.Session() as s:
            found = call(
                s,
                live.url,
                "POST",
                "runs/search",
                json={"experiment_ids": [experiment_id], "max_results": 50},
            )
        assert {r["info"]["run_id"] for r in found["runs"]} >= set(run_ids)
        for run_id in run_ids:
            assert [p["step"] for p in history(live.url, run_id, "w")] == list(range(200))
        log = live.log()
        assert log.count("Started server process") >= 2
        assert "database is locked" not in log


def test_no_serve_artifacts_flag(tmp_path: Path) -> None:
    with running_server(tmp_path, extra_args=["--no-serve-artifacts"]) as live:
        response = requests.put(
            f"{live.url}/api/2.0/mlflow-artifacts/artifacts/a/b.txt", data=b"x", timeout=10
        )
        assert response.status_code == 503
        with requests.Session() as s:
            experiment_id = call(s, live.url, "POST", "experiments/create", json={"name": "e"})[
                "experiment_id"
            ]
            experiment = call(s, live.url, "GET", "experiments/get", params={"experiment_id": experiment_id})
        assert (
            experiment["experiment"]["artifact_location"] == f"{live.artifacts_destination}/{experiment_id}"
        )


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc to read peak memory")
def test_large_uploads_and_downloads_stream_in_bounded_memory(server: LiveServer) -> None:
    size_mib = 256
    block = bytes(range(256)) * 4096  # 1 MiB
    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/big-{time.time_ns()}/blob.bin"
    requests.get(f"{server.url}/health", timeout=10)
    before = _peak_rss_mib(server.process.pid)

    def body() -> Iterator[bytes]:
        for _ in range(size_mib):
            yield block

    assert requests.put(url, data=body(), timeout=300).status_code == 200
    expected = hashlib.sha256()
    for _ in range(size_mib):
        expected.update(block)
    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=300) as response:
        assert response.status_code == 200
        for chunk in response.iter_content(1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == expected.hexdigest()
    growth = _peak_rss_mib(server.process.pid) - before
    assert growth < 64, f"server peak memory grew by {growth:.0f} MiB for a {size_mib} MiB file"
