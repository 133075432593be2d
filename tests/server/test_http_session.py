"""``mltrail._http.create_session``: timeouts, retries of transient failures only, credentials."""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from mltrail import __version__
from mltrail._http import create_session
from mltrail.config import Settings


class StubServer:
    """A loopback HTTP server answering a scripted list of statuses, recording what it saw."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.delay = 0.0
        self.requests: list[tuple[str, dict[str, str]]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                stub.requests.append((self.command, dict(self.headers.items())))
                if stub.delay:
                    time.sleep(stub.delay)
                status = stub.statuses.pop(0) if stub.statuses else 200
                body = b"{}" if status == 200 else b'{"error_code": "X", "message": "m"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError):  # the client gave up (timeout tests)
                    self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer()
    yield server
    server.close()


def settings(**values: object) -> Settings:
    base: dict[str, object] = {"http_backoff_factor": 0.0, "http_max_retries": 3, "http_timeout": 5.0}
    base.update(values)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_transient_statuses_are_retried(stub: StubServer, status: int) -> None:
    stub.statuses = [status, status]
    with create_session(settings()) as session:
        response = session.post(f"{stub.url}/rpc", json={})
    assert response.status_code == 200
    assert len(stub.requests) == 3
    assert [method for method, _ in stub.requests] == ["POST"] * 3


def test_retries_are_bounded(stub: StubServer) -> None:
    stub.statuses = [503] * 10
    with create_session(settings(http_max_retries=2)) as session:
        response = session.get(f"{stub.url}/rpc")
    assert response.status_code == 503
    assert len(stub.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 500, 501])
def test_deterministic_failures_are_not_retried(stub: StubServer, status: int) -> None:
    stub.statuses = [status]
    with create_session(settings()) as session:
        response = session.post(f"{stub.url}/rpc", json={})
    assert response.status_code == status
    assert len(stub.requests) == 1


def test_backoff_grows_between_retries(stub: StubServer) -> None:
    stub.statuses = [503, 503]
    with create_session(settings(http_backoff_factor=0.1)) as session:
        started = time.monotonic()
        assert session.get(f"{stub.url}/rpc").status_code == 200
        elapsed = time.monotonic() - started
    # urllib3 sleeps factor * 2**(n-1) from the second retry on: 0 + 0.2 s here.
    assert elapsed >= 0.15


def test_every_request_has_a_timeout(stub: StubServer) -> None:
    stub.delay = 1.0
    with create_session(settings(http_timeout=0.2, http_max_retries=0)) as session:
        started = time.monotonic()
        with pytest.raises(requests.RequestException, match="Read timed out"):
            session.get(f"{stub.url}/slow")
    assert time.monotonic() - started < 0.9


def test_connection_errors_are_retried_then_raised() -> None:
    session = create_session(settings(http_max_retries=2, http_timeout=1.0))
    with session, pytest.raises(requests.exceptions.ConnectionError) as info:
        session.get("http://127.0.0.1:9/unreachable")
    assert "Max retries exceeded" in str(info.value)


def test_bearer_token_and_user_agent(stub: StubServer) -> None:
    with create_session(
        settings(tracking_token="s3cret", tracking_username="u", tracking_password="p")
    ) as session:
        session.get(f"{stub.url}/rpc")
    headers = stub.requests[0][1]
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["User-Agent"] == f"mltrail/{__version__}"


def test_basic_auth(stub: StubServer) -> None:
    with create_session(settings(tracking_username="alice", tracking_password="pw")) as session:
        session.get(f"{stub.url}/rpc")
    expected = "Basic " + base64.b64encode(b"alice:pw").decode()
    assert stub.requests[0][1]["Authorization"] == expected


def test_no_credentials_sends_no_authorization(stub: StubServer) -> None:
    with create_session(settings()) as session:
        session.get(f"{stub.url}/rpc")
    assert "Authorization" not in stub.requests[0][1]
