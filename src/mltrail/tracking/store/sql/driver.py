"""Statements run straight on the driver's cursor, for the store's hottest paths.

SQLAlchemy's per-execution and per-row work (events, parameter processing, ``Row`` objects)
costs more than SQLite itself for a single-point write or a long metric history. Here a cached
statement is compiled once per dialect and then executed on the DBAPI cursor of the caller's
connection, inside its transaction. Values must need no type processing (str, int, float, bool)
and rows come back as the driver's plain tuples. Driver errors are re-raised as SQLAlchemy's
``DBAPIError`` subclasses, so the store's error translation treats them like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["execute_many", "execute_one", "fetch_all", "fetch_one"]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # parameter names in positional order; None for named styles


# Keyed by the statement's identity: callers pass module-level statements that live forever.
# The server version is part of the key since MySQL 8 and MariaDB render upserts differently.
_cache: dict[tuple[str, object, int, tuple[str, ...], bool], _Compiled] = {}
_PYFORMAT_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _compiled(
    conn: Connection, stmt: ClauseElement, columns: tuple[str, ...], binary: bool = False
) -> _Compiled:
    key = (conn.dialect.name, conn.dialect.server_version_info, id(stmt), columns, binary)
    done = _cache.get(key)
    if done is None:
        compiled = cast(
            SQLCompiler, stmt.compile(dialect=conn.dialect, column_keys=list(columns) if columns else None)
        )
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        sql = compiled.string
        if binary and conn.dialect.driver == "psycopg":
            # psycopg sends a "%(name)b" parameter in PostgreSQL's binary format: a list becomes
            # a packed array instead of text with every element checked for quoting.
            sql = _PYFORMAT_PLACEHOLDER.sub(r"%(\1)b", sql)
        done = _cache[key] = _Compiled(sql, names)
    return done


def _params(compiled: _Compiled, args: Mapping[str, Any]) -> Any:
    return dict(args) if compiled.names is None else tuple(args[n] for n in compiled.names)


def _run(
    conn: Connection, sql: str, params: Any, many: bool, fetch: int, binary_rows: bool = False
) -> list[Any] | None:
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        elif binary_rows and conn.dialect.driver == "psycopg":
            # psycopg's own keyword, outside the DBAPI interface SQLAlchemy types the cursor with.
            cast(Any, cursor).execute(sql, params, binary=True)
        else:
            cursor.execute(sql, params)
        if fetch == 0:
            return None
        if fetch == 1:
            row = cursor.fetchone()
            return None if row is None else [row]
        return list(cursor.fetchall())
    except dbapi.Error as err:
        raise sa.exc.DBAPIError.instance(sql, params, err, dbapi.Error) from err
    finally:
        cursor.close()


def fetch_all(
    conn: Connection, stmt: ClauseElement, args: Mapping[str, Any], *, binary_rows: bool = False
) -> list[tuple[Any, ...]]:
    """Every row of a cached query with bound parameters ``args``, as plain tuples.

    ``binary_rows`` has the server send the rows in its binary format where the driver can
    (psycopg): numbers then need no parsing from text, about a quarter less time for a long
    metric history. The Python values are the same.
    """
    compiled = _compiled(conn, stmt, ())
    return _run(conn, compiled.sql, _params(compiled, args), False, 2, binary_rows) or []


def fetch_one(conn: Connection, stmt: ClauseElement, args: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a cached query with bound parameters ``args``, or None."""
    compiled = _compiled(conn, stmt, ())
    rows = _run(conn, compiled.sql, _params(compiled, args), False, 1)
    return rows[0] if rows else None


def execute_one(
    conn: Connection, stmt: ClauseElement, args: Mapping[str, Any], *, binary_params: bool = False
) -> None:
    """Run a cached statement once with bound parameters ``args``.

    ``binary_params`` sends the parameters in the server's binary format where the driver can
    (psycopg): much cheaper for large arrays. Every parameter's type must then be clear to the
    server (a CAST in the statement), as it is not converted from text.
    """
    compiled = _compiled(conn, stmt, (), binary_params)
    _run(conn, compiled.sql, _params(compiled, args), False, 0)


def execute_many(
    conn: Connection, stmt: ClauseElement, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Run a cached DML statement once per row; ``rows`` hold values in the order of ``columns``."""
    if not rows:
        return
    compiled = _compiled(conn, stmt, columns)
    if compiled.names is None:
        params: Any = [dict(zip(columns, row, strict=True)) for row in rows]
    elif compiled.names == columns:
        params = rows
    else:
        order = [columns.index(n) for n in compiled.names]
        params = [tuple(row[i] for i in order) for row in rows]
    if len(params) == 1:
        # A single row needs no executemany machinery (psycopg would open a pipeline for it).
        _run(conn, compiled.sql, params[0], False, 0)
    else:
        _run(conn, compiled.sql, params, True, 0)
