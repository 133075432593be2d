"""HttpArtifactRepository without a server: URI resolution and mapping error bodies to errors."""

from __future__ import annotations

import json

import pytest
import requests

from mltrail.artifacts.http import HttpArtifactRepository, _error_from_response, resolve_artifact_service_uri
from mltrail.config import Settings
from mltrail.errors import (
    AlreadyExistsError,
    BackendError,
    InternalError,
    InvalidArgumentError,
    MltrailError,
    NotFoundError,
    NotImplementedFeatureError,
    PermissionDeniedError,
    UnauthenticatedError,
)

SERVICE = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.mark.parametrize(
    ("artifact_uri", "tracking_uri", "expected"),
    [
        ("mlflow-artifacts:/1/abc/artifacts", "http://h:5000", f"http://h:5000{SERVICE}/1/abc/artifacts"),
        ("mlflow-artifacts:/1/abc/artifacts/", "http://h:5000/", f"http://h:5000{SERVICE}/1/abc/artifacts"),
        ("mlflow-artifacts:///1/abc", "https://h", f"https://h{SERVICE}/1/abc"),
        ("mlflow-artifacts:/1/abc", "http://h/mlflow", f"http://h/mlflow{SERVICE}/1/abc"),
        ("mlflow-artifacts:/1/abc", "http://h/a/b/", f"http://h/a/b{SERVICE}/1/abc"),
        ("mlflow-artifacts:/", "http://h/mlflow", f"http://h/mlflow{SERVICE}"),
        ("mlflow-artifacts:", "http://h:1", f"http://h:1{SERVICE}"),
        ("mlflow-artifacts://other:9000/1/abc", "http://h:5000/p", f"http://other:9000/p{SERVICE}/1/abc"),
        ("mlflow-artifacts://other/1/abc", "https://h", f"https://other{SERVICE}/1/abc"),
        (f"http://x:1/p{SERVICE}/1/abc/", None, f"http://x:1/p{SERVICE}/1/abc"),
        (f"https://x{SERVICE}", "sqlite:///ignored.db", f"https://x{SERVICE}"),
    ],
)
def test_resolution(artifact_uri: str, tracking_uri: str | None, expected: str) -> None:
    assert resolve_artifact_service_uri(artifact_uri, tracking_uri) == expected


@pytest.mark.parametrize(
    ("artifact_uri", "tracking_uri"),
    [
        ("mlflow-artifacts:/1/abc", None),
        ("mlflow-artifacts:/1/abc", "sqlite:///mltrail.db"),
        ("mlflow-artifacts:/1/abc", "/local/path"),
        ("mlflow-artifacts://5000/1/abc", "http://h"),
        ("http://x:1/not/the/service/1/abc", None),
        ("s3://bucket/p", "http://h"),
    ],
)
def test_resolution_rejects(artifact_uri: str, tracking_uri: str | None) -> None:
    with pytest.raises(InvalidArgumentError):
        resolve_artifact_service_uri(artifact_uri, tracking_uri)


def test_resolution_error_hides_credentials_of_the_tracking_uri() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        resolve_artifact_service_uri("mlflow-artifacts:/1", "postgresql://user:s3cret@db:5432/mltrail")
    assert "s3cret" not in info.value.message
    assert "db:5432" in info.value.message


def test_repository_splits_service_and_root() -> None:
    repo = HttpArtifactRepository("mlflow-artifacts:/1/r%20x/artifacts", tracking_uri="http://h:5/pre")
    assert repo.root_url == f"http://h:5/pre{SERVICE}/1/r%20x/artifacts"
    assert repo._file_url("d/a b.txt") == f"http://h:5/pre{SERVICE}/1/r%20x/artifacts/d/a%20b.txt"
    assert repo._session is None  # nothing is opened before the first request


def test_tracking_uri_defaults_to_settings() -> None:
    repo = HttpArtifactRepository("mlflow-artifacts:/7", settings=Settings(tracking_uri="http://srv:8"))
    assert repo.root_url == f"http://srv:8{SERVICE}/7"


def test_unsafe_root_is_rejected() -> None:
    with pytest.raises(InvalidArgumentError):
        HttpArtifactRepository(f"http://h{SERVICE}/1/%2e%2e/%2e%2e/etc")


def _response(status: int, body: bytes, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    response.reason = "Reason"
    return response


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No such artifact"}, NotFoundError),
        (400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}, InvalidArgumentError),
        (400, {"error_code": "RESOURCE_ALREADY_EXISTS", "message": "exists"}, AlreadyExistsError),
        (501, {"error_code": "NOT_IMPLEMENTED", "message": "no multipart"}, NotImplementedFeatureError),
        (403, {"error_code": "PERMISSION_DENIED", "message": "no"}, PermissionDeniedError),
        (400, {"detail": "Is a directory"}, InvalidArgumentError),
        (401, {"detail": "Not authenticated"}, UnauthenticatedError),
        (500, {"unexpected": True}, InternalError),
    ],
)
def test_json_error_bodies(status: int, body: dict[str, object], expected: type[MltrailError]) -> None:
    error = _error_from_response(_response(status, json.dumps(body).encode()), "mlflow-artifacts:/1/f")
    assert type(error) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [(503, BackendError), (502, BackendError), (404, NotFoundError), (418, InternalError)],
)
def test_plain_text_error_bodies(status: int, expected: type[MltrailError]) -> None:
    error = _error_from_response(
        _response(status, b"Artifact serving is disabled", "text/plain"), "mlflow-artifacts:/1/f"
    )
    assert type(error) is expected
    assert "Artifact serving is disabled" in error.message
    assert "mlflow-artifacts:/1/f" in error.message
