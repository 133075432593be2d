"""Compilation of parsed trace filters and order-by keys into SQLAlchemy expressions.

Tags and metadata become ``EXISTS`` over their key/value tables (primary-key lookups per trace),
except one tag equality that may drive the whole query (:func:`tag_driver`);
span clauses become ``EXISTS`` over ``spans``. Full-text search is a ``LIKE`` over the stored JSON
``content``. A span attribute clause narrows the spans with a ``LIKE`` for the ``"key":value``
pair in ``content``, then compares the attribute itself, read with the dialect's JSON function
(:mod:`.jsonpath`), so the same pair in an event or the resource does not match.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mltrail.db.schema_tracing import assessments, spans, trace_info, trace_request_metadata, trace_tags
from mltrail.errors import InvalidArgumentError
from mltrail.tracing import _keys as k
from mltrail.tracing.search import TraceClause, TraceEntity, TraceOrderKey
from mltrail.tracing.store.sql.codec import json_fragment, value_digest
from mltrail.tracing.store.sql.jsonpath import attribute_text, supports_name
from mltrail.tracing.store.sql.paging import Cursor, after_clause

__all__ = [
    "TagDriver",
    "compile_clause",
    "compile_order_by",
    "needs_regexp",
    "tag_driven_params",
    "tag_driven_query",
    "tag_driver",
]

TI = trace_info
_ESCAPE = "\\"
_STATUS_ALIASES = {"TRACE_STATUS_UNSPECIFIED": "STATE_UNSPECIFIED"}


@dataclass(frozen=True)
class TagDriver:
    """An equality on a tag that a search can start from: its rows in ``ix_trace_tags_search``."""

    key: str
    value: str
    rest: tuple[TraceClause, ...]
    """The other clauses, checked on each trace the index yields."""


def tag_driver(clauses: Sequence[TraceClause]) -> TagDriver | None:
    """The first ``tags.<key> = '<value>'`` clause (or ``name = ...``, the trace name tag), if any.

    Such a clause lets the query read ``ix_trace_tags_search`` in time order and stop after one
    page, instead of walking every trace of the experiments and probing its tags.
    """
    for index, clause in enumerate(clauses):
        if clause.op != "=" or not isinstance(clause.value, str):
            continue
        if clause.entity is TraceEntity.TAG:
            key = clause.key
        elif clause.entity is TraceEntity.ATTRIBUTE and clause.key == "name":
            key = k.TAG_TRACE_NAME
        else:
            continue
        return TagDriver(key, clause.value, (*clauses[:index], *clauses[index + 1 :]))
    return None


@functools.cache
def tag_driven_query(ascending: bool, after_cursor: bool) -> sa.Select[Any]:
    """The search that starts from the traces holding one tag value, in time order.

    It reads ``ix_trace_tags_search``: the tag rows' copies of ``experiment_id`` and
    ``request_time`` filter and order, so the database reads the index entries of matching
    traces only and stops after a page; each is joined to its ``trace_info`` row for the columns
    (and for the other clauses, which the caller adds with ``.where``). The tag table is aliased
    so that ``EXISTS`` clauses over ``trace_tags`` stay correlated to ``trace_info``.

    Everything that varies is a bound parameter (:func:`tag_driven_params`), so the statement
    is built once per shape and its compiled form is reused.
    """
    tag = trace_tags.alias("tag_match")
    conditions = [
        tag.c.key == sa.bindparam("tag_key"),
        tag.c.value_digest == sa.bindparam("tag_digest"),
        tag.c.value == sa.bindparam("tag_value"),
        tag.c.experiment_id.in_(sa.bindparam("experiment_keys", expanding=True)),
    ]
    if after_cursor:
        bound: tuple[Any, Any] = (sa.bindparam("after_time"), sa.bindparam("after_id"))
        conditions.append(after_clause(bound, ascending, tag.c.request_time, tag.c.trace_id))
    order = (tag.c.request_time, tag.c.trace_id)
    return (
        sa.select(*TI.c)
        .select_from(tag.join(TI, TI.c.trace_id == tag.c.trace_id))
        .where(*conditions)
        .order_by(*(c.asc() if ascending else c.desc() for c in order))
        .limit(sa.bindparam("page_limit"))
        .offset(sa.bindparam("page_offset"))
    )


def tag_driven_params(
    driver: TagDriver, experiment_keys: Sequence[int], cursor: Cursor | None, limit: int, offset: int
) -> dict[str, Any]:
    """The parameters of :func:`tag_driven_query` for one page."""
    params: dict[str, Any] = {
        "tag_key": driver.key,
        "tag_digest": value_digest(driver.value),
        "tag_value": driver.value,
        "experiment_keys": list(experiment_keys),
        "page_limit": limit,
        "page_offset": offset,
    }
    if cursor is not None:
        params["after_time"], params["after_id"] = cursor
    return params


def needs_regexp(clauses: Sequence[TraceClause]) -> bool:
    """True when a clause uses RLIKE (SQLite needs its ``regexp`` function installed then)."""
    return any(c.op == "RLIKE" for c in clauses)


def _escape_like(text: str) -> str:
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


def _string_op(column: sa.ColumnElement[Any], op: str, value: Any) -> sa.ColumnElement[bool]:
    if op == "=":
        return sa.and_(column == value)
    if op == "!=":
        return sa.and_(column != value)
    if op == "LIKE":
        return column.like(value)
    if op == "ILIKE":
        return column.ilike(value)
    if op == "RLIKE":
        return column.regexp_match(value)
    if op == "IN":
        return column.in_(list(value))
    if op == "NOT IN":
        return column.not_in(list(value))
    if op in (">", ">=", "<", "<="):
        return column.op(op)(value)
    raise InvalidArgumentError(f"Unsupported operator '{op}'")


def _key_value(table: sa.Table, key: str, op: str, value: Any) -> sa.ColumnElement[bool]:
    has_key = sa.and_(table.c.trace_id == TI.c.trace_id, table.c.key == key)
    if op == "IS NULL":
        return ~sa.exists().where(has_key)
    if op == "IS NOT NULL":
        return sa.exists().where(has_key)
    return sa.exists().where(has_key, _string_op(table.c.value, op, value))


def _span_exists(*conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return sa.exists().where(spans.c.trace_id == TI.c.trace_id, *conditions)


def _contains(op: str, value: str) -> sa.ColumnElement[bool]:
    pattern = value if op in ("LIKE", "ILIKE") else f"%{_escape_like(value)}%"
    content = spans.c.content
    return content.ilike(pattern) if op == "ILIKE" else content.like(pattern, escape=_ESCAPE)


def _equal_values(value: Any) -> list[Any]:
    """The stored values that count as equal to a filter's ``value``.

    The value itself, the number a string spells or a number's integral form (``'3'``, ``3``
    and ``3.0`` are one value), and the boolean ``'true'``/``'false'`` spell.
    """
    values = [value]
    number: float | None = None
    if isinstance(value, str):
        if value in ("true", "false"):
            values.append(value == "true")
        try:
            number = float(value)
        except ValueError:
            number = None
    elif isinstance(value, float):
        number = value
    if number is not None and math.isfinite(number):
        values += [int(number), number] if number.is_integer() else [number]
    return values


def _text_of(value: Any) -> str:
    """What :func:`attribute_text` gives for a stored ``value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def _span_attribute(name: str, op: str, value: Any) -> sa.ColumnElement[bool]:
    key = _escape_like(json_fragment(name))
    content = spans.c.content
    exact = supports_name(name)
    if op in ("LIKE", "ILIKE", "RLIKE"):
        if exact:
            # The pattern applies to the value's text; the LIKE on the key only narrows the rows.
            has_key = content.like(f"%{key}:%", escape=_ESCAPE)
            return _span_exists(has_key, _string_op(attribute_text(content, name), op, value))
        if op == "RLIKE":
            raise InvalidArgumentError(f"RLIKE is not supported for the attribute name {name!r}")
        # The user's pattern stands in for the value text; quotes around strings are optional.
        pattern = f"%{key}:%{value}%"
        return _span_exists(content.ilike(pattern) if op == "ILIKE" else content.like(pattern))
    values = _equal_values(value)
    candidates = dict.fromkeys(json_fragment(v) for v in values)
    conditions = [
        sa.or_(
            *(
                content.like(f"%{key}:{_escape_like(c)}{end}%", escape=_ESCAPE)
                for c in candidates
                for end in (",", "}")
            )
        )
    ]
    if exact:
        # The LIKE also matches the pair inside an event, a link or the resource.
        texts = dict.fromkeys(_text_of(v) for v in values)
        conditions.append(attribute_text(content, name).in_(list(texts)))
    exists = _span_exists(*conditions)
    return ~exists if op == "!=" else exists


