"""Alias writes and reads of the SQL registry store: moves with their history rows, and the history.

Each move upserts the alias and inserts its ``model_alias_events`` row on the caller's
connection, so both land in one transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._utils import now_ms
from mltrail.db.schema_registry import model_alias_events, registered_model_aliases
from mltrail.registry.entities import AliasAction, AliasEvent
from mltrail.registry.store.sql.queries import alias_version, upsert

__all__ = ["event", "history", "point", "record"]

_EVENTS = model_alias_events


def _event(row: Any) -> AliasEvent:
    return AliasEvent(
        event_id=int(row.event_id),
        name=row.name,
        alias=row.alias,
        action=AliasAction(row.action),
        from_version=None if row.from_version is None else str(row.from_version),
        to_version=None if row.to_version is None else str(row.to_version),
        user_id=row.user_id,
        timestamp=int(row.timestamp),
        reason=row.reason,
    )


def record(
    conn: Connection,
    name: str,
    alias: str,
    action: AliasAction,
    from_version: int | None,
    to_version: int | None,
    user_id: str | None,
    reason: str | None,
    when: int,
) -> int:
    """Insert one history row; returns its event id."""
    result = conn.execute(
        _EVENTS.insert().values(
            name=name,
            alias=alias,
            action=action.value,
            from_version=from_version,
            to_version=to_version,
            user_id=user_id,
            timestamp=when,
            reason=reason,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def point(
    conn: Connection,
    name: str,
    alias: str,
    number: int,
    action: AliasAction,
    user_id: str | None,
    reason: str | None,
) -> int | None:
    """Point ``alias`` at ``number`` and record the move; returns the event id (None: a SET to the
    version the alias already points at, which is not a move)."""
    current = alias_version(conn, name, alias)
    if current == number and action is AliasAction.SET:
        return None
    values = {"name": name, "alias": alias, "version": number}
    upsert(conn, registered_model_aliases, values, ("name", "alias"), ("version",))
    return record(conn, name, alias, action, current, number, user_id, reason, now_ms())


def history(conn: Connection, name: str, alias: str | None) -> list[AliasEvent]:
    """The recorded moves of a model's aliases (or one alias), oldest first."""
    stmt = sa.select(_EVENTS).where(_EVENTS.c.name == name)
    if alias is not None:
        stmt = stmt.where(_EVENTS.c.alias == alias)
    return [_event(r) for r in conn.execute(stmt.order_by(_EVENTS.c.event_id))]


def event(conn: Connection, event_id: int) -> AliasEvent:
    """One recorded event."""
    return _event(conn.execute(sa.select(_EVENTS).where(_EVENTS.c.event_id == event_id)).one())
