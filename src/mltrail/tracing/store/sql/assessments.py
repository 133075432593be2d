"""Assessment rows of the SQL trace store: create, read, update, delete, and load per trace.

Functions take an open connection so that the store decides the transaction. ``value_text`` is
the searchable text of the value: strings as they are, booleans ``true``/``false``, other JSON
values in compact JSON; ``value_number`` is the value when it is a JSON number (for ``>``, ``<``).
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._utils import now_ms
from mltrail.db.schema_tracing import assessments
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracing.entities import Assessment

__all__ = ["create", "delete", "get", "load_for_traces", "update"]

_KINDS = ("feedback", "expectation", "issue")
_A = assessments


def _value_text(payload: Mapping[str, Any]) -> str | None:
    if "value" not in payload:
        serialized = payload.get("serialized_value")
        return str(serialized.get("value")) if isinstance(serialized, Mapping) else None
    value = payload["value"]
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return orjson.dumps(value).decode()


def _value_number(payload: Mapping[str, Any]) -> float | None:
    value = payload.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _dumps(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _row(a: Assessment) -> dict[str, Any]:
    if a.kind not in _KINDS:
        raise InvalidArgumentError(f"An assessment needs exactly one of {', '.join(_KINDS)}")
    if not a.name:
        raise InvalidArgumentError("Missing value for required parameter 'assessment_name'.")
    return {
        "assessment_id": a.assessment_id,
        "trace_id": a.trace_id,
        "name": a.name,
        "kind": a.kind,
        "payload": orjson.dumps(dict(a.payload)).decode(),
        "value_text": _value_text(a.payload),
        "value_number": _value_number(a.payload),
        "source_type": a.source_type,
        "source_id": a.source_id,
        "create_time": a.create_time,
        "last_update_time": a.last_update_time,
        "span_id": a.span_id,
        "rationale": a.rationale,
        "metadata": _dumps(dict(a.metadata)) if a.metadata else None,
        "error": _dumps(dict(a.error)) if a.error else None,
        "overrides": a.overrides,
        "valid": a.valid,
    }


def _entity(row: Any) -> Assessment:
    return Assessment(
        assessment_id=row.assessment_id,
        trace_id=row.trace_id,
        name=row.name,
        kind=row.kind,
        payload=orjson.loads(row.payload),
        source_type=row.source_type,
        source_id=row.source_id,
        create_time=int(row.create_time),
        last_update_time=int(row.last_update_time),
        span_id=row.span_id,
        rationale=row.rationale,
        metadata=orjson.loads(row.metadata) if row.metadata else {},
        overrides=row.overrides,
        valid=bool(row.valid),
        error=orjson.loads(row.error) if row.error else None,
    )


def get(conn: Connection, trace_id: str, assessment_id: str) -> Assessment:
    """One assessment of a trace; ``NotFoundError`` when unknown."""
    row = conn.execute(
        sa.select(*_A.c).where(_A.c.trace_id == trace_id, _A.c.assessment_id == assessment_id)
    ).first()
    if row is None:
        raise NotFoundError(f"Assessment with ID '{assessment_id}' not found for trace '{trace_id}'")
    return _entity(row)


def create(conn: Connection, assessment: Assessment) -> Assessment:
    """Insert an assessment with a new id and times; invalidate the one it overrides."""
    now = now_ms()
    stored = dataclasses.replace(
        assessment,
        assessment_id=f"a-{uuid.uuid4().hex}",
        create_time=assessment.create_time or now,
        last_update_time=now,
        valid=True,
    )
    if stored.overrides:
        get(conn, stored.trace_id, stored.overrides)
        conn.execute(sa.update(_A).where(_A.c.assessment_id == stored.overrides).values(valid=False))
    conn.execute(sa.insert(_A).values(**_row(stored)))
    return stored


def update(conn: Connection, trace_id: str, assessment_id: str, changes: Mapping[str, Any]) -> Assessment:
    """Apply ``changes`` (name, kind + payload, rationale, metadata) and bump the update time."""
    current = get(conn, trace_id, assessment_id)
    fields: dict[str, Any] = {}
    if "name" in changes:
        fields["name"] = changes["name"]
    if "kind" in changes:
        if changes["kind"] != current.kind:
            raise InvalidArgumentError(f"Cannot change a {current.kind} assessment into a {changes['kind']}")
        fields["payload"] = dict(changes.get("payload") or {})
    if "rationale" in changes:
        fields["rationale"] = changes["rationale"]
    if "metadata" in changes:
        fields["metadata"] = {**current.metadata, **dict(changes["metadata"] or {})}
    fields["last_update_time"] = now_ms()
    updated = dataclasses.replace(current, **fields)
    row = _row(updated)
    del row["assessment_id"]
    conn.execute(sa.update(_A).where(_A.c.assessment_id == assessment_id).values(**row))
    return updated


def delete(conn: Connection, trace_id: str, assessment_id: str) -> None:
    """Delete an assessment; the one it overrode becomes valid again."""
    current = get(conn, trace_id, assessment_id)
    conn.execute(sa.delete(_A).where(_A.c.assessment_id == assessment_id))
    if current.overrides:
        conn.execute(sa.update(_A).where(_A.c.assessment_id == current.overrides).values(valid=True))


# A module constant with an expanding IN: compiled once per list length, not built per call.
_BY_TRACE_IDS = (
    sa.select(*_A.c)
    .where(_A.c.trace_id.in_(sa.bindparam("trace_ids", expanding=True)))
    .order_by(_A.c.create_time, _A.c.assessment_id)
)


def load_for_traces(conn: Connection, trace_ids: Sequence[str]) -> dict[str, list[Assessment]]:
    """The assessments of each trace, oldest first."""
    out: dict[str, list[Assessment]] = {}
    if not trace_ids:
        return out
    rows = conn.execute(_BY_TRACE_IDS, {"trace_ids": list(trace_ids)}).all()
    for row in rows:
        out.setdefault(row.trace_id, []).append(_entity(row))
    return out
