"""Reads shared by the SQL registry store: rows to entities in bulk, upserts, and source lookups.

Every function takes an open connection, so callers compose them inside one transaction.
Tags and aliases of many versions are read with one query each, never one per row.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.dml import Insert

from mltrail.db import schema
from mltrail.db.schema_logged_models import logged_model_tags, logged_models
from mltrail.db.schema_registry import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.registry.entities import (
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RegisteredModelAlias,
    Stage,
)
from mltrail.registry.service import PROMPT_TAG, LoggedModelRef, ModelsUri

__all__ = [
    "DELETED_STAGE",
    "SqlSourceLookups",
    "latest_versions",
    "load_models",
    "load_versions",
    "lock_model",
    "model_not_found",
    "record_registration",
    "require_version",
    "upsert",
    "version_not_found",
]

DELETED_STAGE = "Deleted_Internal"
MV = model_versions
RM = registered_models


def model_not_found(name: str) -> NotFoundError:
    """The error for an unknown registered model."""
    return NotFoundError(f"Registered Model with name={name} not found")


def version_not_found(name: str, version: int) -> NotFoundError:
    """The error for an unknown (or deleted) model version."""
    return NotFoundError(f"Model Version (name={name}, version={version}) not found")


def upsert(
    conn: Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert a row, or overwrite its ``update`` columns when its ``conflict`` key exists."""
    dialect = conn.dialect.name
    stmt: Insert
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(**values)
        stmt = pg.on_conflict_do_update(
            index_elements=list(conflict), set_={c: pg.excluded[c] for c in update}
        )
    elif dialect in ("mysql", "mariadb"):
        my = mysql.insert(table).values(**values)
        stmt = my.on_duplicate_key_update({c: my.inserted[c] for c in update})
    else:
        lite = sqlite.insert(table).values(**values)
        stmt = lite.on_conflict_do_update(
            index_elements=list(conflict), set_={c: lite.excluded[c] for c in update}
        )
    conn.execute(stmt)


def lock_model(conn: Connection, name: str) -> Row[Any]:
    """Read a registered model's row with a write lock (serialises version numbering per model).

    Raises:
        NotFoundError: no such model.
    """
    row = conn.execute(sa.select(RM).where(RM.c.name == name).with_for_update()).first()
    if row is None:
        raise model_not_found(name)
    return row


def require_version(conn: Connection, name: str, version: int, *, lock: bool = False) -> Row[Any]:
    """A live (not deleted) version row.

    Raises:
        NotFoundError: no such version.
    """
    stmt = sa.select(MV).where(
        MV.c.name == name, MV.c.version == version, MV.c.current_stage != DELETED_STAGE
    )
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise version_not_found(name, version)
    return row


def _version_entity(row: Row[Any], tags: dict[str, str], aliases: Iterable[str]) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=str(row.version),
        creation_timestamp=row.creation_time,
        last_updated_timestamp=row.last_updated_time,
        current_stage=row.current_stage,
        source=row.source,
        run_id=row.run_id,
        description=row.description,
        user_id=row.user_id,
        status=ModelVersionStatus.from_wire(row.status),
        status_message=row.status_message,
        run_link=row.run_link,
        model_id=row.model_id,
        tags=tags,
        aliases=tuple(sorted(aliases)),
    )


def load_versions(conn: Connection, rows: Sequence[Row[Any]]) -> list[ModelVersion]:
    """Version entities for ``rows`` of ``model_versions``, in the same order, with tags and aliases."""
    if not rows:
        return []
    names = sorted({r.name for r in rows})
    keys = {(r.name, r.version) for r in rows}
    tags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for t in conn.execute(sa.select(model_version_tags).where(model_version_tags.c.name.in_(names))):
        if (t.name, t.version) in keys:
            tags[(t.name, t.version)][t.key] = t.value
    aliases: dict[tuple[str, int], list[str]] = defaultdict(list)
    al = registered_model_aliases
    for a in conn.execute(sa.select(al).where(al.c.name.in_(names))):
        aliases[(a.name, a.version)].append(a.alias)
    return [_version_entity(r, tags[(r.name, r.version)], aliases[(r.name, r.version)]) for r in rows]


def latest_version_rows(
    conn: Connection, names: Sequence[str], stages: Sequence[str] | None
) -> list[Row[Any]]:
    """For each model and stage, the row of its highest live version in that stage."""
    if not names:
        return []
    wanted = list(stages) if stages is not None else [s.value for s in Stage]
    top = (
        sa.select(MV.c.name, MV.c.current_stage, sa.func.max(MV.c.version).label("version"))
        .where(MV.c.name.in_(list(names)), MV.c.current_stage.in_(wanted))
        .group_by(MV.c.name, MV.c.current_stage)
        .subquery()
    )
    stmt = (
        sa.select(MV)
        .join(top, sa.and_(MV.c.name == top.c.name, MV.c.version == top.c.version))
        .order_by(MV.c.name, MV.c.version)
    )
    return list(conn.execute(stmt))