def _span_clause(clause: TraceClause) -> sa.ColumnElement[bool]:
    key, op, value = clause.key, clause.op, clause.value
    if key == "name":
        return _span_exists(_string_op(spans.c.name, op, value))
    if key == "type":
        return _span_exists(_string_op(spans.c.span_type, op, value))
    if key == "status":
        if isinstance(value, tuple):
            value = tuple(v.upper().removeprefix("STATUS_CODE_") for v in value)
        elif isinstance(value, str) and op in ("=", "!="):
            value = value.upper().removeprefix("STATUS_CODE_")
        return _span_exists(_string_op(spans.c.status, op, value))
    if key == "content":
        return _span_exists(_contains(op, str(value)))
    return _span_attribute(key[len("attributes.") :], op, value)


def _prompt(value: str) -> sa.ColumnElement[bool]:
    name, _, version = value.partition("/")
    table = trace_tags
    conditions = [
        table.c.trace_id == TI.c.trace_id,
        table.c.key == k.TAG_LINKED_PROMPTS,
        table.c.value.like(f'%"name": "{_escape_like(name)}"%', escape=_ESCAPE),
    ]
    if version:
        conditions.append(table.c.value.like(f'%"version": "{_escape_like(version)}"%', escape=_ESCAPE))
    return sa.exists().where(*conditions)


