"""Registry of tracking store factories for the contract suite: name → context manager.

Each entry yields a fresh :class:`~mltrail.tracking.store.base.TrackingStore` and cleans up
after it. The contract suite parametrises its ``tracking_store`` fixture over
:data:`STORE_FACTORIES`, so a new backend (e.g. ``rest``: a live server in front of a store) is
added by calling :func:`register_store` here, without touching any test file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mltrail.tracking.store.base import TrackingStore
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.support.databases import fresh_database

__all__ = ["STORE_FACTORIES", "StoreFactory", "StoreOptions", "open_store", "register_store"]


@dataclass(frozen=True)
class StoreOptions:
    """Settings a test may ask of its store."""

    truncate_long_values: bool = True


StoreOpener = Callable[[Path, StoreOptions], contextlib.AbstractContextManager[TrackingStore]]


@dataclass(frozen=True)
class StoreFactory:
    """One registry entry: how to open a fresh store, and the pytest marks its tests carry."""

    name: str
    open: StoreOpener
    marks: tuple[Any, ...] = field(default=())


STORE_FACTORIES: dict[str, StoreFactory] = {}


def register_store(name: str, opener: StoreOpener, marks: tuple[Any, ...] = ()) -> None:
    """Add (or replace) a registry entry."""
    STORE_FACTORIES[name] = StoreFactory(name, opener, marks)


@contextlib.contextmanager
def open_store(name: str, tmp_path: Path, options: StoreOptions | None = None) -> Iterator[TrackingStore]:
    """Open a fresh store of the named kind."""
    with STORE_FACTORIES[name].open(tmp_path, options or StoreOptions()) as store:
        yield store


@contextlib.contextmanager
def _sqlite(tmp_path: Path, options: StoreOptions) -> Iterator[TrackingStore]:
    store = SqlTrackingStore(
        f"sqlite:///{tmp_path / 'mltrail.db'}",
        (tmp_path / "artifacts").as_uri(),
        truncate_long_values=options.truncate_long_values,
    )
    try:
        yield store
    finally:
        store.close()


def _server(kind: str) -> StoreOpener:
    @contextlib.contextmanager
    def opener(tmp_path: Path, options: StoreOptions) -> Iterator[TrackingStore]:
        with fresh_database(kind) as uri:
            store = SqlTrackingStore(
                uri, (tmp_path / "artifacts").as_uri(), truncate_long_values=options.truncate_long_values
            )
            try:
                yield store
            finally:
                store.close()

    return opener


register_store("sqlite", _sqlite)
register_store("postgresql", _server("postgresql"), (pytest.mark.postgres,))
register_store("mysql", _server("mysql"), (pytest.mark.mysql,))


@contextlib.contextmanager
def _rest(tmp_path: Path, options: StoreOptions) -> Iterator[TrackingStore]:
    """A ``RestTrackingStore`` talking HTTP to a real uvicorn server in front of a fresh SQLite store."""
    # Imported here so the other entries do not need the server extra (FastAPI, uvicorn).
    from mltrail.config import Settings
    from mltrail.server.app import create_app
    from mltrail.server.settings import ServerSettings
    from mltrail.tracking.store.rest import RestTrackingStore
    from tests.support.live_server import threaded_server

    backing = SqlTrackingStore(
        f"sqlite:///{tmp_path / 'mltrail.db'}",
        "mlflow-artifacts:/",
        truncate_long_values=options.truncate_long_values,
    )
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'mltrail.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
    )
    with threaded_server(create_app(settings, store=backing)) as url:
        store = RestTrackingStore(url, Settings(tracking_uri=url, http_max_retries=0))
        try:
            yield store
        finally:
            store.close()


register_store("rest", _rest)
