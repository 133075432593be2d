"""Logged-model aggregate of the SQL tracking store: create, read, finalize, delete, tags, params.

Also stores the metric points a run logs with a ``model_id`` (called from the log-batch
transaction) and loads models with their tags, params, metrics and registrations in a fixed
number of queries per page. Registrations are read from the ``mlflow.modelVersions`` tag, which
MLflow clients maintain when they register a version of the model.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._utils import now_ms
from mltrail.db import schema
from mltrail.db.schema_logged_models import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking.entities import LifecycleStage, Metric
from mltrail.tracking.logged_models import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelRegistration,
    LoggedModelStatus,
    LoggedModelTag,
)
from mltrail.tracking.names import random_run_name
from mltrail.tracking.store.sql import experiments
from mltrail.tracking.store.sql.dialect import insert_ignore, upsert

__all__ = [
    "MODEL_COLUMNS",
    "MODEL_VERSIONS_TAG",
    "create",
    "delete",
    "delete_tag",
    "finalize",
    "get",
    "insert_metrics",
    "load_models",
    "log_params",
    "set_tags",
    "validate_model_name",
    "validate_params",
    "validate_tags",
]

MODEL_VERSIONS_TAG = "mlflow.modelVersions"
_LM, _LP, _LT, _LMM = logged_models, logged_model_params, logged_model_tags, logged_model_metrics
_ACTIVE = LifecycleStage.ACTIVE.value
_DELETED = LifecycleStage.DELETED.value
_FORBIDDEN_NAME_CHARS = frozenset("/:.%\"'")
_MAX_NAME = 500
_MAX_KEY = 255
_MAX_RUN_ID = 32

MODEL_COLUMNS = (
    _LM.c.model_id,
    _LM.c.experiment_id,
    _LM.c.name,
    _LM.c.artifact_location,
    _LM.c.creation_timestamp_ms,
    _LM.c.last_updated_timestamp_ms,
    _LM.c.status,
    _LM.c.lifecycle_stage,
    _LM.c.model_type,
    _LM.c.source_run_id,
    _LM.c.status_message,
)
_Q_MODEL = sa.select(*MODEL_COLUMNS).where(_LM.c.model_id == sa.bindparam("model_id"))
_Q_STAGE = sa.select(_LM.c.lifecycle_stage).where(_LM.c.model_id == sa.bindparam("model_id"))


def _missing(model_id: str) -> NotFoundError:
    return NotFoundError(f"Logged model with ID '{model_id}' not found.")


# -- validation ---------------------------------------------------------------------------------


def validate_model_name(name: str | None) -> None:
    """Check a logged model name: non-empty, ≤ 500 chars, none of ``/ : . % " '`` (None is fine)."""
    if name is None:
        return
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError("Logged model name cannot be empty.")
    if len(name) > _MAX_NAME:
        raise InvalidArgumentError(f"Logged model name exceeds the maximum length of {_MAX_NAME} characters.")
    bad = sorted(_FORBIDDEN_NAME_CHARS & set(name))
    if bad:
        raise InvalidArgumentError(
            f"Invalid model name ('{name}') provided. Model name must not contain any of the "
            f"following characters: {sorted(_FORBIDDEN_NAME_CHARS)}."
        )


def _check_key(key: object, what: str) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidArgumentError(f"{what} key must be a non-empty string, got {key!r}.")
    if len(key) > _MAX_KEY:
        raise InvalidArgumentError(f"{what} key '{key[:50]}...' exceeds the maximum length of {_MAX_KEY}.")
    return key


def _check_value(value: object, what: str, key: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} '{key}' must have a string value, got {value!r}.")
    return value


def validate_tags(tags: Sequence[LoggedModelTag]) -> dict[str, str]:
    """Check tags; returns them by key (the last value of a repeated key wins)."""
    return {_check_key(t.key, "Tag"): _check_value(t.value, "Tag", t.key) for t in tags}


def validate_params(params: Sequence[LoggedModelParameter]) -> dict[str, str]:
    """Check params; returns them by key (a key repeated with different values is rejected)."""
    out: dict[str, str] = {}
    for p in params:
        key = _check_key(p.key, "Param")
        value = _check_value(p.value, "Param", key)
        if key in out and out[key] != value:
            raise InvalidArgumentError(f"Duplicate param key '{key}' with different values in one request.")
        out[key] = value
    return out


