"""Building :class:`Run` entities: run rows plus their data, loaded with one query per table.

A page of runs costs a fixed number of queries whatever its size (no N+1): params, tags,
latest metrics, dataset inputs (with their tags) and model inputs/outputs, each selected for
all run ids of the page at once.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.db import schema
from mltrail.tracking.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    Metric,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from mltrail.tracking.store.sql import driver

__all__ = ["RUN_COLUMNS", "load_runs", "to_run_info"]

_R = schema.runs
RUN_COLUMNS = (
    _R.c.run_id,
    _R.c.experiment_id,
    _R.c.name,
    _R.c.user_id,
    _R.c.status,
    _R.c.start_time,
    _R.c.end_time,
    _R.c.artifact_uri,
    _R.c.lifecycle_stage,
)
_CHUNK = 5000


_P, _T, _LM = schema.params, schema.tags, schema.latest_metrics
_D, _I, _IT = schema.datasets, schema.inputs, schema.input_tags
_MI, _MO = schema.model_inputs, schema.model_outputs
_Query = Callable[[Callable[[Any], sa.ColumnElement[bool]]], sa.Select[Any]]

# Each query selects rows of the runs whose ids it is given, for the condition ``ids(column)``.
_QUERIES: dict[str, _Query] = {
    "params": lambda ids: sa.select(_P.c.run_id, _P.c.key, _P.c.value).where(ids(_P.c.run_id)),
    "tags": lambda ids: sa.select(_T.c.run_id, _T.c.key, _T.c.value).where(ids(_T.c.run_id)),
    "metrics": lambda ids: (
        sa.select(_LM.c.run_id, _LM.c.key, _LM.c.value, _LM.c.timestamp, _LM.c.step, _LM.c.is_nan)
        .where(ids(_LM.c.run_id))
        .order_by(_LM.c.run_id, _LM.c.key)
    ),
    "inputs": lambda ids: (
        sa.select(
            _I.c.run_id,
            _I.c.input_uuid,
            _D.c.name,
            _D.c.digest,
            _D.c.source_type,
            _D.c.source,
            _D.c.schema,
            _D.c.profile,
            _IT.c.key,
            _IT.c.value,
        )
        .select_from(
            _I.join(_D, _D.c.dataset_uuid == _I.c.dataset_uuid).outerjoin(
                _IT, _IT.c.input_uuid == _I.c.input_uuid
            )
        )
        .where(ids(_I.c.run_id))
        .order_by(_I.c.run_id, _D.c.name, _D.c.digest, _I.c.input_uuid, _IT.c.key)
    ),
    "model_inputs": lambda ids: (
        sa.select(_MI.c.run_id, _MI.c.model_id).where(ids(_MI.c.run_id)).order_by(_MI.c.model_id)
    ),
    "model_outputs": lambda ids: (
        sa.select(_MO.c.run_id, _MO.c.model_id, _MO.c.step).where(ids(_MO.c.run_id)).order_by(_MO.c.model_id)
    ),
}


def _json_ids(column: Any) -> sa.ColumnElement[bool]:
    # SQLite: the ids travel as one JSON array, read back by json_each.
    values = sa.func.json_each(sa.bindparam("ids")).table_valued("value")
    return cast(sa.ColumnElement[bool], column.in_(sa.select(values.c.value)))


def _array_ids(column: Any) -> sa.ColumnElement[bool]:
    # PostgreSQL: the ids travel as one text[] parameter.
    return cast(sa.ColumnElement[bool], column == sa.any_(sa.bindparam("ids")))


def _expanded_ids(column: Any) -> sa.ColumnElement[bool]:
    return cast(sa.ColumnElement[bool], column.in_(sa.bindparam("ids", expanding=True)))


@functools.cache
def _statement(name: str, dialect: str) -> sa.Select[Any]:
    """The query ``name`` for ``dialect``; built once, so the driver's statement cache keeps it."""
    ids = {"sqlite": _json_ids, "postgresql": _array_ids}.get(dialect, _expanded_ids)
    return _QUERIES[name](ids)


