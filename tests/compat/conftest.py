"""Fixtures of the compatibility tests: the real ``mlflow`` client pointed at a live mltrail server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.live_server import LiveServer, running_server


@pytest.fixture(scope="module")
def compat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One ``mltrail server`` process per test module (tests use unique names)."""
    with running_server(tmp_path_factory.mktemp("compat")) as server:
        yield server


@pytest.fixture
def tracking_uri(compat_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``MLFLOW_TRACKING_URI`` set to the module's server, with quick client retries."""
    import mlflow  # test-only dependency; imported here so collection stays fast

    monkeypatch.setenv("MLFLOW_TRACKING_URI", compat_server.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    mlflow.set_tracking_uri(compat_server.url)
    yield compat_server.url
    if mlflow.active_run() is not None:
        mlflow.end_run()
    # None makes MLflow forget the URI (its annotation omits that case).
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]


def unique(prefix: str = "compat") -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
