"""Metric aggregate of the SQL tracking store: history inserts, the latest-value table, reads.

Every point goes to ``metrics`` (its primary key covers all columns, so an exact duplicate is
skipped). ``latest_metrics`` holds, per (run, key), the point with the greatest
(step, timestamp, value); it is upserted in the same transaction as the history insert, one row
per key of the batch, with a conditional dialect upsert. NaN is stored as 0 with ``is_nan`` set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.db import schema
from mltrail.errors import InvalidArgumentError
from mltrail.tracking.entities import Metric
from mltrail.tracking.search import decode_page_token, encode_page_token
from mltrail.tracking.store.sql import driver
from mltrail.tracking.store.sql.dialect import insert_ignore, upsert_latest_metric

__all__ = [
    "MetricPoint",
    "history",
    "history_bulk_interval",
    "history_points",
    "insert",
    "insert_one_postgresql",
    "sample_steps",
]

MetricPoint = tuple[float, int, int]
"""One point of a metric's history as ``(value, timestamp, step)``."""

_M = schema.metrics

# The bare points of a history (the key is the caller's): NULL stands for NaN, so rows need no
# rebuilding when (as almost always) there is none, and three columns make smaller rows than four.
_Q_POINTS = (
    sa.select(sa.case((_M.c.is_nan, sa.null()), else_=_M.c.value), _M.c.timestamp, _M.c.step)
    .where(_M.c.run_key == sa.bindparam("run_key"), _M.c.key == sa.bindparam("key"))
    .order_by(_M.c.timestamp, _M.c.step, _M.c.value)
)
_Q_POINTS_PAGE = _Q_POINTS.limit(sa.bindparam("limit")).offset(sa.bindparam("offset"))
_MAX_BULK_RUNS = 100
_MAX_BULK_INTERVAL_RESULTS = 2500


# Both in table order, so rows go to the driver without reordering.
_HISTORY_COLUMNS = ("run_key", "key", "timestamp", "step", "value", "is_nan")
_LATEST_COLUMNS = ("run_id", "key", "timestamp", "step", "value", "is_nan")


def insert(conn: Connection, dialect: str, run_key: int, run_id: str, metrics: Sequence[Metric]) -> None:
    """Append validated points to a run's history and raise its latest values where newer."""
    # value == value is false only for NaN, which is stored as 0 with is_nan set.
    rows = [
        (run_key, m.key, m.timestamp, m.step, m.value, False)
        if m.value == m.value
        else (run_key, m.key, m.timestamp, m.step, 0.0, True)
        for m in metrics
    ]
    # Per key, the row with the greatest (step, timestamp, value); the step alone decides most
    # comparisons, so the tuples are built only on a tie.
    latest: dict[str, tuple[int, str, int, int, float, bool]] = {}
    best_of = latest.get
    for row in rows:
        best = best_of(row[1])
        if best is None or row[3] > best[3] or (row[3] == best[3] and (row[2], row[4]) > (best[2], best[4])):
            latest[row[1]] = row
    if dialect == "postgresql":
        _insert_postgresql(conn, run_key, run_id, rows, list(latest.values()))
        return
    driver.execute_many(conn, insert_ignore(dialect, _M), _HISTORY_COLUMNS, rows)
    driver.execute_many(
        conn,
        upsert_latest_metric(dialect),
        _LATEST_COLUMNS,
        [(run_id, *row[1:]) for row in latest.values()],
    )


# PostgreSQL: each table gets all rows of a batch in one statement, as arrays unnested on the
# server; an executemany would send one INSERT per row (about 0.1 ms each, even pipelined).
_PG_COLUMNS = """
FROM unnest(
    CAST(:keys AS varchar[]), CAST(:timestamps AS bigint[]), CAST(:steps AS bigint[]),
    CAST(:values AS double precision[]), CAST(:is_nans AS boolean[])
) AS point("key", "timestamp", step, value, is_nan)
"""
_PG_INSERT_MANY = sa.text(
    f"""
INSERT INTO metrics (run_key, "key", "timestamp", step, value, is_nan)
SELECT CAST(:run_key AS integer), "key", "timestamp", step, value, is_nan {_PG_COLUMNS}
ON CONFLICT DO NOTHING
"""
)
_PG_UPSERT_LATEST_MANY = sa.text(
    f"""
INSERT INTO latest_metrics AS stored (run_id, "key", "timestamp", step, value, is_nan)
SELECT CAST(:run_id AS varchar), "key", "timestamp", step, value, is_nan {_PG_COLUMNS}
ON CONFLICT (run_id, "key") DO UPDATE
SET value = excluded.value, "timestamp" = excluded."timestamp", step = excluded.step,
    is_nan = excluded.is_nan
WHERE (excluded.step, excluded."timestamp", excluded.value)
    > (stored.step, stored."timestamp", stored.value)
"""
)


