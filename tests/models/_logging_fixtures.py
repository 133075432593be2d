"""Fixtures of the model-logging tests: the fluent API pointed at a SQLite store in ``tmp_path`` or
at a live ``mltrail server`` with proxied artifacts, reset after each test.

Test modules import the fixtures they use by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import mltrail
from mltrail.registry import fluent as registry_fluent
from mltrail.registry.client import RegistryClient
from mltrail.tracking import _fluent_state
from mltrail.tracking.client import TrackingClient
from tests.support.live_server import LiveServer, running_server

BACKENDS = ["sqlite", "server"]


@dataclass
class Backend:
    """Where the fluent API logs for one test, with explicit clients over the same store."""

    kind: str
    tracking_uri: str
    tracking: TrackingClient
    registry: RegistryClient


def _reset_fluent() -> None:
    registry_fluent._reset()
    _fluent_state._reset()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One ``mltrail server`` (SQLite, proxied artifacts) for the tests of a module."""
    with running_server(tmp_path_factory.mktemp("log-model-server")) as server:
        yield server


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """The fluent API (and explicit clients) on a fresh SQLite store or on the shared server."""
    if request.param == "sqlite":
        monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
        uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    else:
        server: LiveServer = request.getfixturevalue("shared_server")
        uri = server.url
    _reset_fluent()
    mltrail.set_tracking_uri(uri)
    tracking = TrackingClient(uri)
    registry = RegistryClient(uri, tracking_store=tracking.store)
    try:
        yield Backend(request.param, uri, tracking, registry)
    finally:
        if mltrail.active_run() is not None:
            mltrail.end_run()
        _reset_fluent()
        registry.close()
        tracking.close()
