"""Database access shared by the SQL stores: engines, table metadata and Alembic migrations."""

from __future__ import annotations

from mltrail.db.engine import Database, dispose_database, get_database, normalize_uri
from mltrail.db.migrate import check, current_revision, downgrade, head_revision, upgrade

__all__ = [
    "Database",
    "check",
    "current_revision",
    "dispose_database",
    "downgrade",
    "get_database",
    "head_revision",
    "normalize_uri",
    "upgrade",
]
