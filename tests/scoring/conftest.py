"""Fixtures of the scoring tests: saved models and real scoring servers on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.scoring import _models

MLTRAIL = str(Path(sys.executable).parent / "mltrail")


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A running ``mltrail models serve`` process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"

    def post(self, body: bytes | str, content_type: str | None = "application/json") -> requests.Response:
        """POST /invocations with the given body and content type (none when ``None``)."""
        headers = {"Content-Type": content_type} if content_type is not None else {}
        data = body.encode() if isinstance(body, str) else body
        return requests.post(f"{self.url}/invocations", data=data, headers=headers, timeout=60)


def start_server(argv: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> Server:
    """Start a scoring server and wait until it answers /ping."""
    handle = log.open("wb")
    process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                return Server(process, port, log)
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            stop_server(process)
            raise RuntimeError(f"server did not answer /ping in time:\n{log.read_text()}")
        time.sleep(0.2)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and every process of its session."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One saved model per kind: sklearn, scaler (signature + params), echo (none), hinted."""
    root = tmp_path_factory.mktemp("scoring-models")
    dirs = {name: root / name / "model" for name in ("sklearn", "scaler", "echo", "hinted")}
    for path in dirs.values():
        path.parent.mkdir()
    _models.save_sklearn(dirs["sklearn"])
    _models.save_scaler(dirs["scaler"])
    _models.save_echo(dirs["echo"])
    _models.save_hinted(dirs["hinted"])
    return dirs


def _serve(model_dir: Path, tmp: Path, *extra: str) -> Iterator[Server]:
    port = free_port()
    argv = [MLTRAIL, "models", "serve", "-m", str(model_dir), "-p", str(port), *extra]
    server = start_server(argv, port, tmp / f"server-{port}.log")
    try:
        yield server
    finally:
        stop_server(server.process)


@pytest.fixture(scope="session")
def sklearn_server(model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The sklearn model behind a real server (micro-batching on: sklearn models declare it)."""
    yield from _serve(model_dirs["sklearn"], tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="session")
def scaler_server(model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The scaler model (declares ``batchable``) behind a real server with a 2 s timeout."""
    yield from _serve(model_dirs["scaler"], tmp_path_factory.mktemp("logs"), "--timeout", "2")


@pytest.fixture(scope="session")
def echo_server(model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The signature-less echo model behind a real server."""
    yield from _serve(model_dirs["echo"], tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="session")
def hinted_server(model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The type-hinted model behind a real server."""
    yield from _serve(model_dirs["hinted"], tmp_path_factory.mktemp("logs"))
