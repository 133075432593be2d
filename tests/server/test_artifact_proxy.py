"""The artifact proxy and the ``artifacts/list`` RPC over HTTP (spec REST-ARTIFACTS §2, §3).

Traversal attempts are sent as raw request targets (http.client does not normalise ``..``) on
every route, and each must answer 400 without reading or writing anything outside the root.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.server.api_helpers import PROXY, Api, assert_error, unique
from tests.server.conftest import ServedApp, serve

SECRET = b"top secret outside the artifact root"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """A server whose destination is nested, with a secret file beside it."""
    workdir = tmp_path_factory.mktemp("proxy")
    outer = workdir / "outer"
    (outer / "artifacts").mkdir(parents=True)
    (outer / "secret.txt").write_bytes(SECRET)
    (workdir / "secret.txt").write_bytes(SECRET)
    with serve(workdir, artifacts_destination=str(outer / "artifacts")) as served:
        yield served


def files_outside_destination(server: ServedApp) -> list[str]:
    """Every file under the workdir that is not the database or inside the destination."""
    found = []
    for root, _dirs, files in os.walk(server.workdir):
        for name in files:
            path = Path(root, name)
            if server.destination in path.parents or name.startswith("mltrail.db"):
                continue
            found.append(str(path.relative_to(server.workdir)))
    return sorted(found)


def raw(server: ServedApp, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
    """Send a request with an exact request target."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_upload_download_list_delete(http: httpx.Client, server: ServedApp) -> None:
    base = unique("up")
    put = http.put(
        f"{PROXY}/artifacts/{base}/dir/hello.txt",
        content=b"hello world",
        headers={"content-type": "text/plain"},
    )
    assert put.status_code == 200, put.text
    http.put(f"{PROXY}/artifacts/{base}/top.json", content=b"{}")
    assert (server.destination / base / "dir" / "hello.txt").read_bytes() == b"hello world"

    got = http.get(f"{PROXY}/artifacts/{base}/dir/hello.txt")
    assert got.status_code == 200 and got.content == b"hello world"
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-disposition"] == 'attachment; filename="hello.txt"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-length"] == "11"
    assert http.get(f"{PROXY}/artifacts/{base}/top.json").headers["content-type"] == "application/json"

    listing = http.get(f"{PROXY}/artifacts", params={"path": base}).json()
    assert sorted(listing["files"], key=lambda f: f["path"]) == [
        {"path": "dir", "is_dir": True},
        {"path": "top.json", "is_dir": False, "file_size": 2},
    ]
    assert http.get(f"{PROXY}/artifacts", params={"path": f"{base}/missing"}).json() == {}
    assert http.get(f"{PROXY}/artifacts", params={"path": f"{base}/top.json"}).json() == {}
    root_listing = http.get(f"{PROXY}/artifacts").json()
    assert {"path": base, "is_dir": True} in root_listing["files"]

    assert http.delete(f"{PROXY}/artifacts/{base}/dir").json() == {}
    assert not (server.destination / base / "dir").exists()
    assert (server.destination / base / "top.json").exists()


def test_overwrite_and_ajax_prefix(http: httpx.Client) -> None:
    path = f"{unique('ow')}/f.bin"
    http.put(f"{PROXY}/artifacts/{path}", content=b"one")
    http.put(f"/ajax-api/2.0/mlflow-artifacts/artifacts/{path}", content=b"two")
    assert http.get(f"/ajax-api/2.0/mlflow-artifacts/artifacts/{path}").content == b"two"


def test_download_errors(http: httpx.Client) -> None:
    base = unique("dl")
    assert_error(
        http.get(f"{PROXY}/artifacts/{base}/nothing.txt"), 404, "RESOURCE_DOES_NOT_EXIST", "No such artifact"
    )
    http.put(f"{PROXY}/artifacts/{base}/sub/f.txt", content=b"x")
    assert http.get(f"{PROXY}/artifacts/{base}/sub").status_code == 400


