"""Migration ``0005_trace_tag_search`` on a database that already holds traces, on every database.

Tag rows written before the migration get their trace's experiment and time and the digest of
their value, so that tag-filtered searches find them; the downgrade gives the old table back
with its rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mltrail.db import (
    check,
    current_revision,
    downgrade,
    get_database,
    head_revision,
    upgrade,
)
from mltrail.tracing.store.sql import SqlTraceStore
from mltrail.tracing.store.sql.codec import value_digest
from tests.support.databases import empty_database
from tests.tracing_backend.conftest import SQL_BACKEND_PARAMS

_BEFORE = "0004_tracing"


@pytest.fixture(params=SQL_BACKEND_PARAMS)
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at revision 0004 with one experiment, three traces and their tags."""
    with empty_database(request.param, tmp_path) as uri:
        upgrade(uri, _BEFORE)
        meta = sa.MetaData()
        experiments = sa.Table("experiments", meta, autoload_with=get_database(uri).engine)
        info = sa.Table("trace_info", meta, autoload_with=get_database(uri).engine)
        tags = sa.Table("trace_tags", meta, autoload_with=get_database(uri).engine)
        with get_database(uri).write() as conn:
            conn.execute(
                experiments.insert().values(
                    experiment_id=7, name="old", artifact_location="/tmp/old", lifecycle_stage="active"
                )
            )
            for n in range(3):
                trace_id = f"tr-{n:032x}"
                conn.execute(
                    info.insert().values(
                        trace_id=trace_id, experiment_id=7, request_time=1000 + n, state="OK"
                    )
                )
                conn.execute(
                    tags.insert(),
                    [
                        {"trace_id": trace_id, "key": "team", "value": "a" if n != 1 else "b"},
                        {"trace_id": trace_id, "key": "note", "value": "ü" * 2000},
                    ],
                )
        yield uri


def _has_statistics(uri: str) -> bool:
    """Whether PostgreSQL holds the extended statistics that make it read the tag index in order."""
    if not uri.startswith("postgresql"):
        return False
    with get_database(uri).read() as conn:
        found = conn.execute(
            sa.text("SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'st_trace_tags_value_digest'")
        )
        return bool(found.scalar_one())


def test_upgrade_fills_tag_search_columns_and_downgrade_restores(old_database: str) -> None:
    uri = old_database
    upgrade(uri)
    with get_database(uri).read() as conn:
        assert current_revision(conn) == head_revision()
        rows = conn.execute(
            sa.text(
                "SELECT trace_id, value, experiment_id, request_time, value_digest"
                " FROM trace_tags ORDER BY trace_id"
            )
        ).all()
    assert len(rows) == 6
    for trace_id, value, experiment_id, request_time, digest in rows:
        assert experiment_id == 7
        assert request_time == 1000 + int(trace_id[3:], 16)
        assert digest == value_digest(value)
    assert check(uri) == []
    assert _has_statistics(uri) == uri.startswith("postgresql")

    store = SqlTraceStore(uri)
    found = store.search_traces(["7"], "tags.team = 'a'")
    assert [i.trace_id for i in found] == [f"tr-{2:032x}", f"tr-{0:032x}"]
    assert [i.trace_id for i in store.search_traces(["7"], f"tags.note = '{'ü' * 2000}'")] == [
        f"tr-{n:032x}" for n in (2, 1, 0)
    ]

    downgrade(uri, _BEFORE)
    assert not _has_statistics(uri)
    engine = get_database(uri).engine
    columns = {c["name"] for c in sa.inspect(engine).get_columns("trace_tags")}
    assert columns == {"trace_id", "key", "value"}
    with get_database(uri).read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM trace_tags")).scalar_one() == 6
    upgrade(uri)
    assert check(uri) == []
    assert len(SqlTraceStore(uri).search_traces(["7"], "tags.team = 'b'").items) == 1
