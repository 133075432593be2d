"""Run aggregate of the SQL tracking store: lifecycle, params, tags and the log-batch transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._utils import now_ms
from mltrail.db import schema
from mltrail.errors import InvalidArgumentError, InvalidStateError, NotFoundError
from mltrail.tracking.entities import (
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)
from mltrail.tracking.names import random_run_name
from mltrail.tracking.store.sql import driver, experiments, metrics
from mltrail.tracking.store.sql.dialect import upsert
from mltrail.tracking.store.sql.loading import RUN_COLUMNS, load_runs, to_run_info

__all__ = [
    "RUN_NAME_TAG",
    "RunState",
    "create",
    "delete",
    "delete_tag",
    "get",
    "get_state",
    "list_deleted",
    "log_batch",
    "log_metric",
    "purge",
    "require_active",
    "restore",
    "update_info",
]

RUN_NAME_TAG = "mlflow.runName"
_R, _P, _T = schema.runs, schema.params, schema.tags
_ACTIVE = LifecycleStage.ACTIVE.value
_DELETED = LifecycleStage.DELETED.value

_Q_STATE = sa.select(_R.c.lifecycle_stage, _R.c.experiment_id, _R.c.run_key).where(
    _R.c.run_id == sa.bindparam("run_id")
)
_Q_RUN = sa.select(*RUN_COLUMNS).where(_R.c.run_id == sa.bindparam("run_id"))
_Q_PARAMS = sa.select(_P.c.key, _P.c.value).where(
    _P.c.run_id == sa.bindparam("run_id"), _P.c.key.in_(sa.bindparam("keys", expanding=True))
)
_RENAME = sa.update(_R).where(_R.c.run_id == sa.bindparam("rid")).values(name=sa.bindparam("run_name"))


def _missing(run_id: str) -> NotFoundError:
    return NotFoundError(f"Run with id={run_id} not found")


class RunState(NamedTuple):
    """What writes need to know about a run, read in one query."""

    lifecycle_stage: str
    experiment_id: int
    run_key: int


def get_state(conn: Connection, run_id: str) -> RunState:
    """The lifecycle stage, experiment and surrogate key of a run; ``NotFoundError`` if unknown."""
    # On every write path: read through the driver cursor, as SQLAlchemy's execution costs more.
    row = driver.fetch_one(conn, _Q_STATE, {"run_id": run_id})
    if row is None:
        raise _missing(run_id)
    return RunState(*row)


def require_active(conn: Connection, run_id: str) -> RunState:
    """Check the run exists and is active in one query; returns its state.

    Raises:
        NotFoundError: unknown run.
        InvalidArgumentError: the run is deleted.
    """
    state = get_state(conn, run_id)
    if state.lifecycle_stage != _ACTIVE:
        raise InvalidArgumentError(
            f"The run {run_id} must be in the 'active' state. Current state is {state.lifecycle_stage}."
        )
    return state


def _upsert_tags(conn: Connection, dialect: str, run_id: str, tags: Sequence[RunTag]) -> None:
    if not tags:
        return
    values = {t.key: t.value for t in tags}  # the last value of a key wins, as sequential set_tag would
    conn.execute(
        upsert(dialect, _T, ("run_id", "key"), ("value",)),
        [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()],
    )
    if RUN_NAME_TAG in values:
        conn.execute(_RENAME, {"rid": run_id, "run_name": values[RUN_NAME_TAG]})


def create(
    conn: Connection,
    dialect: str,
    experiment_id: str,
    user_id: str,
    start_time: int | None,
    tags: Sequence[RunTag],
    run_name: str | None,
) -> Run:
    """Insert a RUNNING run (with its ``mlflow.runName`` tag) into an active experiment."""
    experiments.require_active(conn, experiment_id)
    location = conn.execute(
        sa.select(schema.experiments.c.artifact_location).where(
            schema.experiments.c.experiment_id == int(experiment_id)
        )
    ).scalar_one()
    tag_map = {t.key: t.value for t in tags}
    tag_name = tag_map.get(RUN_NAME_TAG)
    if run_name and tag_name and run_name != tag_name:
        raise InvalidArgumentError(
            f"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different "
            f"values (run_name='{run_name}', mlflow.runName='{tag_name}')."
        )
    name = run_name or tag_name or random_run_name()
    tag_map[RUN_NAME_TAG] = name
    run_id = uuid.uuid4().hex
    start = now_ms() if start_time is None else start_time
    info = RunInfo(
        run_id=run_id,
        experiment_id=str(int(experiment_id)),
        run_name=name,
        user_id=user_id or "",
        status=RunStatus.RUNNING,
        start_time=start,
        end_time=None,
        artifact_uri=f"{location.rstrip('/')}/{run_id}/artifacts",
        lifecycle_stage=LifecycleStage.ACTIVE,
    )
    conn.execute(
        sa.insert(_R),
        {
            "run_id": run_id,
            "experiment_id": int(experiment_id),
            "name": name,
            "user_id": info.user_id,
            "status": info.status.value,
            "start_time": start,
            "end_time": None,
            "deleted_time": None,
            "lifecycle_stage": _ACTIVE,
            "artifact_uri": info.artifact_uri,
        },
    )
    conn.execute(sa.insert(_T), [{"run_id": run_id, "key": k, "value": v} for k, v in tag_map.items()])
    return Run(info=info, data=RunData(tags=tag_map))


def get(conn: Connection, run_id: str) -> Run:
    """A run with all its data (deleted runs too)."""
    row = conn.execute(_Q_RUN, {"run_id": run_id}).first()
    if row is None:
        raise _missing(run_id)
    return load_runs(conn, [row])[0]


def update_info(
    conn: Connection,
    dialect: str,
    run_id: str,
    status: RunStatus | None,
    end_time: int | None,
    run_name: str | None,
) -> RunInfo:
    """Change the given fields of an active run; returns the new info."""
    require_active(conn, run_id)
    values: dict[str, Any] = {}
    if status is not None:
        values["status"] = RunStatus(status).value
    if end_time is not None:
        values["end_time"] = end_time
    if values:
        conn.execute(sa.update(_R).where(_R.c.run_id == run_id).values(**values))
    if run_name:
        _upsert_tags(conn, dialect, run_id, [RunTag(RUN_NAME_TAG, run_name)])
    return to_run_info(conn.execute(_Q_RUN, {"run_id": run_id}).one())


def _set_stage(conn: Connection, run_id: str, to_stage: str) -> None:
    from_stage = _ACTIVE if to_stage == _DELETED else _DELETED
    updated = conn.execute(
        sa.update(_R)
        .where(_R.c.run_id == run_id, _R.c.lifecycle_stage == from_stage)
        .values(lifecycle_stage=to_stage, deleted_time=now_ms() if to_stage == _DELETED else None)
    ).rowcount
    if not updated and conn.execute(_Q_STATE, {"run_id": run_id}).first() is None:
        raise _missing(run_id)


def delete(conn: Connection, run_id: str) -> None:
    """Soft-delete a run (idempotent)."""
    _set_stage(conn, run_id, _DELETED)


def restore(conn: Connection, run_id: str) -> None:
    """Restore a soft-deleted run (idempotent)."""
    _set_stage(conn, run_id, _ACTIVE)


def delete_tag(conn: Connection, run_id: str, key: str) -> None:
    """Delete a tag of an active run; ``NotFoundError`` when it is not set."""
    require_active(conn, run_id)
    deleted = conn.execute(sa.delete(_T).where(_T.c.run_id == run_id, _T.c.key == key)).rowcount
    if not deleted:
        raise NotFoundError(f"No tag with name: {key} in run with id {run_id}")


def log_batch(
    conn: Connection,
    dialect: str,
    run_id: str,
    metric_points: Sequence[Metric],
    params: Sequence[Param],
    tags: Sequence[RunTag],
) -> None:
    """Store a validated batch in the caller's transaction (any error rolls all of it back)."""
    state = require_active(conn, run_id)
    if params:
        _insert_params(conn, run_id, params)
    if metric_points:
        metrics.insert(conn, dialect, state.run_key, run_id, metric_points)
    _upsert_tags(conn, dialect, run_id, tags)


