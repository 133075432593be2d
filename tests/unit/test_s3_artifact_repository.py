"""S3ArtifactRepository against moto's in-process S3: URIs, configuration, paging, errors."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from mltrail.artifacts.base import FileInfo
from mltrail.artifacts.s3 import S3ArtifactRepository, _translate, parse_s3_uri
from mltrail.config import Settings
from mltrail.errors import BackendError, InvalidArgumentError, MissingDependencyError, NotFoundError

BUCKET = "unit-bucket"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield


def _repo(prefix: str = "exp/run/artifacts") -> S3ArtifactRepository:
    return S3ArtifactRepository(f"s3://{BUCKET}/{prefix}", settings=Settings())


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket", ("bucket", "")),
        ("s3://bucket/", ("bucket", "")),
        ("s3://bucket/a/b", ("bucket", "a/b")),
        ("s3://bucket//a/./b/", ("bucket", "a/b")),
        ("S3://bucket/a", ("bucket", "a")),
        ("s3a://bucket/a", ("bucket", "a")),
    ],
)
def test_parse_s3_uri(uri: str, expected: tuple[str, str]) -> None:
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    ["s3:///no-bucket", "gs://bucket/a", "s3://bucket/a/../../b", "s3://bucket/a?versionId=1", "/tmp/x"],
)
def test_parse_s3_uri_rejects(uri: str) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_s3_uri(uri)


def test_construction_does_no_io() -> None:
    repo = S3ArtifactRepository("s3://bucket/p", settings=Settings(s3_endpoint_url="http://127.0.0.1:1"))
    assert repo._client is None
    assert (repo.bucket, repo.prefix) == ("bucket", "p")


def test_client_uses_endpoint_sigv4_and_path_style(aws: None) -> None:
    repo = S3ArtifactRepository("s3://b/p", settings=Settings(s3_endpoint_url="http://127.0.0.1:9"))
    config = repo.client.meta.config
    assert repo.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert config.signature_version == "s3v4"
    assert config.s3["addressing_style"] == "path"


def test_endpoint_env_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", "http://mlflow:1")
    assert Settings().s3_endpoint_url == "http://mlflow:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://aws:2")
    assert Settings().s3_endpoint_url == "http://aws:2"
    monkeypatch.setenv("MLTRAIL_S3_ENDPOINT_URL", "http://mltrail:3")
    assert Settings().s3_endpoint_url == "http://mltrail:3"
    assert Settings(s3_endpoint_url="http://explicit:4").s3_endpoint_url == "http://explicit:4"


def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    repo = S3ArtifactRepository("s3://bucket/p", settings=Settings())
    with pytest.raises(MissingDependencyError, match=r"mltrail\[s3\]") as info:
        repo.list_artifacts()
    assert isinstance(info.value, ImportError)


def test_listing_pages_past_one_thousand_keys_and_batched_delete(aws: None) -> None:
    repo = _repo()
    client = repo.client
    for i in range(1005):
        client.put_object(Bucket=BUCKET, Key=f"exp/run/artifacts/many/f{i:04d}.txt", Body=b"x")
    for i in range(3):
        client.put_object(Bucket=BUCKET, Key=f"exp/run/artifacts/many/sub{i}/g.txt", Body=b"yy")

    listing = repo.list_artifacts("many")

    assert len(listing) == 1008
    assert listing[0] == FileInfo("many/f0000.txt", False, 1)
    assert listing[-1] == FileInfo("many/sub2", True, None)
    assert [info.path for info in listing] == sorted(info.path for info in listing)

    repo.delete_artifacts("many")
    assert repo.list_artifacts() == []
    assert client.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_multipart_upload_and_download(aws: None, tmp_path: Path) -> None:
    repo = _repo()
    repo.multipart_threshold = repo.multipart_chunksize = 5 * 1024 * 1024
    payload = os.urandom(11 * 1024 * 1024)
    source = tmp_path / "big.bin"
    source.write_bytes(payload)

    repo.log_artifact(str(source), "m")

    head = repo.client.head_object(Bucket=BUCKET, Key="exp/run/artifacts/m/big.bin")
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    local = repo.download_artifacts("m/big.bin", str(tmp_path / "dl"))
    assert Path(local).read_bytes() == payload
    assert repo.write_stream("m/copy.bin", io.BytesIO(payload)) == len(payload)
    assert b"".join(repo.open_chunks("m/copy.bin")) == payload


def test_content_type_is_guessed_from_the_name(aws: None, tmp_path: Path) -> None:
    repo = _repo()
    (tmp_path / "data.json").write_text("{}")
    repo.log_artifact(str(tmp_path / "data.json"))
    head = repo.client.head_object(Bucket=BUCKET, Key="exp/run/artifacts/data.json")
    assert head["ContentType"] == "application/json"


def test_bucket_root_repository(aws: None, tmp_path: Path) -> None:
    repo = S3ArtifactRepository(f"s3://{BUCKET}", settings=Settings())
    (tmp_path / "f.txt").write_text("f")
    repo.log_artifact(str(tmp_path / "f.txt"), "d")

    assert repo.list_artifacts() == [FileInfo("d", True, None)]
    assert repo.client.list_objects_v2(Bucket=BUCKET)["Contents"][0]["Key"] == "d/f.txt"
    repo.delete_artifacts()
    assert repo.list_artifacts() == []


def test_missing_bucket_is_not_found(aws: None) -> None:
    repo = S3ArtifactRepository("s3://no-such-bucket-here/p", settings=Settings())
    with pytest.raises(NotFoundError, match="bucket"):
        repo.open_chunks("f.txt")


def test_folder_marker_objects_are_not_listed_as_files(aws: None) -> None:
    repo = _repo()
    repo.client.put_object(Bucket=BUCKET, Key="exp/run/artifacts/d/", Body=b"")
    repo.client.put_object(Bucket=BUCKET, Key="exp/run/artifacts/d/f.txt", Body=b"1")

    assert repo.list_artifacts() == [FileInfo("d", True, None)]
    assert repo.list_artifacts("d") == [FileInfo("d/f.txt", False, 1)]
    local = repo.download_artifacts("d")
    assert sorted(os.listdir(local)) == ["f.txt"]


def test_unsafe_key_below_the_root_is_not_downloaded(aws: None, tmp_path: Path) -> None:
    repo = _repo()
    repo.client.put_object(Bucket=BUCKET, Key="exp/run/artifacts/d/../../escape.txt", Body=b"!")
    with pytest.raises(InvalidArgumentError):
        repo.download_artifacts("d", str(tmp_path / "dl"))
    assert not (tmp_path / "escape.txt").exists()


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "GetObject",
    )


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_client_error("NoSuchKey", 404), NotFoundError),
        (_client_error("404", 404), NotFoundError),
        (_client_error("NoSuchBucket", 404), NotFoundError),
        (_client_error("AccessDenied", 403), BackendError),
        (_client_error("SignatureDoesNotMatch", 403), BackendError),
        (_client_error("SlowDown", 503), BackendError),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), BackendError),
    ],
)
def test_botocore_errors_map_onto_the_tree(exc: Exception, expected: type[Exception]) -> None:
    error = _translate(exc, "s3://b/k")
    assert type(error) is expected
    assert "s3://b/k" in error.message


def test_upload_failure_unwraps_the_client_error() -> None:
    wrapped = S3UploadFailedError("Failed to upload")
    wrapped.__cause__ = _client_error("AccessDenied", 403)
    error = _translate(wrapped, "s3://b/k")
    assert isinstance(error, BackendError)
    assert "AccessDenied" in error.message


def test_unreachable_endpoint_is_backend_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = Settings(s3_endpoint_url="http://127.0.0.1:9", http_max_retries=0, http_timeout=2)
    repo = S3ArtifactRepository("s3://bucket/p", settings=settings)
    with pytest.raises(BackendError, match="s3://bucket/p"):
        repo.list_artifacts()
