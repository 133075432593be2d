"""The web UI's reads done in the database: downsampled series, run groups, counts, column keys.

Each gives exactly what the contract-level defaults in :mod:`mltrail.tracking.ui_views` give,
with the heavy part in SQL:

* One statement counts the points in range of every requested series and finds their x range.
  A series longer than ``max_points`` is then reduced in three statements whatever its length:
  the extremes of every x bucket (``GROUP BY`` over the integer bucket expression of
  :mod:`mltrail.tracking.downsample`), the earliest x holding each extreme, and the other
  coordinate of those points and of the series' ends. Python only assembles the ~1000 rows.
  Shorter series are read whole, one statement per run.
* A reduced series is remembered (:class:`SeriesCache`) under its count and x range, which the
  first statement reads anyway: stored points are only ever added (a purge removes the run), so
  an unchanged count means unchanged points and a chart reopened costs one statement.
* Groups and counts reuse the conditions of ``search_runs`` (same filter grammar and errors);
  metric aggregates come from ``latest_metrics`` in one grouped join.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.db import schema
from mltrail.errors import NotFoundError
from mltrail.tracking.downsample import (
    Bucket,
    SeriesPoint,
    XAxis,
    bucket_count,
    bucket_width,
    downsample,
    select_points,
)
from mltrail.tracking.entities import LifecycleStage, ViewType
from mltrail.tracking.search import parse_run_filter
from mltrail.tracking.store.sql.search import run_conditions
from mltrail.tracking.ui_views import (
    MAX_COLUMN_KEYS,
    MAX_DOUBLE,
    MAX_GROUPS,
    ColumnKeys,
    GroupKey,
    MetricAggregate,
    MetricSeries,
    RunGroup,
    RunGroups,
    mean_of,
)

__all__ = ["SeriesCache", "count_runs", "experiment_columns", "group_runs", "metric_series"]

_M, _R, _LM, _P, _T = schema.metrics, schema.runs, schema.latest_metrics, schema.params, schema.tags
# Bucket arithmetic needs x - lo to fit a signed 64-bit integer; wider series are reduced in memory.
_MAX_SQL_SPAN = 2**62


def _axes(x_axis: XAxis) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    """The x column and the other coordinate's column."""
    return (_M.c.step, _M.c.timestamp) if x_axis == "step" else (_M.c.timestamp, _M.c.step)


def _run_keys(conn: Connection, run_ids: Sequence[str]) -> dict[str, int]:
    rows = conn.execute(sa.select(_R.c.run_id, _R.c.run_key).where(_R.c.run_id.in_(list(run_ids))))
    found = {r.run_id: r.run_key for r in rows}
    for run_id in run_ids:
        if run_id not in found:
            raise NotFoundError(f"Run with id={run_id} not found")
    return found


def _point(x_axis: XAxis, x: int, other: int, value: float, is_nan: bool) -> SeriesPoint:
    value = math.nan if is_nan else float(value)
    return SeriesPoint(x, other, value) if x_axis == "step" else SeriesPoint(other, x, value)


def _all_points(
    conn: Connection, run_key: int, keys: Sequence[str], x_axis: XAxis, x_min: int | None, x_max: int | None
) -> dict[str, list[SeriesPoint]]:
    """Every point in range of each key, x-ordered."""
    x, other = _axes(x_axis)
    query = (
        sa.select(_M.c.key, x, other, _M.c.value, _M.c.is_nan)
        .where(_M.c.run_key == run_key, _M.c.key.in_(list(keys)), *_range(x, x_min, x_max))
        .order_by(_M.c.key, x, other, _M.c.value, _M.c.is_nan)
    )
    out: dict[str, list[SeriesPoint]] = {k: [] for k in keys}
    for key, px, po, value, is_nan in conn.execute(query):
        out[key].append(_point(x_axis, px, po, value, bool(is_nan)))
    return out


def _range(x: sa.ColumnElement[int], x_min: int | None, x_max: int | None) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    if x_min is not None:
        conds.append(x >= x_min)
    if x_max is not None:
        conds.append(x <= x_max)
    return conds


