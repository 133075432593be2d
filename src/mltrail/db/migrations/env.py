"""Alembic environment of mltrail's tracking schema.

Runs online only, on the connection handed over by :mod:`mltrail.db.migrate` through
``config.attributes["connection"]``; the migrations never open connections of their own.
"""

from __future__ import annotations

from alembic import context

from mltrail.db.schema import metadata
from mltrail.db.schema_logged_models import logged_models as _registers_logged_model_tables  # noqa: F401
from mltrail.db.schema_registry import registered_models as _registers_registry_tables  # noqa: F401
from mltrail.db.schema_tracing import trace_info as _registers_tracing_tables  # noqa: F401

_connection = context.config.attributes["connection"]
context.configure(
    connection=_connection,
    target_metadata=metadata,
    render_as_batch=_connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
