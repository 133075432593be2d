"""Trace analytics over the SQL trace store: filter correlation counts and trace metrics.

The correlation runs four ``COUNT`` queries through the search filter compiler, so any filter
``search_traces`` takes works here. Trace metrics select the rows of the asked view (traces,
spans or assessments) with only the columns the metric and dimensions need, then group and
aggregate them in Python (:func:`mltrail.tracing.store.analytics.aggregate`): percentiles the
same way on every database, and span attributes (model, cost) read from the stored JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.db.schema_tracing import assessments, spans, trace_info, trace_request_metadata, trace_tags
from mltrail.errors import InvalidArgumentError
from mltrail.tracing import _keys as k
from mltrail.tracing.search import parse_trace_filter
from mltrail.tracing.store.analytics import (
    TIME_BUCKET,
    Aggregation,
    MetricFilter,
    MetricPoint,
    ViewType,
    aggregate,
    parse_metric_filter,
)
from mltrail.tracing.store.sql.search import compile_clause

__all__ = ["count_matching", "query_metrics"]

TI = trace_info
_NS_PER_MS = 1_000_000
_STATUS_ALIASES = {"TRACE_STATUS_UNSPECIFIED": "STATE_UNSPECIFIED"}


def count_matching(conn: Connection, experiment_keys: Sequence[int], filter_string: str | None) -> int:
    """How many traces of the experiments match a ``search_traces`` filter (all when empty)."""
    clauses = parse_trace_filter(filter_string)
    query = (
        sa.select(sa.func.count())
        .select_from(TI)
        .where(TI.c.experiment_id.in_(list(experiment_keys)), *(compile_clause(c) for c in clauses))
    )
    return int(conn.execute(query).scalar_one())


# -- trace metrics -------------------------------------------------------------------------------


def _kv_value(table: sa.Table, key: str) -> sa.ScalarSelect[Any]:
    return (
        sa.select(table.c.value)
        .where(table.c.trace_id == TI.c.trace_id, table.c.key == key)
        .scalar_subquery()
    )


def _trace_condition(flt: MetricFilter) -> sa.ColumnElement[bool]:
    """A ``trace.*`` filter as a condition on ``trace_info``."""
    if flt.entity == "status":
        return TI.c.state == _STATUS_ALIASES.get(flt.value, flt.value)
    table = trace_tags if flt.entity == "tag" else trace_request_metadata
    return sa.exists().where(
        table.c.trace_id == TI.c.trace_id, table.c.key == flt.key, table.c.value == flt.value
    )


def _conditions(view: ViewType, filters: Iterable[MetricFilter]) -> list[sa.ColumnElement[bool]]:
    out: list[sa.ColumnElement[bool]] = []
    for flt in filters:
        if flt.view == "trace":
            out.append(_trace_condition(flt))
            continue
        if flt.view == "span":
            if view is not ViewType.SPANS:
                raise InvalidArgumentError(f"span.{flt.entity} filters apply to the SPANS view only")
            column = {"name": spans.c.name, "type": spans.c.span_type, "status": spans.c.status}[flt.entity]
            value = flt.value.upper().removeprefix("STATUS_CODE_") if flt.entity == "status" else flt.value
            out.append(column == value)
            continue
        if view is not ViewType.ASSESSMENTS:
            raise InvalidArgumentError(f"assessment.{flt.entity} filters apply to the ASSESSMENTS view only")
        column = assessments.c.name if flt.entity == "name" else assessments.c.kind
        out.append(column == flt.value)
    return out


def _json_object(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().strip('"').lower()
        if text in ("true", "yes"):
            return 1.0
        if text in ("false", "no"):
            return 0.0
        try:
            return float(text)
        except ValueError:
            return None
    return None


Row = Mapping[str, Any]
Extract = Callable[[Row], Any]


def _one(row: Row) -> float:
    """The value of every row for a COUNT metric."""
    return 1.0


def _column(name: str) -> Extract:
    def extract(row: Row) -> Any:
        return row[name]

    return extract


def _token_count(metric: str) -> Extract:
    def extract(row: Row) -> float | None:
        return _number(_json_object(row["usage"]).get(metric))

    return extract


def _cost(metric: str) -> Extract:
    def extract(row: Row) -> float | None:
        return _number(row["cost"].get(metric))

    return extract


def _span_latency(row: Row) -> float | None:
    return None if row["end"] is None else (int(row["end"]) - int(row["start"])) / _NS_PER_MS


def _assessment_value(row: Row) -> float | None:
    return _number(row["value_text"])


def _trace_rows(
    conn: Connection, keys: Sequence[int], metric: str, dimensions: Sequence[str], where: list[Any]
) -> tuple[list[Row], Extract, dict[str, Extract]]:
    columns: list[Any] = [TI.c.request_time.label("time")]
    if metric == "latency":
        columns.append(TI.c.execution_duration.label("duration"))
    if metric == "session_count":
        columns.append(_kv_value(trace_request_metadata, k.META_SESSION).label("session"))
    if metric.endswith("_tokens"):
        columns.append(_kv_value(trace_request_metadata, k.META_TOKEN_USAGE).label("usage"))
    if "trace_name" in dimensions:
        columns.append(_kv_value(trace_tags, k.TAG_TRACE_NAME).label("trace_name"))
    if "trace_status" in dimensions:
        columns.append(TI.c.state.label("trace_status"))
    query = sa.select(*columns).where(TI.c.experiment_id.in_(list(keys)), *where)
    rows: list[Row] = [dict(row._mapping) for row in conn.execute(query)]
    values = {"latency": _column("duration"), "session_count": _column("session"), "trace_count": _one}
    return rows, values.get(metric) or _token_count(metric), {d: _column(d) for d in dimensions}


def _span_rows(
    conn: Connection, keys: Sequence[int], metric: str, dimensions: Sequence[str], where: list[Any]
) -> tuple[list[Row], Extract, dict[str, Extract]]:
    columns: list[Any] = [
        spans.c.start_time_unix_nano.label("start"),
        spans.c.end_time_unix_nano.label("end"),
    ]
    needs_content = metric.endswith("_cost") or any(d.startswith("span_model") for d in dimensions)
    if needs_content:
        columns.append(spans.c.content)
    for name, column in (
        ("span_name", spans.c.name),
        ("span_type", spans.c.span_type),
        ("span_status", spans.c.status),
    ):
        if name in dimensions:
            columns.append(column.label(name))
    query = (
        sa.select(*columns)
        .select_from(spans.join(TI, TI.c.trace_id == spans.c.trace_id))
        .where(TI.c.experiment_id.in_(list(keys)), *where)
    )
    rows: list[Row] = []
    for row in conn.execute(query):
        item = dict(row._mapping)
        item["time"] = int(item["start"]) // _NS_PER_MS
        if needs_content:
            attrs = orjson.loads(item.pop("content")).get("attributes") or {}
            item["span_model_name"] = attrs.get(k.LLM_MODEL)
            item["span_model_provider"] = attrs.get(k.LLM_PROVIDER)
            item["cost"] = _json_object(attrs.get(k.LLM_COST))
        rows.append(item)
    values = {"span_count": _one, "latency": _span_latency}
    return rows, values.get(metric) or _cost(metric), {d: _column(d) for d in dimensions}


def _assessment_rows(
    conn: Connection, keys: Sequence[int], metric: str, dimensions: Sequence[str], where: list[Any]
) -> tuple[list[Row], Extract, dict[str, Extract]]:
    a = assessments
    query = (
        sa.select(a.c.create_time.label("time"), a.c.name, a.c.value_text)
        .select_from(a.join(TI, TI.c.trace_id == a.c.trace_id))
        .where(TI.c.experiment_id.in_(list(keys)), a.c.valid == sa.true(), a.c.kind != "issue", *where)
    )
    rows: list[Row] = [dict(row._mapping) for row in conn.execute(query)]
    value = _one if metric == "assessment_count" else _assessment_value
    columns = {"assessment_name": "name", "assessment_value": "value_text"}
    return rows, value, {d: _column(columns[d]) for d in dimensions}


_VIEWS = {ViewType.TRACES: _trace_rows, ViewType.SPANS: _span_rows, ViewType.ASSESSMENTS: _assessment_rows}


def _bucket_label(time_ms: int, interval_ms: int) -> str:
    start = time_ms - time_ms % interval_ms
    return datetime.fromtimestamp(start / 1000, tz=UTC).isoformat()


def query_metrics(
    conn: Connection,
    experiment_keys: Sequence[int],
    view: ViewType,
    metric: str,
    aggregations: Sequence[Aggregation],
    dimensions: Sequence[str],
    filters: Sequence[str],
    time_interval_seconds: int | None,
    start_time_ms: int | None,
    end_time_ms: int | None,
) -> list[MetricPoint]:
    """Every group's point, ordered by time bucket then dimension values.

    ``start_time_ms``/``end_time_ms`` bound the rows' times inclusively (trace request time,
    span start, assessment creation). Groups whose dimension values are missing are left out,
    and so are groups where no aggregation has a value.
    """
    where = _conditions(view, (parse_metric_filter(f) for f in filters))
    time_column = {
        ViewType.TRACES: TI.c.request_time,
        ViewType.SPANS: spans.c.start_time_unix_nano,
        ViewType.ASSESSMENTS: assessments.c.create_time,
    }[view]
    scale = _NS_PER_MS if view is ViewType.SPANS else 1
    if start_time_ms is not None:
        where.append(time_column >= start_time_ms * scale)
    if end_time_ms is not None:
        where.append(time_column <= end_time_ms * scale + (scale - 1))
    rows, value_of, dims = _VIEWS[view](conn, experiment_keys, metric, dimensions, where)
    interval_ms = time_interval_seconds * 1000 if time_interval_seconds else None
    groups: dict[tuple[str, ...], list[Any]] = {}
    for row in rows:
        labels = [dims[d](row) for d in dimensions]
        if any(v is None for v in labels):
            continue
        key = tuple(str(v) for v in labels)
        if interval_ms is not None:
            key = (_bucket_label(int(row["time"]), interval_ms), *key)
        groups.setdefault(key, []).append(value_of(row))
    names = ([TIME_BUCKET] if interval_ms is not None else []) + list(dimensions)
    points: list[MetricPoint] = []
    for key in sorted(groups):
        values = groups[key]
        if metric == "session_count":
            numbers = [1.0 for _ in {v for v in values if v is not None}]
        else:
            numbers = [float(v) for v in values if v is not None]
        result = aggregate(numbers, aggregations)
        if result:
            points.append(MetricPoint(metric, dict(zip(names, key, strict=True)), result))
    return points
