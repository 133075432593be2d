"""Trace endpoints on the wire (spec TRACING §3): paths, precedence, shapes, attachments."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from mltrail.tracing.entities import mlflow_trace_id
from mltrail.tracing.otlp import encode_spans
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.tracing_backend._spans import simple_trace


class App:
    """An in-process server with one experiment and one stored trace."""

    def __init__(
        self, client: TestClient, tracking: SqlTrackingStore, experiment_id: str, trace_id: str
    ) -> None:
        self.client = client
        self.tracking = tracking
        self.experiment_id = experiment_id
        self.trace_id = trace_id


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    tracking = SqlTrackingStore(uri, "mlflow-artifacts:/")
    exp = tracking.create_experiment("routes")
    settings = ServerSettings(backend_store_uri=uri, artifacts_destination=str(tmp_path / "artifacts"))
    with TestClient(create_app(settings, store=tracking)) as client:
        otel_id, spans = simple_trace("routes-root", attributes={"mlflow.spanInputs": {"q": 1}})
        response = client.post(
            "/v1/traces",
            content=encode_spans(spans),
            headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": exp},
        )
        assert response.status_code == 200
        yield App(client, tracking, exp, mlflow_trace_id(otel_id))


def test_start_trace_v3_and_get_info(app: App) -> None:
    new_id = "tr-" + uuid.uuid4().hex
    body = {
        "trace": {
            "trace_info": {
                "trace_id": new_id,
                "trace_location": {
                    "type": "MLFLOW_EXPERIMENT",
                    "mlflow_experiment": {"experiment_id": app.experiment_id},
                },
                "request_time": "2026-11-27T13:06:18.073Z",
                "execution_duration": "0.824s",
                "state": "OK",
                "trace_metadata": {"mlflow.user": "me"},
                "tags": {"k": "v"},
            }
        }
    }
    created = app.client.post("/api/3.0/mlflow/traces", json=body).json()["trace"]["trace_info"]
    assert created["execution_duration"] == "0.824s"
    assert created["tags"]["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert (
        created["tags"]["mlflow.artifactLocation"]
        == f"mlflow-artifacts:/{app.experiment_id}/traces/{new_id}/artifacts"
    )
    assert created["trace_metadata"]["mlflow.trace.infoFinalized"] == "true"
    got = app.client.get(f"/ajax-api/3.0/mlflow/traces/{new_id}").json()["trace"]["trace_info"]
    assert got == created


def test_fixed_paths_win_over_trace_id(app: App) -> None:
    full = app.client.get("/api/3.0/mlflow/traces/get", params={"trace_id": app.trace_id}).json()["trace"]
    assert full["trace_info"]["trace_id"] == app.trace_id
    assert len(full["spans"]) == 2
    assert {s["name"] for s in full["spans"]} == {"routes-root", "child"}
    batch = app.client.get(
        "/api/3.0/mlflow/traces/batchGet",
        params=[("trace_ids", app.trace_id), ("trace_ids", "tr-" + "0" * 32)],
    ).json()
    assert [t["trace_info"]["trace_id"] for t in batch["traces"]] == [app.trace_id]
    infos = app.client.post("/api/3.0/mlflow/traces/batchGetInfos", json={"trace_ids": [app.trace_id]}).json()
    assert [i["trace_id"] for i in infos["trace_infos"]] == [app.trace_id]
    other = app.client.post(
        "/api/3.0/mlflow/traces/batchGetInfos", json={"trace_ids": [app.trace_id], "experiment_ids": ["999"]}
    ).json()
    assert other == {}


def test_search_shapes(app: App) -> None:
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": app.experiment_id}}
    found = app.client.post(
        "/api/3.0/mlflow/traces/search", json={"locations": [location], "max_results": 1}
    ).json()
    assert [t["trace_id"] for t in found["traces"]] == [app.trace_id]
    assert "next_page_token" not in found
    empty = app.client.post(
        "/api/3.0/mlflow/traces/search", json={"locations": [location], "filter": "name = 'nope'"}
    ).json()
    assert empty == {}
    bad = app.client.post(
        "/api/3.0/mlflow/traces/search", json={"locations": [location], "filter": "a = 1 OR b = 2"}
    )
    assert bad.status_code == 400
    assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    legacy = app.client.get(
        "/ajax-api/2.0/mlflow/traces", params={"experiment_ids": app.experiment_id}
    ).json()
    assert legacy["traces"][0]["request_id"] == app.trace_id
    assert legacy["traces"][0]["status"] == "OK"


def test_tags_link_and_delete(app: App) -> None:
    patch = app.client.patch(f"/api/3.0/mlflow/traces/{app.trace_id}/tags", json={"key": "a", "value": "1"})
    assert patch.status_code == 200
    assert (
        app.client.request(
            "DELETE", f"/api/2.0/mlflow/traces/{app.trace_id}/tags", json={"key": "a"}
        ).status_code
        == 200
    )
    missing = app.client.request("DELETE", f"/api/2.0/mlflow/traces/{app.trace_id}/tags", json={"key": "a"})
    assert missing.status_code == 404
    run_id = app.tracking.create_run(app.experiment_id).info.run_id
    linked = app.client.post(
        "/api/2.0/mlflow/traces/link-to-run", json={"trace_ids": [app.trace_id], "run_id": run_id}
    )
    assert linked.status_code == 200
    deleted = app.client.post(
        "/api/3.0/mlflow/traces/delete-traces",
        json={"experiment_id": app.experiment_id, "request_ids": [app.trace_id]},
    ).json()
    assert deleted == {"traces_deleted": 1}
    gone = app.client.get(f"/api/3.0/mlflow/traces/{app.trace_id}")
    assert gone.status_code == 404
    assert gone.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_trace_artifact_spans_and_attachments(app: App) -> None:
    spans = app.client.get(
        "/ajax-api/3.0/mlflow/get-trace-artifact", params={"request_id": app.trace_id}
    ).json()["spans"]
    assert {s["name"] for s in spans} == {"routes-root", "child"}
    root = next(s for s in spans if s["name"] == "routes-root")
    assert root["attributes"]["mlflow.spanInputs"] == '{"q": 1}'

    attachment_id = str(uuid.uuid4())
    payload = b"\x89PNG fake image bytes"
    upload = app.client.put(
        f"/api/2.0/mlflow-artifacts/artifacts/{app.experiment_id}/traces/{app.trace_id}/artifacts/attachments/"
        f"{attachment_id}",
        content=payload,
    )
    assert upload.status_code == 200
    got = app.client.get(
        "/ajax-api/3.0/mlflow/get-trace-artifact", params={"request_id": app.trace_id, "path": attachment_id}
    )
    assert got.status_code == 200
    assert got.content == payload
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment")

    # Real image and audio bytes keep their type (the UI shows them inline); markup never does.
    kinds = {
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR": "image/png",
        b"RIFF\x24\x00\x00\x00WAVEfmt ": "audio/wav",
        b"<html><script>alert(1)</script></html>": "application/octet-stream",
        b"RIFF\x24\x00\x00\x00<svg": "application/octet-stream",
    }
    for body, media_type in kinds.items():
        kind_id = str(uuid.uuid4())
        app.client.put(
            f"/api/2.0/mlflow-artifacts/artifacts/{app.experiment_id}/traces/{app.trace_id}/artifacts/"
            f"attachments/{kind_id}",
            content=body,
        ).raise_for_status()
        served = app.client.get(
            "/ajax-api/3.0/mlflow/get-trace-artifact", params={"request_id": app.trace_id, "path": kind_id}
        )
        assert served.content == body
        assert served.headers["content-type"] == media_type, body
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-security-policy"] == "sandbox"

    for bad in ("../../../etc/passwd", "a/b", "..", "%2e%2e"):
        response = app.client.get(
            "/ajax-api/2.0/mlflow/get-trace-artifact", params={"request_id": app.trace_id, "path": bad}
        )
        assert response.status_code == 400, bad
    missing = app.client.get(
        "/ajax-api/3.0/mlflow/get-trace-artifact",
        params={"request_id": app.trace_id, "path": str(uuid.uuid4())},
    )
    assert missing.status_code == 404


def test_link_prompts_and_prompt_search(app: App) -> None:
    for version in ("1", "2", "2"):
        response = app.client.post(
            "/api/2.0/mlflow/traces/link-prompts",
            json={"trace_id": app.trace_id, "prompt_versions": [{"name": "qa-prompt", "version": version}]},
        )
        assert response.status_code == 200
    info = app.client.get(f"/api/3.0/mlflow/traces/{app.trace_id}").json()["trace"]["trace_info"]
    assert json.loads(info["tags"]["mlflow.linkedPrompts"]) == [
        {"name": "qa-prompt", "version": "1"},
        {"name": "qa-prompt", "version": "2"},
    ]
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": app.experiment_id}}
    found = app.client.post(
        "/api/3.0/mlflow/traces/search", json={"locations": [location], "filter": "prompt = 'qa-prompt/2'"}
    ).json()
    assert [t["trace_id"] for t in found["traces"]] == [app.trace_id]
    none = app.client.post(
        "/api/3.0/mlflow/traces/search", json={"locations": [location], "filter": "prompt = 'qa-prompt/3'"}
    ).json()
    assert none == {}
