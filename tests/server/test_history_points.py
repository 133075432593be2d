"""The lean metric-history read path answers byte for byte what the ``Metric`` path answers.

Two apps serve the same SQLite database: one with the SQL store as is (bare points, encoded
straight to JSON), one with a store that opts out of ``get_metric_history_points`` and so goes
through ``Metric`` entities and ``metric_to_dict``. Every history request must get identical bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from mltrail.tracking.entities import Page
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.server.api_helpers import AJAX, API


class EntityPathStore(SqlTrackingStore):
    """The SQL store without the bare-points read path (as a third-party store would be)."""

    def get_metric_history_points(  # type: ignore[override]  # opting out is the point
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[tuple[float, int, int]] | None:
        return None


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TestClient]]:
    workdir: Path = tmp_path_factory.mktemp("history-points")
    uri = f"sqlite:///{workdir / 'mltrail.db'}"
    settings = ServerSettings(backend_store_uri=uri, artifacts_destination=str(workdir / "artifacts"))
    entity_store = EntityPathStore(uri, str(workdir / "artifacts"))
    with (
        TestClient(create_app(settings)) as lean,
        TestClient(create_app(settings, store=entity_store)) as entity,
    ):
        yield lean, entity


def _run(client: TestClient, name: str) -> str:
    experiment = client.post(f"{API}/experiments/create", json={"name": name}).json()["experiment_id"]
    body = client.post(f"{API}/runs/create", json={"experiment_id": experiment}).json()
    return str(body["run"]["info"]["run_id"])


def _log(client: TestClient, run_id: str, metrics: list[dict[str, object]]) -> None:
    response = client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics})
    assert response.status_code == 200, response.text


def _same(clients: tuple[TestClient, TestClient], path: str, params: object) -> bytes:
    lean, entity = clients
    a = lean.get(path, params=params)  # type: ignore[arg-type]
    b = entity.get(path, params=params)  # type: ignore[arg-type]
    assert (a.status_code, a.content) == (b.status_code, b.content)
    return a.content


def test_special_values_and_ordering(clients: tuple[TestClient, TestClient]) -> None:
    lean, _ = clients
    run_id = _run(lean, "special-values")
    values: list[object] = ["NaN", "Infinity", "-Infinity", 0.1, -0.0, 1e300, 3, 1e-7, 123456789.125]
    _log(
        lean, run_id, [{"key": "m", "value": v, "timestamp": 10 - i, "step": i} for i, v in enumerate(values)]
    )
    body = _same(clients, f"{API}/metrics/get-history", {"run_id": run_id, "metric_key": "m"})
    points = json.loads(body)["metrics"]
    assert [p["step"] for p in points] == list(range(8, -1, -1))
    assert list(points[0]) == ["key", "value", "timestamp", "step"]
    # ±inf are clamped to ±max double when stored, as MLflow does; NaN stays a string.
    assert [p["value"] for p in reversed(points)] == [
        "NaN",
        1.7976931348623157e308,
        -1.7976931348623157e308,
        0.1,
        -0.0,
        1e300,
        3.0,
        1e-7,
        123456789.125,
    ]
    assert _same(clients, f"{API}/metrics/get-history", {"run_id": run_id, "metric_key": "none"}) == b"{}"


def test_paging_tokens(clients: tuple[TestClient, TestClient]) -> None:
    lean, _ = clients
    run_id = _run(lean, "paging")
    _log(
        lean, run_id, [{"key": "loss", "value": 1.0 / (s + 1), "timestamp": 100, "step": s} for s in range(7)]
    )
    token: str | None = None
    pages = 0
    while True:
        params = {"run_uuid": run_id, "metric_key": "loss", "max_results": "3"}
        if token:
            params["page_token"] = token
        body = lean.get(f"{API}/metrics/get-history", params=params).json()
        _same(clients, f"{API}/metrics/get-history", params)
        pages += 1
        token = body.get("next_page_token")
        if not token:
            break
    assert pages == 3
    _same(clients, f"{API}/metrics/get-history", {"run_id": run_id, "metric_key": "loss", "max_results": 0})
    _same(
        clients, f"{API}/metrics/get-history", {"run_id": run_id, "metric_key": "loss", "page_token": "bad"}
    )
    _same(clients, f"{API}/metrics/get-history", {"run_id": "0" * 32, "metric_key": "loss"})


def test_bulk_history(clients: tuple[TestClient, TestClient]) -> None:
    lean, _ = clients
    runs = sorted(_run(lean, f"bulk-{i}") for i in range(3))
    for i, run_id in enumerate(runs):
        _log(
            lean,
            run_id,
            [{"key": "acc", "value": v, "timestamp": 1, "step": s} for s, v in enumerate([i, "NaN"])],
        )
    params = [("metric_key", "acc"), *(("run_id", r) for r in runs)]
    body = _same(clients, f"{AJAX}/metrics/get-history-bulk", params)
    assert body.count(b'"run_id"') == 6
    _same(clients, f"{AJAX}/metrics/get-history-bulk", [*params, ("max_results", "4")])
    _same(clients, f"{AJAX}/metrics/get-history-bulk", [("metric_key", "none"), ("run_id", runs[0])])
