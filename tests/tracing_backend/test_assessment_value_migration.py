"""Migration ``0006_assessment_numeric_value`` on a database that already holds assessments.

Feedback and expectations written before the migration get their numeric value, so that
``feedback.<name> > x`` finds them; strings, booleans and objects stay without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from mltrail.db import check, current_revision, downgrade, get_database, head_revision, upgrade
from mltrail.tracing.store.sql import SqlTraceStore
from tests.support.databases import empty_database
from tests.tracing_backend.conftest import SQL_BACKEND_PARAMS

_BEFORE = "0005_trace_tag_search"
_VALUES: dict[str, object] = {"a": 4, "b": 0.25, "c": "4", "d": True, "e": {"x": 1}, "f": -3}


@pytest.fixture(params=SQL_BACKEND_PARAMS)
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at revision 0005 with one trace per value in ``_VALUES``, each with a feedback."""
    with empty_database(request.param, tmp_path) as uri:
        upgrade(uri, _BEFORE)
        engine = get_database(uri).engine
        meta = sa.MetaData()
        experiments = sa.Table("experiments", meta, autoload_with=engine)
        info = sa.Table("trace_info", meta, autoload_with=engine)
        assessments = sa.Table("assessments", meta, autoload_with=engine)
        with get_database(uri).write() as conn:
            conn.execute(
                experiments.insert().values(
                    experiment_id=7, name="old", artifact_location="/tmp/old", lifecycle_stage="active"
                )
            )
            for n, (name, value) in enumerate(sorted(_VALUES.items())):
                trace_id = f"tr-{n:032x}"
                conn.execute(
                    info.insert().values(
                        trace_id=trace_id, experiment_id=7, request_time=1000 + n, state="OK"
                    )
                )
                conn.execute(
                    assessments.insert().values(
                        assessment_id=f"a-{n:032x}",
                        trace_id=trace_id,
                        name="quality",
                        kind="feedback",
                        payload=orjson.dumps({"value": value}).decode(),
                        value_text=str(value),
                        source_type="HUMAN",
                        source_id=name,
                        create_time=1,
                        last_update_time=1,
                        valid=True,
                    )
                )
        yield uri


def test_upgrade_fills_numeric_values_and_downgrade_drops_them(old_database: str) -> None:
    uri = old_database
    upgrade(uri)
    with get_database(uri).read() as conn:
        assert current_revision(conn) == head_revision()
        rows: dict[str, float | None] = dict(
            conn.execute(sa.text("SELECT source_id, value_number FROM assessments")).all()
        )
    assert rows == {"a": 4.0, "b": 0.25, "c": None, "d": None, "e": None, "f": -3.0}
    assert check(uri) == []

    store = SqlTraceStore(uri)
    over = store.search_traces(["7"], "feedback.quality > 0")
    assert {i.trace_id for i in over} == {"tr-" + format(0, "032x"), "tr-" + format(1, "032x")}
    assert len(store.search_traces(["7"], "feedback.quality < 0").items) == 1

    downgrade(uri, _BEFORE)
    columns = {c["name"] for c in sa.inspect(get_database(uri).engine).get_columns("assessments")}
    assert "value_number" not in columns
    upgrade(uri)
    assert check(uri) == []
