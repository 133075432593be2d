"""Real ``mltrail server`` processes (and in-process uvicorn servers) for HTTP-level tests.

:func:`start_server` launches ``python -m mltrail.cli.server`` on a free loopback port in front
of a fresh SQLite store (or a given backend URI) and waits until ``/health`` answers.
:func:`threaded_server` serves an app object from a thread of the test process, for suites that
need many fresh servers quickly.

As a pytest plugin (``pytest_plugins = ["tests.support.live_server"]``) it provides the fixtures
``live_server`` (a fresh server per test) and ``module_live_server`` (one per test module).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

_STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(
    url: str, timeout: float = _STARTUP_TIMEOUT, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll ``<url>/health`` until it answers ``OK``; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before answering")
        try:
            if requests.get(f"{url}/health", timeout=1).text == "OK":
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer /health within {timeout} s")


@dataclass
class LiveServer:
    """A running server subprocess and how to reach it."""

    url: str
    port: int
    backend_store_uri: str
    artifacts_destination: str
    process: subprocess.Popen[bytes]
    log_path: Path
    args: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Terminate gracefully (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL the server (no shutdown code runs)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 120.0) -> None:
        """Wait until the log holds ``text`` at least ``count`` times.

        Raises:
            AssertionError: it did not within ``timeout`` seconds (the log is in the message).
        """
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not {count} times in the server log:\n{self.log()}")
            time.sleep(0.1)


def start_server(
    workdir: Path,
    *,
    backend_store_uri: str | None = None,
    artifacts_destination: str | None = None,
    extra_args: Sequence[str] = (),
    port: int | None = None,
) -> LiveServer:
    """Start ``mltrail server`` and wait until it is healthy.

    Args:
        workdir: Directory for the default SQLite file, artifacts and the server log.
        backend_store_uri: Store URI (default: a fresh SQLite file in ``workdir``).
        artifacts_destination: Proxy destination (default: ``workdir/artifacts``).
        extra_args: More CLI flags.
        port: Port to bind (default: a free one).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    backend = backend_store_uri or f"sqlite:///{workdir / 'mltrail.db'}"
    destination = artifacts_destination or str(workdir / "artifacts")
    args = [
        sys.executable,
        "-m",
        "mltrail.cli.server",
        "--backend-store-uri",
        backend,
        "--artifacts-destination",
        destination,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *extra_args,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")}
    log_path = workdir / f"server-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(args, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", port, backend, destination, process, log_path, args)
    try:
        wait_for_health(server.url, process=process)
    except BaseException:
        server.kill()
        raise RuntimeError(f"mltrail server failed to start:\n{server.log()}") from None
    return server


@contextmanager
def running_server(workdir: Path, **kwargs: Any) -> Iterator[LiveServer]:
    """:func:`start_server` as a context manager that stops the server afterwards."""
    server = start_server(workdir, **kwargs)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def threaded_server(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn from a thread on a free port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, timeout=30)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A fresh ``mltrail server`` (new SQLite store and artifact destination) for one test."""
    with running_server(tmp_path_factory.mktemp("live-server")) as server:
        yield server


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One ``mltrail server`` shared by the tests of a module (use unique names per test)."""
    with running_server(tmp_path_factory.mktemp("module-live-server")) as server:
        yield server
