"""Dialect-specific statements: upserts and duplicate-ignoring inserts for SQLite, PostgreSQL, MySQL.

Statements are built once per (dialect, table) and reused, so SQLAlchemy's compiled cache hits
on every call. All of them take their values as executemany parameter lists.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from mltrail.db import schema

__all__ = ["execute_rows", "insert_ignore", "upsert", "upsert_latest_metric"]


def _insert(dialect: str, table: sa.Table) -> Insert:
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "mysql":
        return mysql.insert(table)
    return sqlite.insert(table)


@functools.cache
def insert_ignore(dialect: str, table: sa.Table) -> Insert:
    """``INSERT`` that silently skips rows whose primary or unique key already exists."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "mysql":
        stmt = mysql.insert(table)
        first = next(iter(table.primary_key.columns))
        # A self-assignment: duplicates change nothing, other errors still raise (unlike INSERT IGNORE).
        return stmt.on_duplicate_key_update({first.name: stmt.inserted[first.name]})
    return sqlite.insert(table).on_conflict_do_nothing()


@functools.cache
def upsert(dialect: str, table: sa.Table, conflict: tuple[str, ...], update: tuple[str, ...]) -> Insert:
    """``INSERT`` that overwrites the ``update`` columns when the ``conflict`` key exists."""
    if dialect == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(
            index_elements=list(conflict), set_={c: pg.excluded[c] for c in update}
        )
    if dialect == "mysql":
        my = mysql.insert(table)
        return my.on_duplicate_key_update({c: my.inserted[c] for c in update})
    lite = sqlite.insert(table)
    return lite.on_conflict_do_update(
        index_elements=list(conflict), set_={c: lite.excluded[c] for c in update}
    )


def _newer(
    new: Sequence[sa.ColumnElement[object]], old: Sequence[sa.ColumnElement[object]]
) -> sa.ColumnElement[bool]:
    return sa.tuple_(*new) > sa.tuple_(*old)


@functools.cache
def upsert_latest_metric(dialect: str) -> Insert:
    """Insert or replace a run's latest metric row when the new (step, timestamp, value) is greater."""
    t = schema.latest_metrics
    old = (t.c.step, t.c.timestamp, t.c.value)
    if dialect == "postgresql":
        pg = postgresql.insert(t)
        new = (pg.excluded.step, pg.excluded.timestamp, pg.excluded.value)
        return pg.on_conflict_do_update(
            index_elements=["run_id", "key"],
            set_={c: pg.excluded[c] for c in ("value", "timestamp", "step", "is_nan")},
            where=_newer(new, old),
        )
    if dialect == "mysql":
        my = mysql.insert(t)
        new = (my.inserted.step, my.inserted.timestamp, my.inserted.value)
        # MySQL applies assignments left to right, each seeing the previous ones: this order keeps
        # every condition equivalent to a comparison with the old row (see module docs of metrics).
        return my.on_duplicate_key_update(
            [
                (c, sa.case((_newer(new, old), my.inserted[c]), else_=t.c[c]))
                for c in ("is_nan", "value", "timestamp", "step")
            ]
        )
    lite = sqlite.insert(t)
    new = (lite.excluded.step, lite.excluded.timestamp, lite.excluded.value)
    return lite.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={c: lite.excluded[c] for c in ("value", "timestamp", "step", "is_nan")},
        where=_newer(new, old),
    )


@dataclass(frozen=True)
class _Raw:
    sql: str
    order: tuple[int, ...] | None  # positions of the row's values in the driver's positional order


_raw_cache: dict[tuple[str, object, int], _Raw] = {}


def execute_rows(
    conn: Connection, stmt: Insert, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Run a cached statement over many rows straight through the driver's ``executemany``.

    The hot write paths use this to skip SQLAlchemy's per-row parameter processing: the values
    here (str, int, float, bool) need none. ``stmt`` must be a cached statement (its identity is
    the cache key) and ``rows`` hold values in the order of ``columns``.
    """
    # The server version is part of the key: MySQL 8 and MariaDB render upserts differently.
    key = (conn.dialect.name, conn.dialect.server_version_info, id(stmt))
    raw = _raw_cache.get(key)
    if raw is None:
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
        if compiled.positional:
            names = compiled.positiontup or []
            order = tuple(columns.index(n) for n in names)
            raw = _Raw(compiled.string, order)
        else:
            raw = _Raw(compiled.string, None)
        _raw_cache[key] = raw
    params: list[Any]
    if raw.order is None:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    elif raw.order == tuple(range(len(columns))):
        params = rows
    else:
        params = [tuple(row[i] for i in raw.order) for row in rows]
    conn.exec_driver_sql(raw.sql, params)
