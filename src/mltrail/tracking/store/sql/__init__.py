"""SQL implementation of the tracking store (SQLite, PostgreSQL, MySQL/MariaDB), split by aggregate."""

from __future__ import annotations

from mltrail.tracking.store.sql.store import SqlTrackingStore

__all__ = ["SqlTrackingStore"]
