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
from mltrail.tracking.store.sql.dialect import execute_rows, insert_ignore, upsert_latest_metric

__all__ = ["history", "history_bulk_interval", "insert", "sample_steps"]

_M = schema.metrics

# The key is the caller's; selecting only the varying columns keeps row decoding cheap.
_Q_HISTORY = (
    sa.select(_M.c.value, _M.c.timestamp, _M.c.step, _M.c.is_nan)
    .where(_M.c.run_key == sa.bindparam("run_key"), _M.c.key == sa.bindparam("key"))
    .order_by(_M.c.timestamp, _M.c.step, _M.c.value)
)
_Q_HISTORY_PAGE = _Q_HISTORY.limit(sa.bindparam("limit")).offset(sa.bindparam("offset"))
_MAX_BULK_RUNS = 100
_MAX_BULK_INTERVAL_RESULTS = 2500


# Both in table order, so rows go to the driver without reordering.
_HISTORY_COLUMNS = ("run_key", "key", "timestamp", "step", "value", "is_nan")
_LATEST_COLUMNS = ("run_id", "key", "timestamp", "step", "value", "is_nan")


def insert(conn: Connection, dialect: str, run_key: int, run_id: str, metrics: Sequence[Metric]) -> None:
    """Append validated points to a run's history and raise its latest values where newer."""
    rows: list[tuple[int, str, int, int, float, bool]] = []
    latest: dict[str, tuple[int, str, int, int, float, bool]] = {}
    isnan = math.isnan
    for m in metrics:
        value = m.value
        is_nan = isnan(value)
        row = (run_key, m.key, m.timestamp, m.step, 0.0 if is_nan else value, is_nan)
        rows.append(row)
        best = latest.get(m.key)
        if best is None or (row[3], row[2], row[4]) > (best[3], best[2], best[4]):
            latest[m.key] = row
    execute_rows(conn, insert_ignore(dialect, _M), _HISTORY_COLUMNS, rows)
    execute_rows(
        conn,
        upsert_latest_metric(dialect),
        _LATEST_COLUMNS,
        [(run_id, *row[1:]) for row in latest.values()],
    )


def _to_metrics(key: str, rows: Any) -> list[Metric]:
    # Positional unpacking of rows is several times faster than attribute access on long histories.
    nan = math.nan
    return [Metric(key, nan if is_nan else value, ts, step) for value, ts, step, is_nan in rows]


def history(
    conn: Connection, run_key: int, key: str, max_results: int | None, page_token: str | None
) -> tuple[list[Metric], str | None]:
    """A page of a metric's points ordered by (timestamp, step, value)."""
    if max_results is None:
        if page_token:
            decode_page_token(page_token)
        return _to_metrics(key, conn.execute(_Q_HISTORY, {"run_key": run_key, "key": key})), None
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidArgumentError(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a positive integer"
        )
    offset = decode_page_token(page_token)
    args = {"run_key": run_key, "key": key, "limit": max_results + 1, "offset": offset}
    points = _to_metrics(key, conn.execute(_Q_HISTORY_PAGE, args))
    token = encode_page_token(offset + max_results) if len(points) > max_results else None
    return points[:max_results], token


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
