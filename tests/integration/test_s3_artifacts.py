"""S3 artifacts against a real S3-compatible server (SeaweedFS): transfers, configuration, errors,
and a tracking client that logs straight to ``s3://`` with no tracking server involved."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mltrail._plugins import resolve_artifact_repository
from mltrail.artifacts.s3 import S3ArtifactRepository
from mltrail.config import Settings
from mltrail.errors import BackendError, NotFoundError
from mltrail.tracking.client import TrackingClient
from tests.support.artifact_repos import files_below
from tests.support.seaweedfs import SeaweedFS, get_seaweedfs, use_s3_credentials

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
ENDPOINT_VARIABLES = ["MLTRAIL_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL"]


@pytest.fixture
def server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> SeaweedFS:
    weed = get_seaweedfs(request.config)
    use_s3_credentials(monkeypatch)
    return weed


@pytest.fixture
def bucket(server: SeaweedFS) -> str:
    return server.create_bucket()


def _repo(server: SeaweedFS, bucket: str, prefix: str = "exp/run/artifacts") -> S3ArtifactRepository:
    return S3ArtifactRepository(f"s3://{bucket}/{prefix}", settings=Settings(s3_endpoint_url=server.endpoint))


def test_multipart_round_trip_with_progress(
    server: SeaweedFS, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(server, bucket)
    repo.multipart_threshold = repo.multipart_chunksize = 5 * MIB
    repo.show_progress = True
    repo.progress_threshold = MIB
    payload = os.urandom(12 * MIB + 123)
    source = tmp_path / "weights.bin"
    source.write_bytes(payload)

    repo.log_artifact(str(source), "model")

    head = server.client.head_object(Bucket=bucket, Key="exp/run/artifacts/model/weights.bin")
    assert head["ContentLength"] == len(payload)
    assert head["ETag"].strip('"').endswith("-3")  # sent as three parts
    local = repo.download_artifacts("model/weights.bin", str(tmp_path / "dl"))
    assert Path(local).read_bytes() == payload
    assert "weights.bin" in capsys.readouterr().err


def test_many_files_upload_and_download_in_parallel(server: SeaweedFS, bucket: str, tmp_path: Path) -> None:
    repo = _repo(server, bucket)
    source = tmp_path / "src"
    expected: dict[str, bytes] = {}
    for i in range(40):
        rel = f"part-{i % 4}/file-{i:02d}.txt"
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_bytes(f"content {i}".encode() * (i + 1))
        expected[rel] = (source / rel).read_bytes()

    repo.log_artifacts(str(source), "many")

    assert len(server.keys(bucket, "exp/run/artifacts/many/")) == 40
    local = Path(repo.download_artifacts("many", str(tmp_path / "dl")))
    assert {rel: (local / rel).read_bytes() for rel in files_below(local)} == expected


@pytest.mark.parametrize(
    "variable", ["MLTRAIL_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL"]
)
def test_endpoint_from_environment_through_plugins(
    server: SeaweedFS, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, server.endpoint)
    (tmp_path / "hello.txt").write_text("hello")

    repo = resolve_artifact_repository(f"s3://{bucket}/env", settings=Settings())
    repo.log_artifact(str(tmp_path / "hello.txt"))

    assert isinstance(repo, S3ArtifactRepository)
    assert server.keys(bucket) == ["env/hello.txt"]
    assert b"".join(repo.open_chunks("hello.txt")) == b"hello"


def test_wrong_secret_is_a_backend_error(
    server: SeaweedFS, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    repo = S3ArtifactRepository(
        f"s3://{bucket}/p", settings=Settings(s3_endpoint_url=server.endpoint, http_max_retries=0)
    )
    (tmp_path / "f.txt").write_text("f")

    with pytest.raises(BackendError, match=r"SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId"):
        repo.log_artifact(str(tmp_path / "f.txt"))
    with pytest.raises(BackendError):
        repo.list_artifacts()
    assert server.keys(bucket) == []


def test_missing_bucket_is_not_found(server: SeaweedFS, tmp_path: Path) -> None:
    repo = _repo(server, "bucket-that-was-never-made")
    with pytest.raises(NotFoundError):
        repo.open_chunks("f.txt")
    with pytest.raises(NotFoundError):
        repo.download_artifacts("f.txt", str(tmp_path))


def test_unreachable_endpoint_is_a_backend_error(server: SeaweedFS, bucket: str) -> None:
    # A port that nothing listens on: the server's gRPC twin range is free by construction.
    endpoint = server.endpoint.rsplit(":", 1)[0] + ":9"
    repo = S3ArtifactRepository(
        f"s3://{bucket}/p", settings=Settings(s3_endpoint_url=endpoint, http_max_retries=0, http_timeout=2)
    )
    with pytest.raises(BackendError):
        repo.list_artifacts()


def test_tracking_client_logs_straight_to_s3(server: SeaweedFS, bucket: str, tmp_path: Path) -> None:
    settings = Settings(
        tracking_uri=f"sqlite:///{tmp_path / 'mltrail.db'}",
        artifact_root=str(tmp_path / "unused-local-root"),
        s3_endpoint_url=server.endpoint,
        async_logging=False,
    )
    (tmp_path / "src" / "nested").mkdir(parents=True)
    (tmp_path / "src" / "config.yaml").write_text("lr: 0.1\n")
    (tmp_path / "src" / "nested" / "weights.bin").write_bytes(b"\x00\x01" * 1000)
    (tmp_path / "report.txt").write_text("accuracy 0.93")

    with TrackingClient(settings=settings) as client:
        experiment_id = client.create_experiment("s3-direct", artifact_location=f"s3://{bucket}/experiments")
        run = client.create_run(experiment_id)
        run_id = run.info.run_id
        assert run.info.artifact_uri == f"s3://{bucket}/experiments/{run_id}/artifacts"

        client.log_artifact(run_id, str(tmp_path / "report.txt"))
        client.log_artifacts(run_id, str(tmp_path / "src"), "model")
        client.log_text(run_id, "free text", "notes/readme.md")

        assert [info.path for info in client.list_artifacts(run_id)] == ["model", "notes", "report.txt"]
        assert [info.path for info in client.list_artifacts(run_id, "model")] == [
            "model/config.yaml",
            "model/nested",
        ]
        local = Path(client.download_artifacts(run_id, "model", str(tmp_path / "dl")))
        assert (local / "nested" / "weights.bin").read_bytes() == b"\x00\x01" * 1000
        assert (local / "config.yaml").read_text() == "lr: 0.1\n"

    prefix = f"experiments/{run_id}/artifacts/"
    assert server.keys(bucket) == [
        f"{prefix}model/config.yaml",
        f"{prefix}model/nested/weights.bin",
        f"{prefix}notes/readme.md",
        f"{prefix}report.txt",
    ]
    assert not (tmp_path / "unused-local-root").exists()