def _bucket(dialect: str, x: sa.ColumnElement[int], lo: int, width: int) -> sa.ColumnElement[int]:
    """``(x - lo) // width`` in the database (x >= lo, so truncation is the floor)."""
    diff = x - sa.literal(lo, sa.BigInteger)
    divisor = sa.literal(width, sa.BigInteger)
    if dialect == "mysql":
        # MySQL's "/" is decimal division with limited digits; DIV is exact integer division.
        return diff.self_group().op("DIV", return_type=sa.BigInteger)(divisor)
    return diff // divisor


_Picked = tuple[int, bool, float, int]  # bucket, is NaN, value, earliest x holding it


def _pick_extremes(
    conn: Connection,
    where: Sequence[sa.ColumnElement[bool]],
    b: sa.ColumnElement[int],
    x: sa.ColumnElement[int],
) -> list[_Picked]:
    """Per bucket: the earliest x holding its min, its max, and its first NaN."""
    finite = sa.case((_M.c.is_nan, None), else_=_M.c.value)
    agg = sa.select(b, sa.func.min(finite), sa.func.max(finite)).where(*where).group_by(b)
    extremes: dict[int, tuple[float, float]] = {}
    for bi, mn, mx in conn.execute(agg):
        if mn is not None:
            extremes[int(bi)] = (float(mn), float(mx))
    # The extremes go back as a value list rather than a join, so the database scans the series
    # once more without recomputing the aggregate; rows holding another bucket's extreme are
    # dropped here.
    values = sorted({v for pair in extremes.values() for v in pair})
    holds = sa.or_(_M.c.is_nan, _M.c.value.in_(values)) if values else _M.c.is_nan
    pick = (
        sa.select(b, _M.c.is_nan, _M.c.value, sa.func.min(x))
        .where(*where, holds)
        .group_by(b, _M.c.is_nan, _M.c.value)
    )
    picked: list[_Picked] = []
    for bi, nan, v, px in conn.execute(pick):
        bi, nan, v = int(bi), bool(nan), float(v)
        if nan or (bi in extremes and v in extremes[bi]):
            picked.append((bi, nan, 0.0 if nan else v, int(px)))
    return picked


def _other_coordinates(
    conn: Connection,
    where: Sequence[sa.ColumnElement[bool]],
    x: sa.ColumnElement[int],
    other: sa.ColumnElement[int],
    xs: set[int],
) -> dict[tuple[int, bool, float], tuple[int, int]]:
    """For each (x, is NaN, value) at the given xs: the smallest and largest other coordinate."""
    resolve = (
        sa.select(x, _M.c.is_nan, _M.c.value, sa.func.min(other), sa.func.max(other))
        .where(*where, x.in_(sorted(xs)))
        .group_by(x, _M.c.is_nan, _M.c.value)
    )
    return {
        (int(px), bool(nan), 0.0 if nan else float(v)): (int(o_min), int(o_max))
        for px, nan, v, o_min, o_max in conn.execute(resolve)
    }


def _downsampled(
    conn: Connection, dialect: str, run_key: int, key: str, x_axis: XAxis, lo: int, hi: int, max_points: int
) -> list[SeriesPoint]:
    """The min/max-preserving subset of the series' points in ``lo..hi``."""
    x, other = _axes(x_axis)
    width = bucket_width(lo, hi, bucket_count(max_points))
    where = (_M.c.run_key == run_key, _M.c.key == key, x >= lo, x <= hi)
    picked = _pick_extremes(conn, where, _bucket(dialect, x, lo, width).label("b"), x)
    # A picked point takes the smallest other coordinate among equal points (the earliest); the
    # series' first and last points are the earliest at x = lo and the latest at x = hi.
    others = _other_coordinates(conn, where, x, other, {px for *_, px in picked} | {lo, hi})
    slots: dict[int, dict[str, SeriesPoint]] = {}
    for bi, nan, value, px in picked:
        p = _point(x_axis, px, others[(px, nan, value)][0], value, nan)
        bucket = slots.setdefault(bi, {})
        if nan:
            bucket["nan"] = p
            continue
        # A flat bucket has one point, both its min and its max.
        if "low" not in bucket or p.value < bucket["low"].value:
            bucket["low"] = p
        if "high" not in bucket or p.value > bucket["high"].value:
            bucket["high"] = p
    at_lo = [
        ((o[0], v, nan), _point(x_axis, lo, o[0], v, nan)) for (px, nan, v), o in others.items() if px == lo
    ]
    at_hi = [
        ((o[1], v, nan), _point(x_axis, hi, o[1], v, nan)) for (px, nan, v), o in others.items() if px == hi
    ]
    first, last = min(at_lo)[1], max(at_hi)[1]
    buckets = [Bucket(i, s.get("low"), s.get("high"), s.get("nan")) for i, s in sorted(slots.items())]
    return select_points(buckets, (first, last), max_points, x_axis)