def _fetch(conn: Connection, name: str, ids: list[str]) -> list[tuple[Any, ...]]:
    """Rows of query ``name`` for the runs ``ids``, as plain tuples.

    With one parameter for all ids, SQLite and PostgreSQL run the query on the driver's cursor:
    rendering an expanding IN of a thousand ids and building SQLAlchemy rows cost more than the
    queries themselves on a page of 1,000 runs. Other dialects keep the expanding IN.
    """
    dialect = conn.dialect.name
    stmt = _statement(name, dialect)
    if dialect == "sqlite":
        return driver.fetch_all(conn, stmt, {"ids": json.dumps(ids)})
    if dialect == "postgresql":
        return driver.fetch_all(conn, stmt, {"ids": ids})
    return [tuple(row) for row in conn.execute(stmt, {"ids": ids})]


def to_run_info(row: Any) -> RunInfo:
    """A :class:`RunInfo` from a row holding :data:`RUN_COLUMNS`."""
    return RunInfo(
        run_id=row.run_id,
        experiment_id=str(row.experiment_id),
        run_name=row.name,
        user_id=row.user_id,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        artifact_uri=row.artifact_uri,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
    )


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def load_runs(conn: Connection, rows: Sequence[Any]) -> list[Run]:
    """Full :class:`Run` entities for run rows (holding :data:`RUN_COLUMNS`), in the rows' order."""
    if not rows:
        return []
    ids = [row.run_id for row in rows]
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, list[Metric]] = {i: [] for i in ids}
    inputs: dict[str, list[DatasetInput]] = {i: [] for i in ids}
    model_inputs: dict[str, list[ModelInput]] = {i: [] for i in ids}
    model_outputs: dict[str, list[ModelOutput]] = {i: [] for i in ids}
    nan = math.nan
    for chunk in _chunks(ids):
        for p in _fetch(conn, "params", chunk):
            params[p[0]][p[1]] = p[2]
        for t in _fetch(conn, "tags", chunk):
            tags[t[0]][t[1]] = t[2]
        for m in _fetch(conn, "metrics", chunk):
            metrics[m[0]].append(Metric(m[1], nan if m[5] else m[2], m[3], m[4]))
        _collect_inputs(_fetch(conn, "inputs", chunk), inputs)
        for mi in _fetch(conn, "model_inputs", chunk):
            model_inputs[mi[0]].append(ModelInput(mi[1]))
        for mo in _fetch(conn, "model_outputs", chunk):
            model_outputs[mo[0]].append(ModelOutput(mo[1], mo[2]))
    return [
        Run(
            info=to_run_info(row),
            data=RunData(tuple(metrics[row.run_id]), params[row.run_id], tags[row.run_id]),
            inputs=RunInputs(tuple(inputs[row.run_id]), tuple(model_inputs[row.run_id])),
            outputs=RunOutputs(tuple(model_outputs[row.run_id])),
        )
        for row in rows
    ]


def _collect_inputs(rows: list[tuple[Any, ...]], out: dict[str, list[DatasetInput]]) -> None:
    """Group rows of the "inputs" query (one per input and input tag) into dataset inputs."""
    current: tuple[str, str] | None = None
    dataset: Dataset | None = None
    input_tags: list[InputTag] = []

    def flush() -> None:
        if current is not None and dataset is not None:
            out[current[0]].append(DatasetInput(dataset, tuple(input_tags)))

    for run_id, input_uuid, name, digest, source_type, source, schema_, profile, key, value in rows:
        if current != (run_id, input_uuid):
            flush()
            current = (run_id, input_uuid)
            dataset = Dataset(name, digest, source_type, source, schema_, profile)
            input_tags = []
        if key is not None:
            input_tags.append(InputTag(key, value))
    flush()
