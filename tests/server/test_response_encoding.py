"""Response encoding rules of spec §0.3 and the server's common endpoints and headers."""

from __future__ import annotations

from pathlib import Path

import httpx

from mltrail import __version__
from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from mltrail.tracking.entities import Experiment
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.server.api_helpers import API, Api
from tests.support.live_server import threaded_server


def test_int64_are_numbers_and_enums_are_names(api: Api) -> None:
    experiment_id = api.create_experiment()
    response = api.post("runs/create", {"experiment_id": experiment_id, "start_time": 1700000000001})
    assert '"start_time":1700000000001' in response.text.replace(" ", "")
    assert '"status":"RUNNING"' in response.text.replace(" ", "")


def test_unset_and_empty_fields_are_omitted(api: Api) -> None:
    run = api.create_run()
    assert "end_time" not in run["info"]
    assert "metrics" not in run["data"] and "params" not in run["data"]
    assert run["inputs"] == {} and run["outputs"] == {}
    run_id = run["info"]["run_id"]
    assert api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "none"})) == {}


def test_explicit_zero_is_kept(api: Api) -> None:
    run_id = api.run_id()
    api.ok(api.post("runs/log-metric", {"run_id": run_id, "key": "z", "value": 0, "timestamp": 0, "step": 0}))
    assert api.get_run(run_id)["data"]["metrics"] == [{"key": "z", "value": 0.0, "timestamp": 0, "step": 0}]


def test_next_page_token_only_when_more(api: Api) -> None:
    experiment_id = api.create_experiment()
    for _ in range(2):
        api.run_id(experiment_id)
    first = api.ok(api.post("runs/search", {"experiment_ids": [experiment_id], "max_results": 1}))
    assert "next_page_token" in first
    last = api.ok(
        api.post(
            "runs/search",
            {"experiment_ids": [experiment_id], "max_results": 1, "page_token": first["next_page_token"]},
        )
    )
    assert "next_page_token" not in last
    whole = api.ok(api.post("runs/search", {"experiment_ids": [experiment_id], "max_results": 2}))
    assert len(whole["runs"]) == 2 and "next_page_token" not in whole


def test_void_rpcs_answer_empty_objects(api: Api) -> None:
    run_id = api.run_id()
    response = api.post("runs/set-tag", {"run_id": run_id, "key": "a", "value": "b"})
    assert response.status_code == 200 and response.json() == {}
    assert response.headers["content-type"] == "application/json"


def test_version_header_on_every_response(http: httpx.Client, api: Api) -> None:
    responses = [
        http.get("/health"),
        api.post("experiments/create", {}),  # an error
        http.get(f"{API}/no-such-rpc"),  # unknown route
        api.get("runs/get", {"run_id": api.run_id()}),
    ]
    for response in responses:
        assert response.headers["x-mltrail-version"] == __version__


def test_health_version_and_server_info(http: httpx.Client) -> None:
    health = http.get("/health")
    assert health.status_code == 200 and health.text == "OK"
    assert health.headers["content-type"].startswith("text/plain")
    version = http.get("/version")
    assert version.text == "3.17.2"
    for prefix in ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"):
        info = http.get(f"{prefix}/server-info").json()
        assert info["store_type"] == "SqlStore"
        assert info["multipart_uploads_enabled"] is False
        assert info["multipart_downloads_enabled"] is False
        assert info["workspaces_enabled"] is False
        assert info["mltrail_version"] == __version__
        assert isinstance(info["features_enabled"], dict)


def test_unknown_route_is_html_404_and_wrong_method_html_405(http: httpx.Client) -> None:
    missing = http.get(f"{API}/no-such-rpc")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    wrong = http.get(f"{API}/experiments/create")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"].startswith("text/html")


class _CrashingStore(SqlTrackingStore):
    """A store with a bug: reading an experiment raises an unexpected exception."""

    def get_experiment(self, experiment_id: str) -> Experiment:
        raise RuntimeError("unexpected bug")


def test_unexpected_errors_are_a_json_500_with_the_header(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'db.sqlite'}"
    app = create_app(
        ServerSettings(backend_store_uri=uri, artifacts_destination=str(tmp_path)),
        store=_CrashingStore(uri, "mlflow-artifacts:/"),
    )
    with threaded_server(app) as url, httpx.Client(base_url=url) as client:
        response = client.get(f"{API}/experiments/get", params={"experiment_id": "0"})
        assert response.status_code == 500
        assert response.json() == {"error_code": "INTERNAL_ERROR", "message": "Internal server error."}
        assert response.headers["x-mltrail-version"] == __version__
        assert "unexpected bug" not in response.text
        assert client.get("/health").text == "OK"