_CacheKey = tuple[str, str, str, int, int | None, int | None, int, int, int]


class SeriesCache:
    """Reduced series already computed, least recently used dropped first; thread-safe.

    Args:
        capacity: How many series to keep (each at most ``max_points`` points).
    """

    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._items: OrderedDict[_CacheKey, tuple[SeriesPoint, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _CacheKey) -> list[SeriesPoint] | None:
        """The points stored under ``key``, or None."""
        with self._lock:
            points = self._items.get(key)
            if points is None:
                return None
            self._items.move_to_end(key)
            return list(points)

    def put(self, key: _CacheKey, points: Sequence[SeriesPoint]) -> None:
        """Remember ``points`` under ``key``."""
        with self._lock:
            self._items[key] = tuple(points)
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)


def metric_series(
    conn: Connection,
    dialect: str,
    run_ids: Sequence[str],
    metric_keys: Sequence[str],
    max_points: int,
    x_axis: XAxis,
    x_min: int | None,
    x_max: int | None,
    cache: SeriesCache | None = None,
) -> list[MetricSeries]:
    """Series of every (run, key), in order; arguments already checked and deduplicated."""
    run_keys = _run_keys(conn, run_ids)
    x, _ = _axes(x_axis)
    stats_q = (
        sa.select(_M.c.run_key, _M.c.key, sa.func.count(), sa.func.min(x), sa.func.max(x))
        .where(
            _M.c.run_key.in_(list(run_keys.values())),
            _M.c.key.in_(list(metric_keys)),
            *_range(x, x_min, x_max),
        )
        .group_by(_M.c.run_key, _M.c.key)
    )
    stats = {(rk, key): (int(n), int(lo), int(hi)) for rk, key, n, lo, hi in conn.execute(stats_q)}
    out: list[MetricSeries] = []
    for run_id in run_ids:
        run_key = run_keys[run_id]
        whole = [k for k in metric_keys if (run_key, k) in stats and stats[(run_key, k)][0] <= max_points]
        points = _all_points(conn, run_key, whole, x_axis, x_min, x_max) if whole else {}
        for key in metric_keys:
            n, lo, hi = stats.get((run_key, key), (0, 0, 0))
            if n == 0:
                out.append(MetricSeries(run_id, key, 0, False, []))
            elif n <= max_points:
                out.append(MetricSeries(run_id, key, n, False, points[key]))
            elif hi - lo >= _MAX_SQL_SPAN:
                every = _all_points(conn, run_key, [key], x_axis, x_min, x_max)[key]
                out.append(MetricSeries(run_id, key, n, True, downsample(every, max_points, x_axis)[0]))
            else:
                cache_key = (run_id, key, x_axis, max_points, x_min, x_max, n, lo, hi)
                reduced = cache.get(cache_key) if cache is not None else None
                if reduced is None:
                    reduced = _downsampled(conn, dialect, run_key, key, x_axis, lo, hi, max_points)
                    if cache is not None:
                        cache.put(cache_key, reduced)
                out.append(MetricSeries(run_id, key, n, True, reduced))
    return out


def count_runs(
    conn: Connection, experiment_ids: Sequence[int], filter_string: str, view_type: ViewType
) -> int:
    """How many runs a search with this filter visits."""
    comparisons = parse_run_filter(filter_string)
    if not experiment_ids:
        return 0
    query = (
        sa.select(sa.func.count())
        .select_from(_R)
        .where(*run_conditions(experiment_ids, comparisons, view_type))
    )
    return int(conn.execute(query).scalar_one())


