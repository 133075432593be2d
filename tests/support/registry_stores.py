"""Registry of registry-store factories for the contract suite: name → context manager.

Each entry yields a :class:`RegistryBackend`: a fresh registry store plus a tracking store on
the same data (the source rules of model versions look runs up), cleaned up afterwards.
Kinds: ``sqlite``, ``postgresql``, ``mysql`` (SQL stores on one database) and ``rest``
(``RestRegistryStore`` against a live uvicorn server in front of a fresh SQLite database).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mltrail.registry.store.base import RegistryStore
from mltrail.registry.store.sql import SqlRegistryStore
from mltrail.tracking.store.base import TrackingStore
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.support.databases import fresh_database

__all__ = ["REGISTRY_FACTORIES", "RegistryBackend", "open_registry", "register_registry"]


@dataclass
class RegistryBackend:
    """A registry store and a tracking store over the same data."""

    kind: str
    registry: RegistryStore
    tracking: TrackingStore


Opener = Callable[[Path], contextlib.AbstractContextManager[RegistryBackend]]


@dataclass(frozen=True)
class RegistryFactory:
    """One entry: how to open a fresh backend, and the pytest marks its tests carry."""

    name: str
    open: Opener
    marks: tuple[Any, ...] = field(default=())


REGISTRY_FACTORIES: dict[str, RegistryFactory] = {}


def register_registry(name: str, opener: Opener, marks: tuple[Any, ...] = ()) -> None:
    """Add (or replace) an entry."""
    REGISTRY_FACTORIES[name] = RegistryFactory(name, opener, marks)


@contextlib.contextmanager
def open_registry(name: str, tmp_path: Path) -> Iterator[RegistryBackend]:
    """Open a fresh backend of the named kind."""
    with REGISTRY_FACTORIES[name].open(tmp_path) as backend:
        yield backend


@contextlib.contextmanager
def _sql(kind: str, uri: str, tmp_path: Path) -> Iterator[RegistryBackend]:
    tracking = SqlTrackingStore(uri, (tmp_path / "artifacts").as_uri())
    registry = SqlRegistryStore(uri)
    try:
        yield RegistryBackend(kind, registry, tracking)
    finally:
        registry.close()
        tracking.close()


@contextlib.contextmanager
def _sqlite(tmp_path: Path) -> Iterator[RegistryBackend]:
    with _sql("sqlite", f"sqlite:///{tmp_path / 'mltrail.db'}", tmp_path) as backend:
        yield backend


def _server(kind: str) -> Opener:
    @contextlib.contextmanager
    def opener(tmp_path: Path) -> Iterator[RegistryBackend]:
        with fresh_database(kind) as uri, _sql(kind, uri, tmp_path) as backend:
            yield backend

    return opener


@contextlib.contextmanager
def _rest(tmp_path: Path) -> Iterator[RegistryBackend]:
    """REST stores talking HTTP to a real uvicorn server in front of a fresh SQLite database."""
    # Imported here so the SQL entries do not need the server extra (FastAPI, uvicorn).
    from mltrail.config import Settings
    from mltrail.registry.store.rest import RestRegistryStore
    from mltrail.server.app import create_app
    from mltrail.server.settings import ServerSettings
    from mltrail.tracking.store.rest import RestTrackingStore
    from tests.support.live_server import threaded_server

    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    backing = SqlTrackingStore(uri, "mlflow-artifacts:/")
    settings = ServerSettings(backend_store_uri=uri, artifacts_destination=str(tmp_path / "artifacts"))
    with threaded_server(create_app(settings, store=backing)) as url:
        client_settings = Settings(tracking_uri=url, http_max_retries=0)
        registry = RestRegistryStore(url, client_settings)
        tracking = RestTrackingStore(url, client_settings)
        try:
            yield RegistryBackend("rest", registry, tracking)
        finally:
            registry.close()
            tracking.close()


register_registry("sqlite", _sqlite)
register_registry("postgresql", _server("postgresql"), (pytest.mark.postgres,))
register_registry("mysql", _server("mysql"), (pytest.mark.mysql,))
register_registry("rest", _rest)
