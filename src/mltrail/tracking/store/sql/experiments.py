"""Experiment aggregate of the SQL tracking store: create, read, rename, delete/restore, tags, search."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._utils import now_ms
from mltrail.db import schema
from mltrail.errors import AlreadyExistsError, InvalidArgumentError, InvalidStateError, NotFoundError
from mltrail.tracking.entities import Experiment, LifecycleStage, ViewType
from mltrail.tracking.search import (
    Comparison,
    EntityType,
    OrderKey,
    decode_page_token,
    encode_page_token,
    parse_experiment_filter,
    parse_experiment_order_by,
)
from mltrail.tracking.store.sql.dialect import upsert
from mltrail.tracking.validation import (
    CUSTOM_VIEW_TAG_PREFIX,
    MAX_CUSTOM_VIEWS_PER_EXPERIMENT,
    custom_view_limit_error,
    validate_experiment_id,
)

__all__ = [
    "DEFAULT_EXPERIMENT_ID",
    "DEFAULT_EXPERIMENT_NAME",
    "create",
    "delete",
    "delete_tag",
    "ensure_default",
    "get",
    "get_by_name",
    "join_location",
    "rename",
    "require_active",
    "restore",
    "search",
    "set_tag",
]

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"

_E = schema.experiments
_ET = schema.experiment_tags
_ACTIVE = LifecycleStage.ACTIVE.value
_DELETED = LifecycleStage.DELETED.value

_SELECT_STAGE = sa.select(_E.c.lifecycle_stage).where(_E.c.experiment_id == sa.bindparam("id"))
_SELECT_BY_ID = sa.select(_E).where(_E.c.experiment_id == sa.bindparam("id"))
_SELECT_BY_NAME = sa.select(_E).where(_E.c.name == sa.bindparam("name"))
_SELECT_TAGS = sa.select(_ET.c.experiment_id, _ET.c.key, _ET.c.value).where(
    _ET.c.experiment_id.in_(sa.bindparam("ids", expanding=True))
)


def join_location(root: str, experiment_id: str) -> str:
    """``<root>/<id>`` without a doubled slash (``mlflow-artifacts:/`` gives ``mlflow-artifacts:/<id>``)."""
    return f"{root.rstrip('/')}/{experiment_id}" if root.rstrip("/") else f"/{experiment_id}"


def _to_entity(row: Any, tags: dict[str, str]) -> Experiment:
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        creation_time=row.creation_time,
        last_update_time=row.last_update_time,
        tags=tags,
    )


def _load(conn: Connection, rows: Sequence[Any]) -> list[Experiment]:
    tags: dict[int, dict[str, str]] = {row.experiment_id: {} for row in rows}
    if rows:
        for tag in conn.execute(_SELECT_TAGS, {"ids": list(tags)}):
            tags[tag.experiment_id][tag.key] = tag.value
    return [_to_entity(row, tags[row.experiment_id]) for row in rows]


def _int_id(experiment_id: str) -> int:
    return validate_experiment_id(experiment_id)


def _missing(experiment_id: str) -> NotFoundError:
    return NotFoundError(f"No Experiment with id={experiment_id} exists")


def stage_of(conn: Connection, experiment_id: str) -> str:
    """The lifecycle stage of an experiment; ``NotFoundError`` if unknown."""
    stage = conn.execute(_SELECT_STAGE, {"id": _int_id(experiment_id)}).scalar_one_or_none()
    if stage is None:
        raise _missing(experiment_id)
    return str(stage)


def require_active(conn: Connection, experiment_id: str) -> None:
    """Raise ``NotFoundError`` (unknown) or ``InvalidArgumentError`` (deleted) unless active."""
    if stage_of(conn, experiment_id) != _ACTIVE:
        raise InvalidArgumentError(
            f"The experiment {experiment_id} must be in the 'active' state. Current state is deleted."
        )


def ensure_default(conn: Connection, dialect: str, artifact_root: str) -> None:
    """Create the ``Default`` experiment (id 0) unless it exists."""
    if conn.execute(_SELECT_STAGE, {"id": 0}).first() is not None:
        return
    if conn.execute(_SELECT_BY_NAME, {"name": DEFAULT_EXPERIMENT_NAME}).first() is not None:
        return
    now = now_ms()
    values = {
        "experiment_id": 0,
        "name": DEFAULT_EXPERIMENT_NAME,
        "artifact_location": join_location(artifact_root, DEFAULT_EXPERIMENT_ID),
        "lifecycle_stage": _ACTIVE,
        "creation_time": now,
        "last_update_time": now,
    }
    if dialect == "mysql":
        # An explicit 0 in an AUTO_INCREMENT column means "next value" unless this mode is on.
        mode = conn.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar_one()
        conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
        try:
            conn.execute(sa.insert(_E), values)
        finally:
            conn.execute(sa.text("SET SESSION sql_mode = :mode"), {"mode": mode})
    else:
        conn.execute(sa.insert(_E), values)


def create(
    conn: Connection,
    name: str,
    artifact_location: str | None,
    tags: Sequence[tuple[str, str]],
    artifact_root: str,
) -> str:
    """Insert an experiment and its tags; returns its id. ``AlreadyExistsError`` if the name is taken."""
    if conn.execute(_SELECT_BY_NAME, {"name": name}).first() is not None:
        raise AlreadyExistsError(f"Experiment(name={name}) already exists.")
    now = now_ms()
    result = conn.execute(
        sa.insert(_E),
        {
            "name": name,
            "artifact_location": artifact_location or "",
            "lifecycle_stage": _ACTIVE,
            "creation_time": now,
            "last_update_time": now,
        },
    )
    assert result.inserted_primary_key is not None
    new_id = str(result.inserted_primary_key[0])
    if not artifact_location:
        conn.execute(
            sa.update(_E)
            .where(_E.c.experiment_id == int(new_id))
            .values(artifact_location=join_location(artifact_root, new_id))
        )
    if tags:
        conn.execute(
            sa.insert(_ET),
            [{"experiment_id": int(new_id), "key": k, "value": v} for k, v in dict(tags).items()],
        )
    return new_id


def get(conn: Connection, experiment_id: str) -> Experiment:
    """The experiment with that id (deleted too), or ``NotFoundError``."""
    row = conn.execute(_SELECT_BY_ID, {"id": _int_id(experiment_id)}).first()
    if row is None:
        raise _missing(experiment_id)
    return _load(conn, [row])[0]


def get_by_name(conn: Connection, name: str) -> Experiment:
    """The experiment with exactly that name (deleted too), or ``NotFoundError``."""
    row = conn.execute(_SELECT_BY_NAME, {"name": name}).first()
    if row is None:
        raise NotFoundError(f"Experiment '{name}' does not exist.")
    return _load(conn, [row])[0]


def _set_stage(conn: Connection, experiment_id: str, from_stage: str, to_stage: str) -> None:
    eid = _int_id(experiment_id)
    now = now_ms()
    updated = conn.execute(
        sa.update(_E)
        .where(_E.c.experiment_id == eid, _E.c.lifecycle_stage == from_stage)
        .values(lifecycle_stage=to_stage, last_update_time=now)
    ).rowcount
    if not updated:
        if from_stage == _ACTIVE:
            raise _missing(experiment_id)
        raise NotFoundError(f"Cannot restore experiment {experiment_id}: it is not deleted or does not exist")
    runs = schema.runs
    conn.execute(
        sa.update(runs)
        .where(runs.c.experiment_id == eid, runs.c.lifecycle_stage == from_stage)
        .values(lifecycle_stage=to_stage, deleted_time=now if to_stage == _DELETED else None)
    )


def delete(conn: Connection, experiment_id: str) -> None:
    """Soft-delete an active experiment and its active runs."""
    _set_stage(conn, experiment_id, _ACTIVE, _DELETED)


def restore(conn: Connection, experiment_id: str) -> None:
    """Restore a deleted experiment and its deleted runs."""
    _set_stage(conn, experiment_id, _DELETED, _ACTIVE)


def rename(conn: Connection, experiment_id: str, new_name: str) -> None:
    """Rename an active experiment (``InvalidStateError`` when deleted, ``AlreadyExistsError`` on a clash)."""
    if stage_of(conn, experiment_id) != _ACTIVE:
        raise InvalidStateError("Cannot rename a non-active experiment.")
    clash = conn.execute(_SELECT_BY_NAME, {"name": new_name}).first()
    if clash is not None and str(clash.experiment_id) != str(_int_id(experiment_id)):
        raise AlreadyExistsError(f"Experiment(name={new_name}) already exists.")
    conn.execute(
        sa.update(_E)
        .where(_E.c.experiment_id == _int_id(experiment_id))
        .values(name=new_name, last_update_time=now_ms())
    )


def set_tag(conn: Connection, dialect: str, experiment_id: str, key: str, value: str) -> None:
    """Upsert a tag of an active experiment (at most 50 custom-view tags per experiment)."""
    require_active(conn, experiment_id)
    if key.startswith(CUSTOM_VIEW_TAG_PREFIX):
        views = set(
            conn.execute(
                sa.select(_ET.c.key).where(
                    _ET.c.experiment_id == _int_id(experiment_id),
                    _ET.c.key.startswith(CUSTOM_VIEW_TAG_PREFIX, autoescape=True),
                )
            ).scalars()
        )
        # Overwriting an existing view keeps the count, so editing stays possible at the limit.
        if key not in views and len(views) >= MAX_CUSTOM_VIEWS_PER_EXPERIMENT:
            raise custom_view_limit_error(experiment_id)
    stmt = upsert(dialect, _ET, ("experiment_id", "key"), ("value",))
    conn.execute(stmt, {"experiment_id": _int_id(experiment_id), "key": key, "value": value})


def delete_tag(conn: Connection, experiment_id: str, key: str) -> None:
    """Delete a tag of an active experiment; ``NotFoundError`` if the key is not set."""
    require_active(conn, experiment_id)
    deleted = conn.execute(
        sa.delete(_ET).where(_ET.c.experiment_id == _int_id(experiment_id), _ET.c.key == key)
    ).rowcount
    if not deleted:
        raise NotFoundError(f"No tag with name: {key} in experiment with id {experiment_id}")


_NUMERIC_OPS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _tag_subquery(key: str, cond: sa.ColumnElement[bool] | None) -> sa.Select[Any]:
    q = sa.select(_ET.c.experiment_id).where(_ET.c.key == key)
    return q.where(cond) if cond is not None else q


def _string_cond(col: sa.ColumnElement[Any], op: str, value: str) -> sa.ColumnElement[bool]:
    if op == "=":
        return col == value
    if op == "!=":
        return col != value
    if op == "LIKE":
        return col.like(value)
    return col.ilike(value)


def _numeric_cond(col: sa.ColumnElement[Any], op: str, value: float | int) -> sa.ColumnElement[bool]:
    cond: sa.ColumnElement[bool] = _NUMERIC_OPS[op](col, value)
    return cond


def _filter(c: Comparison) -> sa.ColumnElement[bool]:
    if c.entity is EntityType.TAG:
        if c.comparator == "IS NULL":
            return _E.c.experiment_id.not_in(_tag_subquery(c.key, None))
        if c.comparator == "IS NOT NULL":
            return _E.c.experiment_id.in_(_tag_subquery(c.key, None))
        assert isinstance(c.value, str)
        return _E.c.experiment_id.in_(_tag_subquery(c.key, _string_cond(_ET.c.value, c.comparator, c.value)))
    if c.key == "experiment_id":
        ids = [int(v) for v in (c.value if isinstance(c.value, tuple) else (str(c.value),))]
        if c.comparator in ("IN", "="):
            return _E.c.experiment_id.in_(ids)
        return _E.c.experiment_id.not_in(ids)
    if c.key == "name":
        assert isinstance(c.value, str)
        return _string_cond(_E.c.name, c.comparator, c.value)
    assert isinstance(c.value, float)
    return _numeric_cond(_E.c[c.key], c.comparator, int(c.value))


def _order(keys: Iterable[OrderKey], dialect: str) -> list[sa.ColumnElement[Any]]:
    clauses: list[sa.ColumnElement[Any]] = []
    has_creation = False
    for k in keys:
        col: sa.ColumnElement[Any] = _E.c[k.key]
        has_creation |= k.key == "creation_time"
        if k.key == "name" and dialect == "postgresql":
            col = col.collate("C")
        clauses.append(col.asc() if k.ascending else col.desc())
    if not has_creation:
        clauses.append(_E.c.creation_time.desc())
    clauses.append(_E.c.experiment_id.asc())
    return clauses


def search(
    conn: Connection,
    dialect: str,
    view_type: ViewType,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> tuple[list[Experiment], str | None]:
    """One page of experiments matching the filter, in the requested order."""
    comparisons = parse_experiment_filter(filter_string)
    keys = parse_experiment_order_by(order_by)
    offset = decode_page_token(page_token)
    stages = [s.value for s in ViewType(view_type).stages()]
    query = (
        sa.select(_E)
        .where(_E.c.lifecycle_stage.in_(stages), *(_filter(c) for c in comparisons))
        .order_by(*_order(keys, dialect))
        .limit(max_results + 1)
        .offset(offset)
    )
    rows = conn.execute(query).all()
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return _load(conn, rows[:max_results]), token