def _group_source(group: GroupKey) -> tuple[sa.FromClause, sa.ColumnElement[Any]]:
    """The runs joined to what holds the grouping value, and that value's column."""
    if group.kind == "attribute":
        column = {"run_name": _R.c.name}.get(group.key, _R.c[group.key])
        return _R, column
    table = _P if group.kind == "param" else _T
    return _R.outerjoin(
        table, sa.and_(table.c.run_id == _R.c.run_id, table.c.key == group.key)
    ), table.c.value


def group_runs(
    conn: Connection,
    experiment_ids: Sequence[int],
    filter_string: str,
    view_type: ViewType,
    group: GroupKey,
    metric_keys: Sequence[str],
) -> RunGroups:
    """Runs grouped by one value, with aggregates of their latest metric values."""
    comparisons = parse_run_filter(filter_string)
    if not experiment_ids:
        return RunGroups([], 0, False)
    conditions = run_conditions(experiment_ids, comparisons, view_type)
    source, value = _group_source(group)
    counts_q = sa.select(value, sa.func.count()).select_from(source).where(*conditions).group_by(value)
    counts: dict[str | None, int] = {}
    for v, n in conn.execute(counts_q):
        counts[None if v is None else str(v)] = int(n)
    # Ordered here rather than in SQL: one order (code points) on every backend and for numbers.
    ordered = sorted(counts, key=lambda v: (v is None, v or ""))
    kept = ordered[:MAX_GROUPS]
    stats: dict[tuple[str | None, str], MetricAggregate] = {}
    if metric_keys and kept:
        stats = _group_metrics(conn, source, value, conditions, metric_keys)
    empty = MetricAggregate(0, None, None, None)
    groups = [RunGroup(v, counts[v], {k: stats.get((v, k), empty) for k in metric_keys}) for v in kept]
    return RunGroups(groups, sum(counts.values()), len(ordered) > MAX_GROUPS)


def _group_metrics(
    conn: Connection,
    source: sa.FromClause,
    value: sa.ColumnElement[Any],
    conditions: Sequence[sa.ColumnElement[bool]],
    metric_keys: Sequence[str],
) -> dict[tuple[str | None, str], MetricAggregate]:
    v = _LM.c.value
    is_finite = sa.and_(v > -MAX_DOUBLE, v < MAX_DOUBLE)
    finite = sa.case((is_finite, v), else_=None)
    query = (
        sa.select(
            value,
            _LM.c.key,
            sa.func.count(v),
            sa.func.min(v),
            sa.func.max(v),
            sa.func.sum(finite),
            sa.func.count(finite),
            sa.func.sum(sa.case((v >= MAX_DOUBLE, 1), else_=0)),
            sa.func.sum(sa.case((v <= -MAX_DOUBLE, 1), else_=0)),
        )
        .select_from(
            source.join(
                _LM,
                sa.and_(_LM.c.run_id == _R.c.run_id, _LM.c.key.in_(list(metric_keys)), sa.not_(_LM.c.is_nan)),
            )
        )
        .where(*conditions)
        .group_by(value, _LM.c.key)
    )
    out: dict[tuple[str | None, str], MetricAggregate] = {}
    for gv, key, n, lo, hi, total, n_finite, pos, neg in conn.execute(query):
        mean = mean_of(float(total or 0.0), int(n_finite), int(pos or 0), int(neg or 0))
        out[(None if gv is None else str(gv), key)] = MetricAggregate(int(n), mean, float(lo), float(hi))
    return out


def _sorted_keys(dialect: str, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    # Byte (code point) order on every backend, the order Python sorts strings in.
    return column.collate("C") if dialect == "postgresql" else column


def experiment_columns(conn: Connection, dialect: str, experiment_ids: Sequence[int]) -> ColumnKeys:
    """Distinct param, metric and tag keys of the experiments' active runs."""
    if not experiment_ids:
        return ColumnKeys([], [], [])
    active = (
        _R.c.experiment_id.in_(list(experiment_ids)),
        _R.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
    )

    def keys(table: sa.Table) -> list[str]:
        key = _sorted_keys(dialect, table.c.key)
        query = (
            sa.select(table.c.key)
            .join_from(table, _R, _R.c.run_id == table.c.run_id)
            .where(*active)
            .group_by(table.c.key)
            .order_by(key)
            .limit(MAX_COLUMN_KEYS)
        )
        return [str(k) for k in conn.execute(query).scalars()]

    return ColumnKeys(keys(_P), keys(_LM), keys(_T))