def _columns(rows: list[tuple[int, str, int, int, float, bool]]) -> dict[str, list[Any]]:
    _, keys, timestamps, steps, values, is_nans = zip(*rows, strict=True)
    return {
        "keys": list(keys),
        "timestamps": list(timestamps),
        "steps": list(steps),
        "values": list(values),
        "is_nans": list(is_nans),
    }


def _insert_postgresql(
    conn: Connection,
    run_key: int,
    run_id: str,
    rows: list[tuple[int, str, int, int, float, bool]],
    latest: list[tuple[int, str, int, int, float, bool]],
) -> None:
    if not rows:
        return
    driver.execute_one(conn, _PG_INSERT_MANY, {"run_key": run_key, **_columns(rows)}, binary_params=True)
    # One row per key: ON CONFLICT DO UPDATE may not touch the same row twice in a statement.
    latest_args = {"run_id": run_id, **_columns(latest)}
    driver.execute_one(conn, _PG_UPSERT_LATEST_MANY, latest_args, binary_params=True)


# PostgreSQL: a single point in one statement, and so one round trip instead of three (the
# run's state, the point, the latest value). The inserts happen only for an active run; the
# statement returns the run's stage (no row: unknown run) so the caller can raise as usual.
_PG_LOG_ONE = sa.text(
    """
WITH run AS (
    SELECT run_key, lifecycle_stage FROM runs WHERE run_id = :run_id
), point AS (
    INSERT INTO metrics (run_key, "key", "timestamp", step, value, is_nan)
    SELECT run_key, :key, :timestamp, :step, :value, :is_nan FROM run WHERE lifecycle_stage = 'active'
    ON CONFLICT DO NOTHING
), latest AS (
    INSERT INTO latest_metrics AS stored (run_id, "key", "timestamp", step, value, is_nan)
    SELECT :run_id, :key, :timestamp, :step, :value, :is_nan FROM run WHERE lifecycle_stage = 'active'
    ON CONFLICT (run_id, "key") DO UPDATE
    SET value = excluded.value, "timestamp" = excluded."timestamp", step = excluded.step,
        is_nan = excluded.is_nan
    WHERE (excluded.step, excluded."timestamp", excluded.value)
        > (stored.step, stored."timestamp", stored.value)
)
SELECT lifecycle_stage FROM run
"""
).bindparams(
    sa.bindparam("run_id", type_=sa.String),
    sa.bindparam("key", type_=sa.String),
    sa.bindparam("timestamp", type_=sa.BigInteger),
    sa.bindparam("step", type_=sa.BigInteger),
    sa.bindparam("value", type_=sa.Double),
    sa.bindparam("is_nan", type_=sa.Boolean),
)


def insert_one_postgresql(conn: Connection, run_id: str, metric: Metric) -> str | None:
    """Store one validated point (no model link) of an active run on PostgreSQL, in one statement.

    Returns:
        The run's lifecycle stage (the point is stored only when it is ``active``), or None
        when there is no such run.
    """
    is_nan = metric.value != metric.value
    row = driver.fetch_one(
        conn,
        _PG_LOG_ONE,
        {
            "run_id": run_id,
            "key": metric.key,
            "timestamp": metric.timestamp,
            "step": metric.step,
            "value": 0.0 if is_nan else metric.value,
            "is_nan": is_nan,
        },
    )
    return None if row is None else str(row[0])


def _page(max_results: int | None, page_token: str | None) -> int:
    """Check the paging arguments; the offset the page starts at."""
    if max_results is None:
        if page_token:
            decode_page_token(page_token)
        return 0
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidArgumentError(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a positive integer"
        )
    return decode_page_token(page_token)


def history(
    conn: Connection, run_key: int, key: str, max_results: int | None, page_token: str | None
) -> tuple[list[Metric], str | None]:
    """A page of a metric's points ordered by (timestamp, step, value)."""
    points, token = history_points(conn, run_key, key, max_results, page_token)
    return [Metric(key, value, ts, step) for value, ts, step in points], token


