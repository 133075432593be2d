"""Engine factory: URI normalisation, one cached engine per URI, SQLite pragmas and write serialisation.

SQLite engines run in WAL mode with ``synchronous=NORMAL``, foreign keys on, case-sensitive
``LIKE`` and a busy timeout. Write transactions are serialised inside the process with a lock and
``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing with "database is locked".
``sqlite:///:memory:`` gets a private engine on one shared connection (never cached: each store
built on it is a fresh database).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

__all__ = ["Database", "dispose_database", "get_database", "normalize_uri"]

_DRIVER_ALIASES = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}
_SQLITE_BUSY_TIMEOUT_S = 30.0
_SQLITE_WAL_CHECKPOINT_PAGES = 10000
_SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024
_SQLITE_CACHE_KIB = 65536  # page cache per connection; large metric histories otherwise re-read pages
_MEMORY_URIS = ("sqlite://", "sqlite:///:memory:")


def normalize_uri(uri: str) -> str:
    """Map bare dialect schemes onto the drivers mltrail ships with.

    Args:
        uri: A database URI such as ``postgresql://host/db`` or ``sqlite:///path.db``.

    Returns:
        The URI with an explicit driver (``postgresql+psycopg``, ``mysql+pymysql``).
    """
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    return f"{_DRIVER_ALIASES.get(scheme, scheme)}://{rest}"


@dataclass(eq=False)
class Database:
    """An engine plus the locks that serialise its writes (SQLite) or all its use (in-memory)."""

    uri: str
    engine: Engine
    dialect: str
    is_memory: bool = False
    write_lock: threading.RLock = field(default_factory=threading.RLock)
    migrated: bool = False

    @contextlib.contextmanager
    def write(self, *, read_committed: bool = False) -> Iterator[Connection]:
        """A connection inside a write transaction, committed on success, rolled back on error.

        Args:
            read_committed: Run the transaction at READ COMMITTED on MySQL/MariaDB too (their
                default is REPEATABLE READ; PostgreSQL's default is READ COMMITTED already), so
                that each statement sees what other transactions committed before it. Writers
                that wait for a row lock and then read rows the lock holder wrote need this.
        """
        if self.dialect == "sqlite":
            with self.write_lock, self.engine.connect() as conn:
                conn.execution_options(mltrail_begin="IMMEDIATE")
                with conn.begin():
                    yield conn
        elif read_committed and self.dialect == "mysql":
            with self.engine.connect() as conn:
                # Reset to the pool's default when the connection goes back to the pool.
                conn.execution_options(isolation_level="READ COMMITTED")
                with conn.begin():
                    yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection inside a read transaction (one consistent snapshot for several queries)."""
        if self.is_memory:
            with self.write_lock, self.engine.connect() as conn, conn.begin():
                yield conn
        else:
            with self.engine.connect() as conn, conn.begin():
                yield conn


_cache: dict[str, Database] = {}
_cache_lock = threading.Lock()


def _sqlite_engine(uri: str, memory: bool) -> Engine:
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": _SQLITE_BUSY_TIMEOUT_S},
    }
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = sa.create_engine(uri, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (the driver's implicit one is DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            # Checkpoint less often: metric batches dirty the same pages again and again, and a
            # checkpoint copies each page once however many versions the WAL holds.
            cur.execute(f"PRAGMA wal_autocheckpoint={_SQLITE_WAL_CHECKPOINT_PAGES}")
            cur.execute(f"PRAGMA journal_size_limit={_SQLITE_WAL_LIMIT_BYTES}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA case_sensitive_like=ON")
        cur.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
        cur.execute(f"PRAGMA busy_timeout={int(_SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("mltrail_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _server_engine(uri: str) -> Engine:
    return sa.create_engine(uri, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=3600)


def _build(uri: str) -> Database:
    url = sa.make_url(uri)
    backend = url.get_backend_name()
    if backend == "sqlite":
        memory = url.database in (None, "", ":memory:")
        return Database(uri, _sqlite_engine(uri, memory), "sqlite", is_memory=memory)
    if backend in ("postgresql", "mysql", "mariadb"):
        return Database(uri, _server_engine(uri), "mysql" if backend == "mariadb" else backend)
    raise ValueError(f"Unsupported database URI scheme: '{url.drivername}'")


def get_database(uri: str) -> Database:
    """The process-wide :class:`Database` of a URI (a new private one for in-memory SQLite).

    Args:
        uri: A database URI; bare ``postgresql://`` / ``mysql://`` schemes get the default drivers.

    Returns:
        The cached database handle.

    Raises:
        ValueError: the scheme is not a supported database.
    """
    uri = normalize_uri(uri)
    if uri in _MEMORY_URIS:
        return _build(uri)
    with _cache_lock:
        db = _cache.get(uri)
        if db is None:
            db = _cache[uri] = _build(uri)
        return db


def dispose_database(uri: str) -> None:
    """Close the pooled connections of a URI's cached engine and forget it (e.g. before DROP DATABASE)."""
    with _cache_lock:
        db = _cache.pop(normalize_uri(uri), None)
    if db is not None:
        db.engine.dispose()