def test_upload_needs_a_file_name(server: ServedApp) -> None:
    status, _ = raw(server, "PUT", f"{PROXY}/artifacts/{unique('dir')}/", b"x")
    assert status == 400


def test_non_ascii_file_name(http: httpx.Client) -> None:
    path = f"{unique('utf')}/données.txt"
    http.put(f"{PROXY}/artifacts/{path}", content=b"accents")
    got = http.get(f"{PROXY}/artifacts/{path}")
    assert got.content == b"accents"
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''donn%C3%A9es.txt"


def test_large_file_streams_both_ways(http: httpx.Client, server: ServedApp) -> None:
    data = os.urandom(7 * 1024 * 1024 + 123)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(data), 256 * 1024):
            yield data[start : start + 256 * 1024]

    path = f"{unique('big')}/blob.bin"
    assert http.put(f"{PROXY}/artifacts/{path}", content=chunks()).status_code == 200
    assert (server.destination / path).stat().st_size == len(data)
    digest = hashlib.sha256()
    with http.stream("GET", f"{PROXY}/artifacts/{path}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        for chunk in response.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_interrupted_upload_leaves_nothing_behind(server: ServedApp) -> None:
    path = f"{unique('cut')}/partial.bin"
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10) as sock:
        head = f"PUT {PROXY}/artifacts/{path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n"
        sock.sendall(head.encode() + b"x" * 200_000)
        time.sleep(0.3)
    directory = server.destination / path.split("/")[0]
    deadline = time.monotonic() + 10
    while directory.exists() and any(directory.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not directory.exists() or list(directory.iterdir()) == []


def test_multipart_and_presigned_answer_501(http: httpx.Client) -> None:
    path = f"{unique('mpu')}/big.bin"
    for kind in ("create", "complete", "abort"):
        response = http.post(f"{PROXY}/mpu/{kind}/{path}", json={"path": "big.bin", "num_parts": 2})
        assert_error(response, 501, "NOT_IMPLEMENTED", "Multipart upload is not supported")
    assert_error(
        http.get(f"{PROXY}/presigned/{path}"), 501, "NOT_IMPLEMENTED", "Multipart download is not supported"
    )


def test_presigned_url_rpcs_answer_501(api: Api) -> None:
    run_id = api.run_id()
    for rpc in ("artifacts/presigned-upload-url", "artifacts/presigned-download-url"):
        assert_error(api.post(rpc, {"run_id": run_id, "path": "a.txt"}), 501, "NOT_IMPLEMENTED")


TRAVERSALS = [
    "../secret.txt",
    "a/../../secret.txt",
    "%2e%2e/secret.txt",
    "%2E%2E/%2e%2e/secret.txt",
    "%252e%252e/secret.txt",
    "..%2fsecret.txt",
    "..%5csecret.txt",
    "a\\..\\..\\secret.txt",
    "/%2e%2e/secret.txt",
    "%2Fetc%2Fpasswd",
    "C:/secret.txt",
    "file:%2F%2F%2Fetc/passwd",
    "s3:bucket/x",
    "a%23/../../secret.txt",
    "a%3F/../../secret.txt",
    "a%00b",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_is_rejected_on_every_proxy_route(server: ServedApp, path: str) -> None:
    before = files_outside_destination(server)
    target = f"{PROXY}/artifacts/{path}"
    attempts = [
        ("PUT", target, b"pwned"),
        ("GET", target, None),
        ("DELETE", target, None),
        ("GET", f"{PROXY}/artifacts?path={path}", None),
        ("POST", f"{PROXY}/mpu/create/{path}", b"{}"),
        ("POST", f"{PROXY}/mpu/complete/{path}", b"{}"),
        ("POST", f"{PROXY}/mpu/abort/{path}", b"{}"),
        ("GET", f"{PROXY}/presigned/{path}", None),
    ]
    for method, url, body in attempts:
        status, content = raw(server, method, url, body)
        assert status == 400, (method, url, status, content)
        assert SECRET not in content
        assert b"pwned" not in content
    assert files_outside_destination(server) == before
    assert (server.workdir / "secret.txt").read_bytes() == SECRET
    assert (server.workdir / "outer" / "secret.txt").read_bytes() == SECRET


@pytest.mark.parametrize("path", ["../secret.txt", "%2e%2e/%2e%2e/secret.txt", "/etc", "s3://b/k"])
def test_traversal_is_rejected_by_list_artifacts_rpc(api: Api, path: str) -> None:
    run_id = api.run_id()
    assert_error(api.get("artifacts/list", {"run_id": run_id, "path": path}), 400, "INVALID_PARAMETER_VALUE")


def test_list_artifacts_rpc_paths_are_relative_to_the_run_root(api: Api, http: httpx.Client) -> None:
    run = api.create_run()
    run_id = run["info"]["run_id"]
    root = run["info"]["artifact_uri"]
    assert root.startswith("mlflow-artifacts:/")
    rel_root = root.removeprefix("mlflow-artifacts:/")
    http.put(f"{PROXY}/artifacts/{rel_root}/model/MLmodel", content=b"flavors: {}")
    http.put(f"{PROXY}/artifacts/{rel_root}/model/data/w.bin", content=b"1234")
    http.put(f"{PROXY}/artifacts/{rel_root}/notes.txt", content=b"n")

    top = api.ok(api.get("artifacts/list", {"run_id": run_id}))
    assert top["root_uri"] == root
    assert sorted(top["files"], key=lambda f: f["path"]) == [
        {"path": "model", "is_dir": True},
        {"path": "notes.txt", "is_dir": False, "file_size": 1},
    ]
    nested = api.ok(api.get("artifacts/list", {"run_uuid": run_id, "path": "model"}))
    assert sorted(nested["files"], key=lambda f: f["path"]) == [
        {"path": "model/MLmodel", "is_dir": False, "file_size": 11},
        {"path": "model/data", "is_dir": True},
    ]
    assert api.ok(api.get("artifacts/list", {"run_id": run_id, "path": "missing"})) == {"root_uri": root}
    assert_error(api.get("artifacts/list", {"run_id": "a" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_list_artifacts_rpc_refuses_roots_outside_the_server(api: Api, server: ServedApp) -> None:
    experiment_id = api.create_experiment(artifact_location=str(server.workdir / "outer"))
    run_id = api.run_id(experiment_id)
    response = api.get("artifacts/list", {"run_id": run_id})
    assert_error(response, 403, "PERMISSION_DENIED")
    assert b"secret" not in response.content


def test_list_artifacts_rpc_serves_direct_roots_below_the_destination(api: Api, server: ServedApp) -> None:
    location = server.destination / unique("direct")
    experiment_id = api.create_experiment(artifact_location=str(location))
    run = api.create_run(experiment_id)
    run_dir = Path(run["info"]["artifact_uri"])
    run_dir.mkdir(parents=True)
    (run_dir / "a.txt").write_bytes(b"abc")
    body = api.ok(api.get("artifacts/list", {"run_id": run["info"]["run_id"]}))
    assert body["files"] == [{"path": "a.txt", "is_dir": False, "file_size": 3}]


def test_disabled_proxy_answers_503(tmp_path: Path) -> None:
    with serve(tmp_path, serve_artifacts=False) as served, httpx.Client(base_url=served.url) as client:
        put = client.put(f"{PROXY}/artifacts/a/b.txt", content=b"x")
        assert put.status_code == 503
        assert put.headers["content-type"].startswith("text/plain")
        assert client.get(f"{PROXY}/artifacts/a/b.txt").status_code == 503
        assert client.get(f"{PROXY}/artifacts").status_code == 503
        assert not (served.destination / "a").exists()
        # Without the proxy, new experiments get the destination as their root.
        api = Api(client)
        experiment_id = api.create_experiment()
        location = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"][
            "artifact_location"
        ]
        assert location == f"{served.destination}/{experiment_id}"