def log_metric(conn: Connection, dialect: str, run_id: str, metric: Metric) -> None:
    """Store one validated point in the caller's transaction (``log_batch`` of that point)."""
    if dialect != "postgresql":
        log_batch(conn, dialect, run_id, [metric], (), ())
        return
    stage = metrics.insert_one_postgresql(conn, run_id, metric)
    if stage is None:
        raise _missing(run_id)
    if stage != _ACTIVE:
        raise InvalidArgumentError(
            f"The run {run_id} must be in the 'active' state. Current state is {stage}."
        )


def _insert_params(conn: Connection, run_id: str, params: Sequence[Param]) -> None:
    wanted = {p.key: p.value for p in params}
    existing = {r[0]: r[1] for r in conn.execute(_Q_PARAMS, {"run_id": run_id, "keys": list(wanted)})}
    changed = [(k, existing[k], v) for k, v in wanted.items() if k in existing and existing[k] != v]
    if changed:
        shown = [{"key": k, "old_value": old, "new_value": new} for k, old, new in changed]
        raise InvalidArgumentError(
            f"Changing param values is not allowed. Params were already logged='{shown}' "
            f"for run ID='{run_id}'."
        )
    new = [{"run_id": run_id, "key": k, "value": v} for k, v in wanted.items() if k not in existing]
    if new:
        conn.execute(sa.insert(_P), new)


def list_deleted(conn: Connection, older_than_ms: int | None) -> list[str]:
    """Ids of deleted runs, optionally only those deleted more than ``older_than_ms`` ago."""
    query = sa.select(_R.c.run_id).where(_R.c.lifecycle_stage == _DELETED)
    if older_than_ms is not None:
        cutoff = now_ms() - older_than_ms
        query = query.where(sa.or_(_R.c.deleted_time.is_(None), _R.c.deleted_time < cutoff))
    return list(conn.execute(query.order_by(_R.c.run_id)).scalars())


def purge(conn: Connection, run_id: str) -> None:
    """Remove a deleted run and every row logged to it."""
    state = get_state(conn, run_id)
    if state.lifecycle_stage != _DELETED:
        raise InvalidStateError(f"Run {run_id} must be deleted before it can be purged.")
    inputs = schema.inputs
    conn.execute(
        sa.delete(schema.input_tags).where(
            schema.input_tags.c.input_uuid.in_(
                sa.select(inputs.c.input_uuid).where(inputs.c.run_id == run_id)
            )
        )
    )
    for table in (
        inputs,
        schema.params,
        schema.tags,
        schema.latest_metrics,
        schema.model_inputs,
        schema.model_outputs,
    ):
        conn.execute(sa.delete(table).where(table.c.run_id == run_id))
    conn.execute(sa.delete(schema.metrics).where(schema.metrics.c.run_key == state.run_key))
    conn.execute(sa.delete(_R).where(_R.c.run_id == run_id))
