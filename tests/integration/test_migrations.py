"""Alembic migrations on SQLite, PostgreSQL and MariaDB: upgrade from empty, no drift, downgrade."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mltrail.db import (
    check,
    current_revision,
    dispose_database,
    downgrade,
    get_database,
    head_revision,
    upgrade,
)
from mltrail.db.schema import metadata
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.support.databases import empty_database


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def empty_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database(request.param, tmp_path) as uri:
        yield uri


def _tables(uri: str) -> set[str]:
    return set(sa.inspect(get_database(uri).engine).get_table_names())


def _revision(uri: str) -> str | None:
    with get_database(uri).read() as conn:
        return current_revision(conn)


def test_upgrade_from_empty_then_no_drift(empty_uri: str) -> None:
    assert _revision(empty_uri) is None
    upgrade(empty_uri)
    assert _revision(empty_uri) == head_revision()
    assert set(metadata.tables) <= _tables(empty_uri)
    assert check(empty_uri) == []
    upgrade(empty_uri)  # already at head: nothing to do
    assert _revision(empty_uri) == head_revision()


def test_downgrade_to_base_and_back(empty_uri: str) -> None:
    upgrade(empty_uri)
    downgrade(empty_uri, "base")
    assert _tables(empty_uri) - {"alembic_version"} == set()
    upgrade(empty_uri)
    assert check(empty_uri) == []


def test_store_migrates_empty_database_on_first_use(empty_uri: str, tmp_path: Path) -> None:
    store = SqlTrackingStore(empty_uri, tmp_path.as_uri())
    assert _revision(empty_uri) == head_revision()
    assert store.get_experiment("0").name == "Default"
    # A second store on the same database neither migrates again nor duplicates Default.
    again = SqlTrackingStore(empty_uri, "s3://elsewhere")
    assert again.get_experiment("0").artifact_location == store.get_experiment("0").artifact_location
    exp_id = again.create_experiment("after-default")
    assert int(exp_id) >= 1


def test_check_reports_drift(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'drift.db'}"
    try:
        upgrade(uri)
        with get_database(uri).write() as conn:
            conn.exec_driver_sql("DROP INDEX ix_latest_metrics_key_value")
        diffs = check(uri)
        assert diffs and any("ix_latest_metrics_key_value" in repr(d) for d in diffs)
    finally:
        dispose_database(uri)
