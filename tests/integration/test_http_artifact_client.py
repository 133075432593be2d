"""HttpArtifactRepository on the wire: what a proxy receives, retries, credentials, bad answers.

A small recording proxy (Starlette, served from a thread) stands in for the server where the test
needs to see or script the HTTP exchange; a real ``mltrail server`` checks the error statuses.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mltrail.artifacts.http import HttpArtifactRepository
from mltrail.config import Settings
from mltrail.errors import BackendError, InvalidArgumentError, NotFoundError
from mltrail.tracking.client import TrackingClient
from tests.support.live_server import running_server, threaded_server

pytestmark = pytest.mark.integration

SERVICE = "/api/2.0/mlflow-artifacts/artifacts"


@dataclass
class Seen:
    """One request as the proxy received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Proxy:
    """A scriptable in-memory artifact proxy."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    listing: list[dict[str, object]] | None = None

    def app(self) -> Starlette:
        async def health(request: Request) -> Response:
            return PlainTextResponse("OK")

        async def artifacts(request: Request) -> Response:
            body = await request.body()
            path = request.path_params.get("path", "")
            self.seen.append(Seen(request.method, path, request.url.query, dict(request.headers), body))
            if self.fail_next:
                return PlainTextResponse("try again", status_code=self.fail_next.pop(0))
            if request.method == "PUT":
                self.files[path] = body
                return JSONResponse({})
            if request.method == "DELETE":
                for key in [k for k in self.files if k == path or k.startswith(path + "/")]:
                    del self.files[key]
                return JSONResponse({})
            if path:
                if path not in self.files:
                    return JSONResponse(
                        {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"No such artifact: {path!r}"},
                        status_code=404,
                    )
                return Response(self.files[path], media_type="application/octet-stream")
            return JSONResponse({"files": self.listing} if self.listing is not None else self._list(request))

        return Starlette(
            routes=[
                Route("/health", health),
                Route(SERVICE, artifacts, methods=["GET"]),
                Route(SERVICE + "/{path:path}", artifacts, methods=["GET", "PUT", "DELETE"]),
            ]
        )

    def _list(self, request: Request) -> dict[str, object]:
        base = request.query_params.get("path", "")
        prefix = base + "/" if base else ""
        entries: dict[str, dict[str, object]] = {}
        for key, data in self.files.items():
            if not key.startswith(prefix):
                continue
            head, _, rest = key[len(prefix) :].partition("/")
            if rest:
                entries[head] = {"path": head, "is_dir": True}
            else:
                entries[head] = {"path": head, "is_dir": False, "file_size": len(data)}
        return {"files": list(entries.values())} if entries else {}


class _Pipe(io.RawIOBase):
    """A forward-only stream (it cannot seek), like a pipe or a socket."""

    def __init__(self, data: bytes) -> None:
        self._source = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._source.readinto(buffer)


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    recorder = Proxy()
    with threaded_server(recorder.app()) as url:
        recorder.url = url
        yield recorder


def _repo(proxy: Proxy, *, max_retries: int = 0, token: str | None = None) -> HttpArtifactRepository:
    settings = Settings(
        tracking_uri=proxy.url, http_backoff_factor=0.0, http_max_retries=max_retries, tracking_token=token
    )
    return HttpArtifactRepository("mlflow-artifacts:/1/run/artifacts", settings=settings)


def test_put_streams_raw_bytes_with_length_and_type(proxy: Proxy, tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text('{"a": 1}')
    (tmp_path / "empty.bin").write_bytes(b"")
    repo = _repo(proxy)

    repo.log_artifact(str(tmp_path / "metrics.json"), "eval")
    repo.log_artifact(str(tmp_path / "empty.bin"))

    first, second = proxy.seen
    assert (first.method, first.path, first.body) == ("PUT", "1/run/artifacts/eval/metrics.json", b'{"a": 1}')
    assert first.headers["content-type"] == "application/json"
    assert first.headers["content-length"] == "8"
    assert "transfer-encoding" not in first.headers
    assert second.headers["content-length"] == "0"
    assert second.body == b""


def test_paths_are_percent_encoded_on_the_wire(proxy: Proxy, tmp_path: Path) -> None:
    (tmp_path / "a b#c?.txt").write_text("odd")
    repo = _repo(proxy)

    with pytest.raises(InvalidArgumentError):  # '#' and '?' never reach the wire
        repo.log_artifact(str(tmp_path / "a b#c?.txt"))
    repo.write_stream("dir with space/ü.txt", io.BytesIO(b"u"))

    assert proxy.files == {"1/run/artifacts/dir with space/ü.txt": b"u"}
    assert repo.list_artifacts("dir with space")[0].path == "dir with space/ü.txt"
    assert b"".join(repo.open_chunks("dir with space/ü.txt")) == b"u"


def test_transient_failures_are_retried_with_the_whole_body(proxy: Proxy, tmp_path: Path) -> None:
    payload = os.urandom(3 * 1024 * 1024)
    (tmp_path / "blob.bin").write_bytes(payload)
    repo = _repo(proxy, max_retries=3)

    proxy.fail_next = [503, 502]
    repo.log_artifact(str(tmp_path / "blob.bin"))
    assert proxy.files["1/run/artifacts/blob.bin"] == payload
    assert [seen.body == payload for seen in proxy.seen] == [True, True, True]

    proxy.fail_next = [503]
    assert repo.write_stream("spooled.bin", io.BufferedReader(_Pipe(payload))) == len(payload)
    assert proxy.files["1/run/artifacts/spooled.bin"] == payload


def test_write_stream_sends_only_what_is_left_of_a_seekable_stream(proxy: Proxy) -> None:
    stream = io.BytesIO(b"headerPAYLOAD")
    stream.seek(6)

    assert _repo(proxy).write_stream("p.bin", stream) == 7
    assert proxy.files == {"1/run/artifacts/p.bin": b"PAYLOAD"}


def test_deterministic_errors_are_not_retried(proxy: Proxy) -> None:
    proxy.fail_next = [400]
    with pytest.raises(InvalidArgumentError, match="try again"):
        _repo(proxy, max_retries=3).write_stream("x.bin", io.BytesIO(b"x"))
    assert len(proxy.seen) == 1


def test_exhausted_retries_are_backend_errors(proxy: Proxy) -> None:
    proxy.fail_next = [503, 503, 503]
    with pytest.raises(BackendError):
        _repo(proxy, max_retries=2).list_artifacts()
    assert len(proxy.seen) == 3


def test_credentials_go_with_every_request(proxy: Proxy, tmp_path: Path) -> None:
    repo = _repo(proxy, token="secret-token")
    repo.write_stream("d/f.txt", io.BytesIO(b"f"))
    repo.list_artifacts("d")
    b"".join(repo.open_chunks("d/f.txt"))
    repo.download_artifacts("d", str(tmp_path))
    repo.delete_artifacts("d")

    assert {seen.method for seen in proxy.seen} == {"PUT", "GET", "DELETE"}
    assert all(seen.headers.get("authorization") == "Bearer secret-token" for seen in proxy.seen)


def test_listing_query_and_relative_paths(proxy: Proxy) -> None:
    repo = _repo(proxy)
    for name in ("d/b.txt", "d/a.txt", "d/sub/c.txt"):
        repo.write_stream(name, io.BytesIO(b"x"))
    proxy.seen.clear()

    listing = repo.list_artifacts("d")

    assert proxy.seen[0].query == "path=1%2Frun%2Fartifacts%2Fd"
    assert [(info.path, info.is_dir, info.file_size) for info in listing] == [
        ("d/a.txt", False, 1),
        ("d/b.txt", False, 1),
        ("d/sub", True, None),
    ]
    # The proxy lists a file path as that one file: the repository reports a file, not a dir.
    assert repo.list_artifacts("d/a.txt") == []


@pytest.mark.parametrize("name", ["../escape.txt", "/abs.txt", "a/b.txt", "..", "%2e%2e"])
def test_unsafe_names_in_a_listing_are_rejected(proxy: Proxy, tmp_path: Path, name: str) -> None:
    proxy.listing = [{"path": name, "is_dir": False, "file_size": 1}]
    repo = _repo(proxy)

    with pytest.raises(InvalidArgumentError):
        repo.list_artifacts()
    with pytest.raises(InvalidArgumentError):
        repo.download_artifacts("", str(tmp_path / "dl"))
    assert not (tmp_path / "dl").exists() or os.listdir(tmp_path / "dl") == []
    assert not (tmp_path / "escape.txt").exists()


def test_missing_file_is_not_found_and_leaves_no_partial_file(proxy: Proxy, tmp_path: Path) -> None:
    repo = _repo(proxy)
    with pytest.raises(NotFoundError, match="No such artifact"):
        repo.download_artifacts("gone.bin", str(tmp_path))
    with pytest.raises(NotFoundError):
        repo.open_chunks("gone.bin")
    assert os.listdir(tmp_path) == []


def test_unreachable_server_is_a_backend_error() -> None:
    repo = HttpArtifactRepository(
        "mlflow-artifacts:/1",
        settings=Settings(tracking_uri="http://127.0.0.1:9", http_max_retries=0, http_timeout=2),
    )
    with pytest.raises(BackendError, match="mlflow-artifacts:/1"):
        repo.list_artifacts()


def test_real_server_statuses_map_onto_the_tree(tmp_path: Path) -> None:
    with running_server(tmp_path / "on") as server:
        repo = HttpArtifactRepository("mlflow-artifacts:/1/r", settings=Settings(tracking_uri=server.url))
        repo.write_stream("dir/f.txt", io.BytesIO(b"f"))
        with pytest.raises(InvalidArgumentError):  # a directory is not a file
            repo.open_chunks("dir")
        with pytest.raises(NotFoundError):
            repo.open_chunks("dir/missing.txt")
        repo.close()
    with running_server(tmp_path / "off", extra_args=["--no-serve-artifacts"]) as server:
        repo = HttpArtifactRepository(
            "mlflow-artifacts:/1/r", settings=Settings(tracking_uri=server.url, http_max_retries=0)
        )
        with pytest.raises(BackendError):
            repo.list_artifacts()
        repo.close()


def test_tracking_client_moves_run_artifacts_through_the_proxy(tmp_path: Path) -> None:
    (tmp_path / "src" / "inner").mkdir(parents=True)
    (tmp_path / "src" / "inner" / "w.bin").write_bytes(b"\x01" * 4096)
    (tmp_path / "report.txt").write_text("ok")

    with running_server(tmp_path / "server") as server:
        settings = Settings(tracking_uri=server.url, async_logging=False)
        with TrackingClient(settings=settings) as client:
            run = client.create_run(client.create_experiment("proxied"))
            run_id = run.info.run_id
            assert run.info.artifact_uri.startswith("mlflow-artifacts:/")

            client.log_artifact(run_id, str(tmp_path / "report.txt"))
            client.log_artifacts(run_id, str(tmp_path / "src"), "model")

            assert [info.path for info in client.list_artifacts(run_id)] == ["model", "report.txt"]
            local = Path(client.download_artifacts(run_id, "model", str(tmp_path / "dl")))
            assert (local / "inner" / "w.bin").read_bytes() == b"\x01" * 4096

        stored = Path(server.artifacts_destination)
        assert sorted(str(p.relative_to(stored)) for p in stored.rglob("*") if p.is_file()) == [
            f"{run.info.experiment_id}/{run_id}/artifacts/model/inner/w.bin",
            f"{run.info.experiment_id}/{run_id}/artifacts/report.txt",
        ]
