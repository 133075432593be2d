"""Trace tag search index: tag rows carry their trace's experiment and time and a value digest.

``trace_tags`` gains ``experiment_id`` and ``request_time`` (copied from ``trace_info``) and
``value_digest`` (16 hex digits of BLAKE2b over the UTF-8 value), and the index
``ix_trace_tags_search`` on (key, value_digest, experiment_id, request_time, trace_id) replaces
``ix_trace_tags_key``, whose single column is its prefix. Existing rows are filled in before the
columns become NOT NULL.

On PostgreSQL, extended statistics ``st_trace_tags_value_digest`` tell the planner that a value
and its digest go together: without them it multiplies the two equalities' selectivities,
expects a handful of rows, and sorts every match instead of reading the index in order.

On SQLite, ``trace_tags`` and ``trace_request_metadata`` are rebuilt as ``WITHOUT ROWID`` tables:
their rows then live in the primary-key B-tree, in (trace_id, key) order, so reading the tags of
a page of traces is one seek per trace instead of one per row plus a row lookup. (PostgreSQL
and MariaDB keep their tables as they are; InnoDB already clusters rows by primary key.)

Revision ID: 0005_trace_tag_search
Revises: 0004_tracing
Create Date: 2026-11-27
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0005_trace_tag_search"
down_revision = "0004_tracing"
branch_labels = None
depends_on = None

_BATCH = 1000
_INDEX = "ix_trace_tags_search"
_COLUMNS = ("experiment_id", "request_time", "value_digest")
_NO_ROWID = {"sqlite_with_rowid": False}
_STATISTICS = "st_trace_tags_value_digest"


def _digest(value: str) -> str:
    # Frozen copy of the store's digest: a migration must keep producing what it produced when
    # it was written, whatever later code does.
    return hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()


def _fill_digests(conn: sa.Connection) -> None:
    tags = sa.table("trace_tags", sa.column("trace_id"), sa.column("key"), sa.column("value"))
    digests = sa.table("trace_tags", sa.column("trace_id"), sa.column("key"), sa.column("value_digest"))
    update = (
        sa.update(digests)
        .where(digests.c.trace_id == sa.bindparam("b_trace_id"), digests.c.key == sa.bindparam("b_key"))
        .values(value_digest=sa.bindparam("b_digest"))
    )
    after: tuple[str, str] | None = None
    while True:
        # Keyset over the primary key: every batch starts where the previous one ended.
        query = sa.select(tags.c.trace_id, tags.c.key, tags.c.value).order_by(tags.c.trace_id, tags.c.key)
        if after is not None:
            query = query.where(
                sa.or_(
                    tags.c.trace_id > after[0], sa.and_(tags.c.trace_id == after[0], tags.c.key > after[1])
                )
            )
        rows = conn.execute(query.limit(_BATCH)).all()
        if not rows:
            return
        conn.execute(
            update,
            [{"b_trace_id": t, "b_key": k, "b_digest": _digest(v)} for t, k, v in rows],
        )
        after = (rows[-1][0], rows[-1][1])


def upgrade() -> None:
    """Add, fill and index the search columns of ``trace_tags``."""
    with op.batch_alter_table("trace_tags") as batch:
        batch.add_column(sa.Column("experiment_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("request_time", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("value_digest", sa.String(16), nullable=True))
    info = sa.table(
        "trace_info", sa.column("trace_id"), sa.column("experiment_id"), sa.column("request_time")
    )
    tags = sa.table("trace_tags", sa.column("trace_id"), *(sa.column(c) for c in _COLUMNS[:2]))
    of_trace = info.c.trace_id == tags.c.trace_id
    op.execute(
        sa.update(tags).values(
            experiment_id=sa.select(info.c.experiment_id).where(of_trace).scalar_subquery(),
            request_time=sa.select(info.c.request_time).where(of_trace).scalar_subquery(),
        )
    )
    _fill_digests(op.get_bind())
    # On SQLite, changing NULL-ability rebuilds the table anyway: it is rebuilt without rowid.
    with op.batch_alter_table("trace_tags", table_kwargs=_NO_ROWID) as batch:
        batch.alter_column("experiment_id", existing_type=sa.Integer, nullable=False)
        batch.alter_column("request_time", existing_type=sa.BigInteger, nullable=False)
        batch.alter_column("value_digest", existing_type=sa.String(16), nullable=False)
        batch.drop_index("ix_trace_tags_key")
        batch.create_index(_INDEX, ["key", "value_digest", "experiment_id", "request_time", "trace_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        with op.batch_alter_table("trace_request_metadata", recreate="always", table_kwargs=_NO_ROWID):
            pass
    elif dialect == "postgresql":
        op.execute(f"CREATE STATISTICS {_STATISTICS} (dependencies) ON value_digest, value FROM trace_tags")
        op.execute("ANALYZE trace_tags")


def downgrade() -> None:
    """Drop the search index and columns, and restore the index on ``key`` (tables keep no rowid)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {_STATISTICS}")
    with op.batch_alter_table("trace_tags") as batch:
        batch.drop_index(_INDEX)
        batch.create_index("ix_trace_tags_key", ["key"])
        for column in reversed(_COLUMNS):
            batch.drop_column(column)
