"""Compilation of registry searches into SQL: filters, the prompt exclusion, ordering and paging."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from mltrail.db.schema_registry import model_version_tags, registered_model_tags
from mltrail.registry.search import asks_for_prompts, without_prompt_clauses
from mltrail.registry.service import PROMPT_TAG
from mltrail.registry.store.sql.queries import DELETED_STAGE, MV, RM
from mltrail.tracking.search import Comparison, EntityType, OrderKey

__all__ = ["model_search_statement", "version_search_statement"]

_MODEL_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "name": RM.c.name,
    "last_updated_timestamp": RM.c.last_updated_time,
}
_VERSION_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "name": MV.c.name,
    "run_id": MV.c.run_id,
    "source_path": MV.c.source,
    "version_number": MV.c.version,
    "creation_timestamp": MV.c.creation_time,
    "last_updated_timestamp": MV.c.last_updated_time,
}


def _compare(column: sa.ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = _compare_any(column, op, value)
    return result


def _compare_any(column: sa.ColumnElement[Any], op: str, value: Any) -> Any:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "LIKE":
        return column.like(value)
    if op == "ILIKE":
        return sa.func.lower(column).like(sa.func.lower(value))
    if op == "IN":
        return column.in_(list(value))
    if op == "NOT IN":
        return column.not_in(list(value))
    raise AssertionError(f"comparator {op} passed the parser")  # pragma: no cover


def _value(clause: Comparison) -> Any:
    if isinstance(clause.value, float):
        return int(clause.value) if clause.value.is_integer() else clause.value
    return clause.value


def _not_prompt(name_column: sa.ColumnElement[Any]) -> ColumnElement[bool]:
    t = registered_model_tags
    return ~sa.exists().where(
        t.c.name == name_column, t.c.key == PROMPT_TAG, sa.func.lower(t.c.value) == "true"
    )


def model_search_statement(
    clauses: Sequence[Comparison], order: Sequence[OrderKey], offset: int, limit: int
) -> sa.Select[Any]:
    """The SELECT of registered model rows for one page (``limit`` rows from ``offset``)."""
    stmt = sa.select(RM)
    if not asks_for_prompts(clauses):
        stmt = stmt.where(_not_prompt(RM.c.name))
        clauses = without_prompt_clauses(clauses)
    for c in clauses:
        if c.entity is EntityType.TAG:
            t = registered_model_tags
            stmt = stmt.where(
                sa.exists().where(
                    t.c.name == RM.c.name, t.c.key == c.key, _compare(t.c.value, c.comparator, c.value)
                )
            )
        else:
            stmt = stmt.where(_compare(_MODEL_COLUMNS[c.key], c.comparator, _value(c)))
    ordering: list[Any] = []
    for key in order:
        column = _MODEL_COLUMNS[key.key]
        ordering.append(column.asc() if key.ascending else column.desc())
    if not any(k.key == "name" for k in order):
        ordering.append(RM.c.name.asc())
    return stmt.order_by(*ordering).offset(offset).limit(limit)


def version_search_statement(
    clauses: Sequence[Comparison], order: Sequence[OrderKey], offset: int, limit: int
) -> sa.Select[Any]:
    """The SELECT of live model version rows for one page."""
    stmt = sa.select(MV).where(MV.c.current_stage != DELETED_STAGE)
    if not asks_for_prompts(clauses):
        stmt = stmt.where(_not_prompt(MV.c.name))
        clauses = without_prompt_clauses(clauses)
    for c in clauses:
        if c.entity is EntityType.TAG:
            t = model_version_tags
            stmt = stmt.where(
                sa.exists().where(
                    t.c.name == MV.c.name,
                    t.c.version == MV.c.version,
                    t.c.key == c.key,
                    _compare(t.c.value, c.comparator, c.value),
                )
            )
        else:
            stmt = stmt.where(_compare(_VERSION_COLUMNS[c.key], c.comparator, _value(c)))
    keys = list(order) or [
        OrderKey(EntityType.ATTRIBUTE, "last_updated_timestamp", False),
        OrderKey(EntityType.ATTRIBUTE, "name", True),
        OrderKey(EntityType.ATTRIBUTE, "version_number", False),
    ]
    seen = {k.key for k in keys}
    keys += [
        k
        for k in (
            OrderKey(EntityType.ATTRIBUTE, "name"),
            OrderKey(EntityType.ATTRIBUTE, "version_number", False),
        )
        if k.key not in seen
    ]
    ordering = [
        _VERSION_COLUMNS[k.key].asc() if k.ascending else _VERSION_COLUMNS[k.key].desc() for k in keys
    ]
    return stmt.order_by(*ordering).offset(offset).limit(limit)