def _end_time() -> sa.ColumnElement[Any]:
    return TI.c.request_time + TI.c.execution_duration


def _attribute_clause(clause: TraceClause) -> sa.ColumnElement[bool]:
    key, op, value = clause.key, clause.op, clause.value
    if key == "timestamp_ms":
        return _string_op(TI.c.request_time, op, int(value))  # type: ignore[arg-type]
    if key == "execution_time_ms":
        return _string_op(TI.c.execution_duration, op, int(value))  # type: ignore[arg-type]
    if key == "end_time_ms":
        return _string_op(_end_time(), op, int(value))  # type: ignore[arg-type]
    if key == "status":
        if isinstance(value, tuple):
            value = tuple(_STATUS_ALIASES.get(v, v) for v in value)
        elif isinstance(value, str):
            value = _STATUS_ALIASES.get(value, value)
        return _string_op(TI.c.state, op, value)
    if key == "request_id":
        return _string_op(TI.c.trace_id, op, value)
    if key == "client_request_id":
        return _string_op(TI.c.client_request_id, op, value)
    if key == "name":
        return _key_value(trace_tags, k.TAG_TRACE_NAME, op, value)
    if key == "run_id":
        return _key_value(trace_request_metadata, k.META_SOURCE_RUN, op, value)
    if key == "prompt":
        return _prompt(str(value))
    if key == "text":
        return _span_exists(_contains(op, str(value)))
    raise InvalidArgumentError(f"Invalid attribute key '{key}'")


def compile_clause(clause: TraceClause) -> sa.ColumnElement[bool]:
    """The WHERE condition (over ``trace_info``) of one parsed clause."""
    if clause.entity is TraceEntity.ATTRIBUTE:
        return _attribute_clause(clause)
    if clause.entity is TraceEntity.TAG:
        return _key_value(trace_tags, clause.key, clause.op, clause.value)
    if clause.entity is TraceEntity.METADATA:
        return _key_value(trace_request_metadata, clause.key, clause.op, clause.value)
    if clause.entity is TraceEntity.SPAN:
        return _span_clause(clause)
    if clause.entity is TraceEntity.ISSUE:
        # An issue reference is an assessment of kind "issue" named by the issue's id.
        return sa.exists().where(
            assessments.c.trace_id == TI.c.trace_id,
            assessments.c.kind == "issue",
            assessments.c.name == clause.value,
        )
    return _assessment_clause(clause)


def _assessment_clause(clause: TraceClause) -> sa.ColumnElement[bool]:
    """Valid feedback/expectation named ``key``, compared on its value text (booleans as 'true').

    ``> >= < <=`` compare the numeric value instead; a string or boolean value never matches them.
    """
    table = assessments
    named = sa.and_(
        table.c.trace_id == TI.c.trace_id,
        table.c.name == clause.key,
        table.c.kind == clause.entity.value,
        table.c.valid == sa.true(),
    )
    if clause.op == "IS NULL":
        return ~sa.exists().where(named)
    if clause.op == "IS NOT NULL":
        return sa.exists().where(named)
    if clause.op in (">", ">=", "<", "<="):
        return sa.exists().where(named, table.c.value_number.op(clause.op)(clause.value))
    return sa.exists().where(named, _string_op(table.c.value_text, clause.op, clause.value))


def _scalar(table: sa.Table, key: str) -> sa.ScalarSelect[Any]:
    return (
        sa.select(table.c.value)
        .where(table.c.trace_id == TI.c.trace_id, table.c.key == key)
        .scalar_subquery()
    )


def compile_order_by(keys: Sequence[TraceOrderKey]) -> list[sa.ColumnElement[Any]]:
    """ORDER BY expressions; the default is newest first, and the trace id always breaks ties."""
    columns: dict[str, sa.ColumnElement[Any]] = {
        "experiment_id": TI.c.experiment_id,
        "timestamp_ms": TI.c.request_time,
        "execution_time_ms": TI.c.execution_duration,
        "end_time_ms": _end_time(),
        "status": TI.c.state,
        "request_id": TI.c.trace_id,
        "name": _scalar(trace_tags, k.TAG_TRACE_NAME),
        "run_id": _scalar(trace_request_metadata, k.META_SOURCE_RUN),
    }
    out: list[sa.ColumnElement[Any]] = []
    for key in keys or (TraceOrderKey("timestamp_ms", False),):
        column = columns[key.key]
        out.append(column.asc() if key.ascending else column.desc())
    if not any(key.key == "request_id" for key in keys):
        # Same direction as the first key, so the (experiment, time, id) index yields the order.
        first_ascending = keys[0].ascending if keys else False
        out.append(TI.c.trace_id.asc() if first_ascending else TI.c.trace_id.desc())
    return out
