"""Fixtures of the tracing backend suite: a trace store over every backend, with an experiment.

``backend`` is parametrised over SQLite, PostgreSQL, MariaDB (skipped with a reason when their
``MLTRAIL_TEST_*`` URIs are unset) and REST (a real uvicorn server in front of SQLite).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mltrail.config import Settings
from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from mltrail.tracing.store.base import TraceStore
from mltrail.tracing.store.rest import RestTraceStore
from mltrail.tracing.store.sql import SqlTraceStore
from mltrail.tracking.store.base import TrackingStore
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.support.databases import fresh_database
from tests.support.live_server import threaded_server


@dataclass
class Backend:
    """A trace store, the tracking store beside it, and an experiment to write to."""

    name: str
    traces: TraceStore
    tracking: TrackingStore
    experiment_id: str
    url: str | None = None


@contextlib.contextmanager
def _sql(uri: str, tmp_path: Path, name: str) -> Iterator[Backend]:
    tracking = SqlTrackingStore(uri, (tmp_path / "artifacts").as_uri())
    traces = SqlTraceStore(uri)
    try:
        yield Backend(name, traces, tracking, tracking.create_experiment("traces"))
    finally:
        traces.close()
        tracking.close()


@contextlib.contextmanager
def _rest(tmp_path: Path) -> Iterator[Backend]:
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    backing = SqlTrackingStore(uri, "mlflow-artifacts:/")
    settings = ServerSettings(backend_store_uri=uri, artifacts_destination=str(tmp_path / "artifacts"))
    with threaded_server(create_app(settings, store=backing)) as url:
        traces = RestTraceStore(url, Settings(tracking_uri=url, http_max_retries=0))
        try:
            yield Backend("rest", traces, backing, backing.create_experiment("traces"), url)
        finally:
            traces.close()


SQL_BACKEND_PARAMS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
"""The databases the SQL trace store runs on."""
BACKEND_PARAMS = [*SQL_BACKEND_PARAMS, "rest"]


@contextlib.contextmanager
def open_backend(kind: str, tmp_path: Path) -> Iterator[Backend]:
    """A fresh backend of one kind, cleaned up on exit."""
    if kind == "sqlite":
        with _sql(f"sqlite:///{tmp_path / 'mltrail.db'}", tmp_path, kind) as b:
            yield b
    elif kind == "rest":
        with _rest(tmp_path) as b:
            yield b
    else:
        with fresh_database(kind) as uri, _sql(uri, tmp_path, kind) as b:
            yield b


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A fresh backend of each kind."""
    with open_backend(request.param, tmp_path) as b:
        yield b


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    """A SQLite backend only, for tests of logic that does not depend on the database."""
    with _sql(f"sqlite:///{tmp_path / 'mltrail.db'}", tmp_path, "sqlite") as b:
        yield b
