"""The registry store on SQL databases (the tracking database, SQLAlchemy Core)."""

from __future__ import annotations

from mltrail.registry.store.sql.store import SqlRegistryStore

__all__ = ["SqlRegistryStore"]
