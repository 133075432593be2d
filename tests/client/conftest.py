"""Fixtures of the client tests: a SQLite store in a temp dir, an explicit client, the fluent API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.config import Settings
from mltrail.tracking import _fluent_state, fluent
from mltrail.tracking.client import TrackingClient


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mltrail.db'}"


@pytest.fixture
def artifact_root(tmp_path: Path) -> Path:
    return tmp_path / "artifacts"


@pytest.fixture
def settings(tracking_uri: str, artifact_root: Path) -> Settings:
    return Settings(tracking_uri=tracking_uri, artifact_root=str(artifact_root), flush_interval=0.05)


@pytest.fixture
def client(settings: Settings) -> Iterator[TrackingClient]:
    with TrackingClient(settings=settings) as c:
        yield c


@pytest.fixture
def fluent_api(
    tracking_uri: str, artifact_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[TrackingClient]:
    """The fluent API pointed at a fresh SQLite file; yields a second client to read back with."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(artifact_root))
    monkeypatch.setenv("MLTRAIL_FLUSH_INTERVAL", "0.05")
    _fluent_state._reset()
    fluent.set_tracking_uri(tracking_uri)
    reader = TrackingClient(tracking_uri, settings=Settings(artifact_root=str(artifact_root)))
    try:
        yield reader
    finally:
        reader.close()
        _fluent_state._reset()
