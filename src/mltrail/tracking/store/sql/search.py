"""SearchRuns compiled to one SQL query: filters, ordering and paging all run in the database.

Metric filters and ordering use ``latest_metrics``. Runs lacking an order key sort last in both
directions; NaN metric values sort after real numbers. The order always ends with
``start_time DESC`` (unless ordered by it) and ``run_id ASC``, so offsets page deterministically.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.db import schema
from mltrail.tracking.entities import Run, ViewType
from mltrail.tracking.search import (
    Comparison,
    EntityType,
    OrderKey,
    decode_page_token,
    encode_page_token,
    parse_run_filter,
    parse_run_order_by,
)
from mltrail.tracking.store.sql.inputs import CONTEXT_TAG
from mltrail.tracking.store.sql.loading import RUN_COLUMNS, load_runs

__all__ = ["run_conditions", "search_runs"]

_R, _P, _T, _LM = schema.runs, schema.params, schema.tags, schema.latest_metrics
_D, _I, _IT = schema.datasets, schema.inputs, schema.input_tags
_ATTRIBUTE_COLUMNS = {
    "run_id": _R.c.run_id,
    "run_name": _R.c.name,
    "status": _R.c.status,
    "user_id": _R.c.user_id,
    "artifact_uri": _R.c.artifact_uri,
    "lifecycle_stage": _R.c.lifecycle_stage,
    "start_time": _R.c.start_time,
    "end_time": _R.c.end_time,
}
_STRING_ATTRIBUTES = {"run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"}


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "LIKE": lambda col, v: col.like(v),
    "ILIKE": lambda col, v: col.ilike(v),
    "IN": lambda col, v: col.in_(list(v)),
    "NOT IN": lambda col, v: col.not_in(list(v)),
}


def _compare(col: sa.ColumnElement[Any], op: str, value: Any) -> sa.ColumnElement[bool]:
    cond: sa.ColumnElement[bool] = _OPS[op](col, value)
    return cond


def _metric_filter(c: Comparison) -> sa.ColumnElement[bool]:
    cond = _compare(_LM.c.value, c.comparator, c.value)
    # NaN is stored as 0 with a flag: it satisfies only "!=" (as in IEEE arithmetic).
    cond = sa.or_(_LM.c.is_nan, cond) if c.comparator == "!=" else sa.and_(sa.not_(_LM.c.is_nan), cond)
    return _R.c.run_id.in_(sa.select(_LM.c.run_id).where(_LM.c.key == c.key, cond))


def _kv_filter(table: sa.Table, c: Comparison) -> sa.ColumnElement[bool]:
    has_key = sa.select(table.c.run_id).where(table.c.key == c.key)
    if c.comparator == "IS NULL":
        return _R.c.run_id.not_in(has_key)
    if c.comparator == "IS NOT NULL":
        return _R.c.run_id.in_(has_key)
    return _R.c.run_id.in_(has_key.where(_compare(table.c.value, c.comparator, c.value)))


def _dataset_filter(c: Comparison) -> sa.ColumnElement[bool]:
    if c.key == "context":
        sub = (
            sa.select(_I.c.run_id)
            .join(_IT, _IT.c.input_uuid == _I.c.input_uuid)
            .where(_IT.c.key == CONTEXT_TAG, _compare(_IT.c.value, c.comparator, c.value))
        )
    else:
        sub = (
            sa.select(_I.c.run_id)
            .join(_D, _D.c.dataset_uuid == _I.c.dataset_uuid)
            .where(_compare(_D.c[c.key], c.comparator, c.value))
        )
    return _R.c.run_id.in_(sub)


def _filter(c: Comparison) -> sa.ColumnElement[bool]:
    if c.entity is EntityType.METRIC:
        return _metric_filter(c)
    if c.entity is EntityType.PARAM:
        return _kv_filter(_P, c)
    if c.entity is EntityType.TAG:
        return _kv_filter(_T, c)
    if c.entity is EntityType.DATASET:
        return _dataset_filter(c)
    value = c.value
    if c.key in ("start_time", "end_time") and isinstance(value, float):
        value = int(value) if value.is_integer() else value
    return _compare(_ATTRIBUTE_COLUMNS[c.key], c.comparator, value)


def _string_col(col: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    # A fixed byte-order collation keeps the string order identical on every backend.
    return col.collate("C") if dialect == "postgresql" else col


def _ordering(
    keys: Sequence[OrderKey], dialect: str
) -> tuple[list[sa.ColumnElement[Any]], list[tuple[sa.Subquery, sa.ColumnElement[bool]]]]:
    clauses: list[sa.ColumnElement[Any]] = []
    joins: list[tuple[sa.Subquery, sa.ColumnElement[bool]]] = []
    has_start = False
    for i, k in enumerate(keys):
        direction = "asc" if k.ascending else "desc"
        if k.entity is EntityType.METRIC:
            sub = (
                sa.select(_LM.c.run_id, _LM.c.value, _LM.c.is_nan).where(_LM.c.key == k.key).subquery(f"o{i}")
            )
            joins.append((sub, sub.c.run_id == _R.c.run_id))
            clauses.append(sa.case((sub.c.run_id.is_(None), 2), (sub.c.is_nan, 1), else_=0).asc())
            clauses.append(getattr(sub.c.value, direction)())
        elif k.entity in (EntityType.PARAM, EntityType.TAG):
            table = _P if k.entity is EntityType.PARAM else _T
            sub = sa.select(table.c.run_id, table.c.value).where(table.c.key == k.key).subquery(f"o{i}")
            joins.append((sub, sub.c.run_id == _R.c.run_id))
            clauses.append(sa.case((sub.c.run_id.is_(None), 1), else_=0).asc())
            clauses.append(getattr(_string_col(sub.c.value, dialect), direction)())
        else:
            col: sa.ColumnElement[Any] = _ATTRIBUTE_COLUMNS[k.key]
            has_start |= k.key == "start_time"
            if k.key in _STRING_ATTRIBUTES:
                col = _string_col(col, dialect)
            else:
                clauses.append(sa.case((col.is_(None), 1), else_=0).asc())
            clauses.append(getattr(col, direction)())
    if not has_start:
        clauses.append(sa.case((_R.c.start_time.is_(None), 1), else_=0).asc())
        clauses.append(_R.c.start_time.desc())
    clauses.append(_R.c.run_id.asc())
    return clauses, joins


def run_conditions(
    experiment_ids: Sequence[int], comparisons: Sequence[Comparison], view_type: ViewType
) -> list[sa.ColumnElement[bool]]:
    """The conditions on ``runs`` of a search: experiments, lifecycle stages, filter clauses.

    Other queries over the runs a search visits (counts, groups) use these same conditions, so
    they match exactly the same runs; ``comparisons`` come from ``parse_run_filter``.
    """
    stages = [s.value for s in ViewType(view_type).stages()]
    return [
        _R.c.experiment_id.in_(list(experiment_ids)),
        _R.c.lifecycle_stage.in_(stages),
        *(_filter(c) for c in comparisons),
    ]


def search_runs(
    conn: Connection,
    dialect: str,
    experiment_ids: Sequence[int],
    filter_string: str,
    view_type: ViewType,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> tuple[list[Run], str | None]:
    """One page of runs of the experiments that match the filter, with their data."""
    comparisons = parse_run_filter(filter_string)
    keys = parse_run_order_by(order_by)
    offset = decode_page_token(page_token)
    if not experiment_ids:
        return [], None
    clauses, joins = _ordering(keys, dialect)
    source: sa.FromClause = _R
    for sub, on in joins:
        source = source.outerjoin(sub, on)
    query = (
        sa.select(*RUN_COLUMNS)
        .select_from(source)
        .where(*run_conditions(experiment_ids, comparisons, view_type))
        .order_by(*clauses)
        .limit(max_results + 1)
        .offset(offset)
    )
    rows = conn.execute(query).all()
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return load_runs(conn, rows[:max_results]), token