def latest_versions(conn: Connection, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
    """The latest live version per stage of one model."""
    return load_versions(conn, latest_version_rows(conn, [name], stages))


def load_models(conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
    """Registered model entities for ``rows``, in order, with tags, aliases and latest versions."""
    if not rows:
        return []
    names = [r.name for r in rows]
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for t in conn.execute(sa.select(registered_model_tags).where(registered_model_tags.c.name.in_(names))):
        tags[t.name][t.key] = t.value
    aliases: dict[str, list[RegisteredModelAlias]] = defaultdict(list)
    al = registered_model_aliases
    for a in conn.execute(sa.select(al).where(al.c.name.in_(names)).order_by(al.c.alias)):
        aliases[a.name].append(RegisteredModelAlias(a.alias, str(a.version)))
    latest: dict[str, list[ModelVersion]] = defaultdict(list)
    for v in load_versions(conn, latest_version_rows(conn, names, None)):
        latest[v.name].append(v)
    return [
        RegisteredModel(
            name=r.name,
            creation_timestamp=r.creation_time,
            last_updated_timestamp=r.last_updated_time,
            description=r.description,
            user_id=r.user_id,
            tags=tags[r.name],
            aliases=tuple(aliases[r.name]),
            latest_versions=tuple(latest[r.name]),
        )
        for r in rows
    ]


def model_row(conn: Connection, name: str) -> Row[Any]:
    """A registered model's row.

    Raises:
        NotFoundError: no such model.
    """
    row = conn.execute(sa.select(RM).where(RM.c.name == name)).first()
    if row is None:
        raise model_not_found(name)
    return row


def alias_version(conn: Connection, name: str, alias: str) -> int | None:
    """The version an alias points at, or None."""
    al = registered_model_aliases
    value = conn.execute(sa.select(al.c.version).where(al.c.name == name, al.c.alias == alias)).scalar()
    return None if value is None else int(value)


def latest_overall(conn: Connection, name: str) -> Row[Any]:
    """The highest version among the latest-per-stage versions (the ``latest`` alias).

    Raises:
        NotFoundError: the model has no live versions.
    """
    rows = latest_version_rows(conn, [name], None)
    if not rows:
        raise NotFoundError(f"No versions of registered model '{name}' found")
    return max(rows, key=lambda r: int(r.version))


MODEL_VERSIONS_TAG = "mlflow.modelVersions"


def record_registration(conn: Connection, model_id: str, name: str, version: int) -> None:
    """Add a registration to a logged model's ``mlflow.modelVersions`` tag (a JSON list), if it exists."""
    lmt = logged_model_tags
    exists = conn.execute(
        sa.select(logged_models.c.model_id).where(logged_models.c.model_id == model_id)
    ).first()
    if exists is None:
        return
    raw = conn.execute(
        sa.select(lmt.c.tag_value).where(lmt.c.model_id == model_id, lmt.c.tag_key == MODEL_VERSIONS_TAG)
    ).scalar()
    try:
        items = json.loads(raw) if raw else []
    except ValueError:
        items = []
    if not isinstance(items, list):
        items = []
    items.append({"name": name, "version": str(version)})
    upsert(
        conn,
        lmt,
        {"model_id": model_id, "tag_key": MODEL_VERSIONS_TAG, "tag_value": json.dumps(items)},
        ("model_id", "tag_key"),
        ("tag_value",),
    )


class SqlSourceLookups:
    """The reads the source rules need, on one open connection (same database as the runs)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def run_artifact_uri(self, run_id: str) -> str | None:
        """The run's artifact URI, or None if no such run."""
        runs = schema.runs
        value = self._conn.execute(sa.select(runs.c.artifact_uri).where(runs.c.run_id == run_id)).scalar()
        return None if value is None else str(value)

    def logged_model(self, model_id: str) -> LoggedModelRef | None:
        """The logged model, or None if no such model."""
        lm = logged_models
        row = self._conn.execute(
            sa.select(lm.c.artifact_location, lm.c.source_run_id).where(lm.c.model_id == model_id)
        ).first()
        return None if row is None else LoggedModelRef(row.artifact_location, row.source_run_id)

    def is_prompt(self, name: str) -> bool:
        """Whether the model is a prompt.

        Raises:
            NotFoundError: no such model.
        """
        model_row(self._conn, name)
        t = registered_model_tags
        value = self._conn.execute(
            sa.select(t.c.value).where(t.c.name == name, t.c.key == PROMPT_TAG)
        ).scalar()
        return value is not None and str(value).lower() == "true"

    def resolve_version(self, ref: ModelsUri) -> tuple[ModelVersion, str]:
        """The version a ``models:/<name>/...`` URI names and its download location.

        Raises:
            NotFoundError: no such model or version.
        """
        assert ref.name is not None
        conn, name = self._conn, ref.name
        model_row(conn, name)
        if ref.version is not None:
            row = require_version(conn, name, int(ref.version))
        elif ref.alias is not None:
            number = alias_version(conn, name, ref.alias)
            if number is None:
                raise NotFoundError(f"Registered model alias {ref.alias} not found.")
            row = require_version(conn, name, number)
        elif ref.stage is not None and ref.stage.lower() == "latest":
            row = latest_overall(conn, name)
        else:
            try:
                stage = Stage.parse(ref.stage or "")
            except InvalidArgumentError as exc:
                raise NotFoundError(str(exc)) from exc
            rows = latest_version_rows(conn, [name], [stage.value])
            if not rows:
                raise NotFoundError(f"No versions of model '{name}' in stage '{stage.value}' found")
            row = rows[0]
        return load_versions(conn, [row])[0], row.storage_location or row.source
