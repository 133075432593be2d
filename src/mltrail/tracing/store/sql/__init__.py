"""The SQL trace store (SQLite, PostgreSQL, MySQL/MariaDB)."""

from __future__ import annotations

from mltrail.tracing.store.sql.store import SqlTraceStore

__all__ = ["SqlTraceStore"]
