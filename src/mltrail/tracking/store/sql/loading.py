"""Building :class:`Run` entities: run rows plus their data, loaded with one query per table.

A page of runs costs a fixed number of queries whatever its size (no N+1): params, tags,
latest metrics, dataset inputs (with their tags) and model inputs/outputs, each selected for
all run ids of the page at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

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


def _ids() -> sa.BindParameter[Any]:
    return sa.bindparam("ids", expanding=True)


_P, _T, _LM = schema.params, schema.tags, schema.latest_metrics
_D, _I, _IT = schema.datasets, schema.inputs, schema.input_tags
_MI, _MO = schema.model_inputs, schema.model_outputs

_Q_PARAMS = sa.select(_P.c.run_id, _P.c.key, _P.c.value).where(_P.c.run_id.in_(_ids()))
_Q_TAGS = sa.select(_T.c.run_id, _T.c.key, _T.c.value).where(_T.c.run_id.in_(_ids()))
_Q_METRICS = (
    sa.select(_LM.c.run_id, _LM.c.key, _LM.c.value, _LM.c.timestamp, _LM.c.step, _LM.c.is_nan)
    .where(_LM.c.run_id.in_(_ids()))
    .order_by(_LM.c.run_id, _LM.c.key)
)
_Q_INPUTS = (
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
    .where(_I.c.run_id.in_(_ids()))
    .order_by(_I.c.run_id, _D.c.name, _D.c.digest, _I.c.input_uuid, _IT.c.key)
)
_Q_MODEL_INPUTS = (
    sa.select(_MI.c.run_id, _MI.c.model_id).where(_MI.c.run_id.in_(_ids())).order_by(_MI.c.model_id)
)
_Q_MODEL_OUTPUTS = (
    sa.select(_MO.c.run_id, _MO.c.model_id, _MO.c.step)
    .where(_MO.c.run_id.in_(_ids()))
    .order_by(_MO.c.model_id)
)


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
        arg = {"ids": chunk}
        for p in conn.execute(_Q_PARAMS, arg):
            params[p[0]][p[1]] = p[2]
        for t in conn.execute(_Q_TAGS, arg):
            tags[t[0]][t[1]] = t[2]
        for m in conn.execute(_Q_METRICS, arg):
            metrics[m[0]].append(Metric(m[1], nan if m[5] else m[2], m[3], m[4]))
        _collect_inputs(conn, arg, inputs)
        for mi in conn.execute(_Q_MODEL_INPUTS, arg):
            model_inputs[mi[0]].append(ModelInput(mi[1]))
        for mo in conn.execute(_Q_MODEL_OUTPUTS, arg):
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


def _collect_inputs(conn: Connection, arg: dict[str, list[str]], out: dict[str, list[DatasetInput]]) -> None:
    current: tuple[str, str] | None = None
    dataset: Dataset | None = None
    input_tags: list[InputTag] = []

    def flush() -> None:
        if current is not None and dataset is not None:
            out[current[0]].append(DatasetInput(dataset, tuple(input_tags)))

    for r in conn.execute(_Q_INPUTS, arg):
        if current != (r.run_id, r.input_uuid):
            flush()
            current = (r.run_id, r.input_uuid)
            dataset = Dataset(r.name, r.digest, r.source_type, r.source, r.schema, r.profile)
            input_tags = []
        if r.key is not None:
            input_tags.append(InputTag(r.key, r.value))
    flush()
