"""Fixtures of the autologging tests: the fluent API on a fresh SQLite store, autologging off after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail
import mltrail.system_metrics
from mltrail.registry import fluent as registry_fluent
from mltrail.tracking import _fluent_state
from mltrail.tracking.client import TrackingClient


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TrackingClient]:
    """The fluent API pointed at ``tmp_path``; yields an explicit client over the same store."""
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.chdir(tmp_path)
    registry_fluent._reset()
    _fluent_state._reset()
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    mltrail.set_tracking_uri(uri)
    client = TrackingClient(uri)
    try:
        yield client
    finally:
        mltrail.autolog(disable=True)
        while mltrail.active_run() is not None:
            mltrail.end_run()
        mltrail.system_metrics._reset()
        registry_fluent._reset()
        _fluent_state._reset()
        client.close()