# -- reads --------------------------------------------------------------------------------------


def _registrations(tags: dict[str, str]) -> tuple[LoggedModelRegistration, ...]:
    raw = tags.get(MODEL_VERSIONS_TAG)
    if not raw:
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        return ()
    if not isinstance(items, list):
        return ()
    return tuple(
        LoggedModelRegistration(str(item["name"]), str(item["version"]))
        for item in items
        if isinstance(item, dict) and "name" in item and "version" in item
    )


def load_models(conn: Connection, rows: Sequence[Any]) -> list[LoggedModel]:
    """Entities for model rows (selected with :data:`MODEL_COLUMNS`), in the rows' order."""
    if not rows:
        return []
    ids = [r.model_id for r in rows]
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    points: dict[str, list[Metric]] = {i: [] for i in ids}
    for t in conn.execute(
        sa.select(_LT.c.model_id, _LT.c.tag_key, _LT.c.tag_value).where(_LT.c.model_id.in_(ids))
    ):
        tags[t.model_id][t.tag_key] = t.tag_value
    for p in conn.execute(
        sa.select(_LP.c.model_id, _LP.c.param_key, _LP.c.param_value).where(_LP.c.model_id.in_(ids))
    ):
        params[p.model_id][p.param_key] = p.param_value
    metric_query = (
        sa.select(_LMM)
        .where(_LMM.c.model_id.in_(ids))
        .order_by(_LMM.c.metric_timestamp_ms, _LMM.c.metric_step, _LMM.c.metric_name, _LMM.c.run_id)
    )
    for m in conn.execute(metric_query):
        points[m.model_id].append(
            Metric(
                key=m.metric_name,
                value=math.nan if m.is_nan else m.metric_value,
                timestamp=m.metric_timestamp_ms,
                step=m.metric_step,
                dataset_name=m.dataset_name,
                dataset_digest=m.dataset_digest,
                model_id=m.model_id,
                run_id=m.run_id or None,
            )
        )
    return [
        LoggedModel(
            model_id=r.model_id,
            experiment_id=str(r.experiment_id),
            name=r.name,
            artifact_uri=r.artifact_location,
            status=LoggedModelStatus.from_number(r.status),
            creation_timestamp_ms=r.creation_timestamp_ms,
            last_updated_timestamp_ms=r.last_updated_timestamp_ms,
            model_type=r.model_type,
            source_run_id=r.source_run_id,
            status_message=r.status_message,
            tags=tags[r.model_id],
            params=params[r.model_id],
            metrics=tuple(points[r.model_id]),
            registrations=_registrations(tags[r.model_id]),
        )
        for r in rows
    ]


def get(conn: Connection, model_id: str, allow_deleted: bool = False) -> LoggedModel:
    """A model with its data; deleted ones only with ``allow_deleted``."""
    row = conn.execute(_Q_MODEL, {"model_id": model_id}).first()
    if row is None or (row.lifecycle_stage != _ACTIVE and not allow_deleted):
        raise _missing(model_id)
    return load_models(conn, [row])[0]


def _require(conn: Connection, model_id: str) -> None:
    if conn.execute(_Q_STAGE, {"model_id": model_id}).first() is None:
        raise _missing(model_id)


# -- writes -------------------------------------------------------------------------------------


def create(
    conn: Connection,
    experiment_id: str,
    name: str | None,
    source_run_id: str | None,
    tags: dict[str, str],
    params: dict[str, str],
    model_type: str | None,
) -> LoggedModel:
    """Insert a PENDING model (with its tags and params) into an active experiment."""
    experiments.require_active(conn, experiment_id)
    if source_run_id is not None and len(source_run_id) > _MAX_RUN_ID:
        raise InvalidArgumentError(f"Invalid source_run_id '{source_run_id}': not a run id.")
    if model_type is not None and len(model_type) > _MAX_NAME:
        raise InvalidArgumentError(f"model_type exceeds the maximum length of {_MAX_NAME} characters.")
    exp_id = int(experiment_id)
    location = conn.execute(
        sa.select(schema.experiments.c.artifact_location).where(schema.experiments.c.experiment_id == exp_id)
    ).scalar_one()
    model_id = f"m-{uuid.uuid4().hex}"
    now = now_ms()
    conn.execute(
        sa.insert(_LM),
        {
            "model_id": model_id,
            "experiment_id": exp_id,
            "name": name or random_run_name(),
            "artifact_location": f"{location.rstrip('/')}/models/{model_id}/artifacts",
            "creation_timestamp_ms": now,
            "last_updated_timestamp_ms": now,
            "status": LoggedModelStatus.PENDING.number,
            "lifecycle_stage": _ACTIVE,
            "model_type": model_type or None,
            "source_run_id": source_run_id or None,
            "status_message": None,
        },
    )
    if tags:
        conn.execute(
            sa.insert(_LT), [{"model_id": model_id, "tag_key": k, "tag_value": v} for k, v in tags.items()]
        )
    if params:
        conn.execute(
            sa.insert(_LP),
            [{"model_id": model_id, "param_key": k, "param_value": v} for k, v in params.items()],
        )
    return get(conn, model_id)


