"""Deleting traces removes their artifact folders (attachments), and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mltrail.artifacts.base import ArtifactRepository
from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from mltrail.tracing.cleanup import remove_trace_artifacts, trace_folder
from mltrail.tracing.entities import mlflow_trace_id
from mltrail.tracing.otlp import encode_spans
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.tracing_backend._spans import simple_trace


@pytest.mark.parametrize(
    ("trace_id", "location", "folder"),
    [
        ("tr-1", "mlflow-artifacts:/3/traces/tr-1/artifacts", "mlflow-artifacts:/3/traces/tr-1"),
        ("tr-1", "s3://b/p/3/traces/tr-1/artifacts/", "s3://b/p/3/traces/tr-1"),
        ("tr-1", "/data/3/traces/tr-2/artifacts", None),  # another trace's folder
        ("tr-1", "/data/3/runs/tr-1/artifacts", None),
        ("tr-1", "/data/3/traces/tr-1", None),
        ("tr-1", "/data/keep", None),
        ("", "/data/3/traces//artifacts", None),
    ],
)
def test_trace_folder_only_of_the_trace_itself(trace_id: str, location: str, folder: str | None) -> None:
    assert trace_folder(trace_id, location) == folder


def test_a_folder_that_cannot_be_removed_is_reported(tmp_path: Path) -> None:
    def refuse(folder: str) -> tuple[ArtifactRepository, str]:
        raise PermissionError(f"read-only: {folder}")

    failures = remove_trace_artifacts([("tr-9", f"{tmp_path}/traces/tr-9/artifacts")], refuse)
    assert len(failures) == 1 and "tr-9" in failures[0] and "read-only" in failures[0]


def test_server_deletion_removes_the_traces_folders(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    destination = tmp_path / "artifacts"
    tracking = SqlTrackingStore(uri, "mlflow-artifacts:/")
    exp = tracking.create_experiment("deletion")
    settings = ServerSettings(backend_store_uri=uri, artifacts_destination=str(destination))
    with TestClient(create_app(settings, store=tracking)) as client:
        ids = []
        for n in range(3):
            otel_id, spans = simple_trace(f"t{n}", start_ms=n * 1000, end_ms=n * 1000 + 10)
            client.post(
                "/v1/traces",
                content=encode_spans(spans),
                headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": exp},
            ).raise_for_status()
            trace_id = mlflow_trace_id(otel_id)
            client.put(
                f"/api/2.0/mlflow-artifacts/artifacts/{exp}/traces/{trace_id}/artifacts/attachments/a{n}",
                content=b"image bytes",
            ).raise_for_status()
            ids.append(trace_id)
        folders = [destination / exp / "traces" / t for t in ids]
        assert all((f / "artifacts" / "attachments").is_dir() for f in folders)
        # A location tag pointed elsewhere by hand must not make deletion remove that place.
        client.put(f"/api/2.0/mlflow-artifacts/artifacts/{exp}/keep/model.pkl", content=b"keep me")
        client.patch(
            f"/api/2.0/mlflow/traces/{ids[2]}/tags",
            json={"key": "mlflow.artifactLocation", "value": f"mlflow-artifacts:/{exp}/keep"},
        ).raise_for_status()

        deleted = client.post(
            "/api/2.0/mlflow/traces/delete-traces", json={"experiment_id": exp, "request_ids": [ids[0]]}
        )
        assert deleted.json() == {"traces_deleted": 1}
        assert not folders[0].exists() and folders[1].exists()

        by_age = client.post(
            "/api/3.0/mlflow/traces/delete-traces",
            json={"experiment_id": exp, "max_timestamp_millis": 4_000_000_000_000},
        )
        assert by_age.json() == {"traces_deleted": 2}
        assert not folders[1].exists()
        assert (destination / exp / "keep" / "model.pkl").read_bytes() == b"keep me"
        missing = client.get(f"/api/3.0/mlflow/traces/{ids[1]}")
        assert missing.status_code == 404
