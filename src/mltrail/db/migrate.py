"""Programmatic Alembic: bring a database to the newest schema, or check it has no drift.

The migration scripts ship inside the package (``mltrail/db/migrations``), so no ``alembic.ini``
is needed. Both functions accept a URI or an already open :class:`~mltrail.db.engine.Database`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from mltrail.db.engine import Database, get_database
from mltrail.db.schema import metadata
from mltrail.db.schema_logged_models import logged_models as _registers_logged_model_tables  # noqa: F401
from mltrail.db.schema_registry import registered_models as _registers_registry_tables  # noqa: F401
from mltrail.db.schema_tracing import trace_info as _registers_tracing_tables  # noqa: F401

__all__ = ["check", "current_revision", "downgrade", "head_revision", "upgrade"]

_MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of mltrail."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision a database is at (None for an empty database)."""
    return MigrationContext.configure(conn).get_current_revision()


def _db(target: str | Database) -> Database:
    return get_database(target) if isinstance(target, str) else target


def upgrade(target: str | Database, revision: str = "head") -> None:
    """Migrate a database to ``revision`` (default: the newest), creating the schema if empty.

    Args:
        target: A database URI or an open database handle.
        revision: The Alembic revision to reach.
    """
    db = _db(target)
    with db.write() as conn:
        command.upgrade(_config(conn), revision)


def downgrade(target: str | Database, revision: str) -> None:
    """Migrate a database down to ``revision`` (``"base"`` drops every table of mltrail).

    Args:
        target: A database URI or an open database handle.
        revision: The Alembic revision to reach.
    """
    db = _db(target)
    with db.write() as conn:
        command.downgrade(_config(conn), revision)


def check(target: str | Database) -> list[Any]:
    """Compare the database schema with the table metadata (``alembic check`` without a CLI).

    Args:
        target: A database URI or an open database handle.

    Returns:
        The differences found; an empty list means the migrations match the metadata.
    """
    db = _db(target)
    with db.read() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))