def finalize(conn: Connection, model_id: str, status: LoggedModelStatus) -> LoggedModel:
    """Set a model's status and bump its update time."""
    updated = conn.execute(
        sa.update(_LM)
        .where(_LM.c.model_id == model_id)
        .values(status=status.number, last_updated_timestamp_ms=now_ms())
    ).rowcount
    if not updated:
        raise _missing(model_id)
    return get(conn, model_id, allow_deleted=True)


def delete(conn: Connection, model_id: str) -> None:
    """Soft-delete a model (idempotent)."""
    _require(conn, model_id)
    conn.execute(
        sa.update(_LM)
        .where(_LM.c.model_id == model_id, _LM.c.lifecycle_stage == _ACTIVE)
        .values(lifecycle_stage=_DELETED, last_updated_timestamp_ms=now_ms())
    )


def set_tags(conn: Connection, dialect: str, model_id: str, tags: dict[str, str]) -> None:
    """Upsert validated tags of a model."""
    _require(conn, model_id)
    if tags:
        conn.execute(
            upsert(dialect, _LT, ("model_id", "tag_key"), ("tag_value",)),
            [{"model_id": model_id, "tag_key": k, "tag_value": v} for k, v in tags.items()],
        )


def delete_tag(conn: Connection, model_id: str, key: str) -> None:
    """Delete a model tag; ``NotFoundError`` when the model or the tag is missing."""
    _require(conn, model_id)
    deleted = conn.execute(sa.delete(_LT).where(_LT.c.model_id == model_id, _LT.c.tag_key == key)).rowcount
    if not deleted:
        raise NotFoundError(f"No tag with key '{key}' found for model with ID '{model_id}'.")


def log_params(conn: Connection, model_id: str, params: dict[str, str]) -> None:
    """Add validated params; an existing key must keep its value."""
    _require(conn, model_id)
    if not params:
        return
    existing = {
        r.param_key: r.param_value
        for r in conn.execute(
            sa.select(_LP.c.param_key, _LP.c.param_value).where(
                _LP.c.model_id == model_id, _LP.c.param_key.in_(list(params))
            )
        )
    }
    changed = sorted(k for k, v in params.items() if k in existing and existing[k] != v)
    if changed:
        raise InvalidArgumentError(
            f"Changing param values is not allowed. Params {changed} were already logged "
            f"with other values for logged model '{model_id}'."
        )
    new = [
        {"model_id": model_id, "param_key": k, "param_value": v}
        for k, v in params.items()
        if k not in existing
    ]
    if new:
        conn.execute(sa.insert(_LP), new)


def insert_metrics(conn: Connection, dialect: str, run_id: str, points: Sequence[Metric]) -> None:
    """Store the validated points that carry a ``model_id`` as metrics of those models.

    Raises:
        NotFoundError: a point names a model that does not exist.
    """
    rows = [
        {
            "model_id": m.model_id,
            "metric_name": m.key,
            "metric_timestamp_ms": m.timestamp,
            "metric_step": m.step,
            "run_id": run_id,
            "metric_value": 0.0 if math.isnan(m.value) else m.value,
            "is_nan": math.isnan(m.value),
            "dataset_name": m.dataset_name,
            "dataset_digest": m.dataset_digest,
        }
        for m in points
        if m.model_id
    ]
    if not rows:
        return
    wanted = {str(r["model_id"]) for r in rows}
    found = set(conn.execute(sa.select(_LM.c.model_id).where(_LM.c.model_id.in_(sorted(wanted)))).scalars())
    if missing := sorted(wanted - found):
        raise _missing(missing[0])
    conn.execute(insert_ignore(dialect, _LMM), rows)