def history_points(
    conn: Connection, run_key: int, key: str, max_results: int | None, page_token: str | None
) -> tuple[list[MetricPoint], str | None]:
    """A page of a metric's points as bare ``(value, timestamp, step)`` tuples (NaN restored).

    Long histories are read through the driver's cursor (:mod:`.driver`): SQLAlchemy's per-row
    result handling costs several times the query itself on a 100,000-point metric.
    """
    offset = _page(max_results, page_token)
    if max_results is None:
        rows = driver.fetch_all(conn, _Q_POINTS, {"run_key": run_key, "key": key}, binary_rows=True)
    else:
        args = {"run_key": run_key, "key": key, "limit": max_results + 1, "offset": offset}
        rows = driver.fetch_all(conn, _Q_POINTS_PAGE, args, binary_rows=True)
    points: list[MetricPoint] = rows
    if any(row[0] is None for row in rows):
        nan = math.nan
        points = [(nan if value is None else value, ts, step) for value, ts, step in rows]
    if max_results is not None and len(points) > max_results:
        return points[:max_results], encode_page_token(offset + max_results)
    return points, None


def sample_steps(steps: Sequence[int], max_results: int) -> list[int]:
    """Up to ``max_results`` of the sorted distinct ``steps``, evenly spread, first and last kept."""
    n = len(steps)
    if n <= max_results:
        return list(steps)
    if max_results == 1:
        return [steps[0]]
    picked = {round(i * (n - 1) / (max_results - 1)) for i in range(max_results)}
    return [steps[i] for i in sorted(picked)]


def validate_bulk_interval(
    run_ids: Sequence[str], start_step: int | None, end_step: int | None, max_results: int
) -> None:
    """Check the arguments of a bulk-interval history request (spec §2.4)."""
    if not run_ids:
        raise InvalidArgumentError("GetMetricHistoryBulkInterval request must specify at least one run_id.")
    if len(run_ids) > _MAX_BULK_RUNS:
        raise InvalidArgumentError(
            f"GetMetricHistoryBulkInterval request cannot specify more than {_MAX_BULK_RUNS} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    if (start_step is None) != (end_step is None):
        raise InvalidArgumentError("If either start step or end step are specified, both must be specified.")
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidArgumentError("end_step must be greater than start_step. ")
    if isinstance(max_results, bool) or not 1 <= max_results <= _MAX_BULK_INTERVAL_RESULTS:
        raise InvalidArgumentError(
            f"max_results must be between 1 and {_MAX_BULK_INTERVAL_RESULTS}, got {max_results}."
        )


def history_bulk_interval(
    conn: Connection,
    run_ids: Sequence[str],
    key: str,
    start_step: int | None,
    end_step: int | None,
    max_results: int,
) -> list[Metric]:
    """Per run, the points at up to ``max_results`` evenly sampled steps, each with its run id."""
    ordered = list(dict.fromkeys(run_ids))
    runs = schema.runs
    keys: dict[int, str] = {
        r.run_key: r.run_id
        for r in conn.execute(sa.select(runs.c.run_key, runs.c.run_id).where(runs.c.run_id.in_(ordered)))
    }
    step_range = []
    if start_step is not None and end_step is not None:
        step_range = [_M.c.step >= start_step, _M.c.step <= end_step]
    steps_q = (
        sa.select(_M.c.run_key, _M.c.step)
        .where(_M.c.run_key.in_(list(keys)), _M.c.key == key, *step_range)
        .group_by(_M.c.run_key, _M.c.step)
        .order_by(_M.c.run_key, _M.c.step)
    )
    steps: dict[str, list[int]] = {run_id: [] for run_id in ordered}
    for r in conn.execute(steps_q):
        steps[keys[r.run_key]].append(r.step)
    key_of = {run_id: run_key for run_key, run_id in keys.items()}
    out: list[Metric] = []
    for run_id in ordered:
        sampled = sample_steps(steps[run_id], max_results)
        if not sampled:
            continue
        points_q = (
            sa.select(_M.c.key, _M.c.value, _M.c.timestamp, _M.c.step, _M.c.is_nan)
            .where(_M.c.run_key == key_of[run_id], _M.c.key == key, _M.c.step.in_(sampled))
            .order_by(_M.c.step, _M.c.timestamp, _M.c.value)
        )
        for p in conn.execute(points_q):
            out.append(Metric(p.key, math.nan if p.is_nan else p.value, p.timestamp, p.step, run_id=run_id))
    return out
