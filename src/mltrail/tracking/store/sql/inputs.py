"""Dataset and model inputs/outputs of runs, and the dataset summaries of experiments.

Datasets are deduplicated per experiment by (name, digest); a run records each dataset once
(a repeated input keeps its first tags).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.db import schema
from mltrail.tracking.entities import DatasetInput, DatasetSummary, ModelInput, ModelOutput
from mltrail.tracking.store.sql.dialect import insert_ignore, upsert

__all__ = ["CONTEXT_TAG", "log_datasets", "log_model_inputs", "log_model_outputs", "search_datasets"]

CONTEXT_TAG = "mlflow.data.context"
_D, _I, _IT = schema.datasets, schema.inputs, schema.input_tags
_MAX_SUMMARIES = 1000


def log_datasets(
    conn: Connection, dialect: str, run_id: str, experiment_id: int, datasets: Sequence[DatasetInput]
) -> None:
    """Record dataset inputs of a run, creating the experiment's datasets that do not exist yet."""
    if not datasets:
        return
    names = sorted({d.dataset.name for d in datasets})
    known: dict[tuple[str, str], str] = {
        (r.name, r.digest): r.dataset_uuid
        for r in conn.execute(
            sa.select(_D.c.dataset_uuid, _D.c.name, _D.c.digest).where(
                _D.c.experiment_id == experiment_id, _D.c.name.in_(names)
            )
        )
    }
    new_datasets = []
    for d in datasets:
        ds = d.dataset
        if (ds.name, ds.digest) not in known:
            known[(ds.name, ds.digest)] = ds_uuid = uuid.uuid4().hex
            new_datasets.append(
                {
                    "dataset_uuid": ds_uuid,
                    "experiment_id": experiment_id,
                    "name": ds.name,
                    "digest": ds.digest,
                    "source_type": ds.source_type,
                    "source": ds.source,
                    "schema": ds.schema,
                    "profile": ds.profile,
                }
            )
    if new_datasets:
        conn.execute(sa.insert(_D), new_datasets)
    used = set(
        conn.execute(
            sa.select(_I.c.dataset_uuid).where(
                _I.c.run_id == run_id,
                _I.c.dataset_uuid.in_({known[(d.dataset.name, d.dataset.digest)] for d in datasets}),
            )
        ).scalars()
    )
    new_inputs: list[dict[str, str]] = []
    new_tags: list[dict[str, str]] = []
    for d in datasets:
        ds_uuid = known[(d.dataset.name, d.dataset.digest)]
        if ds_uuid in used:
            continue
        used.add(ds_uuid)
        input_uuid = uuid.uuid4().hex
        new_inputs.append({"input_uuid": input_uuid, "dataset_uuid": ds_uuid, "run_id": run_id})
        new_tags.extend(
            {"input_uuid": input_uuid, "key": t.key, "value": t.value}
            for t in {t.key: t for t in d.tags}.values()
        )
    if new_inputs:
        conn.execute(sa.insert(_I), new_inputs)
    if new_tags:
        conn.execute(sa.insert(_IT), new_tags)


def log_model_inputs(conn: Connection, dialect: str, run_id: str, models: Sequence[ModelInput]) -> None:
    """Record logged models used by a run (repeats are ignored)."""
    if models:
        rows = [{"run_id": run_id, "model_id": m.model_id} for m in {m.model_id: m for m in models}.values()]
        conn.execute(insert_ignore(dialect, schema.model_inputs), rows)


def log_model_outputs(conn: Connection, dialect: str, run_id: str, models: Sequence[ModelOutput]) -> None:
    """Record logged models produced by a run (a repeated model keeps its latest step)."""
    if models:
        rows = [
            {"run_id": run_id, "model_id": m.model_id, "step": m.step}
            for m in {m.model_id: m for m in models}.values()
        ]
        conn.execute(upsert(dialect, schema.model_outputs, ("run_id", "model_id"), ("step",)), rows)


def search_datasets(conn: Connection, experiment_ids: Sequence[int]) -> list[DatasetSummary]:
    """Distinct (experiment, name, digest, context) of datasets used by runs of the experiments."""
    if not experiment_ids:
        return []
    query = (
        sa.select(_D.c.experiment_id, _D.c.name, _D.c.digest, _IT.c.value)
        .select_from(
            _D.join(_I, _I.c.dataset_uuid == _D.c.dataset_uuid).outerjoin(
                _IT, sa.and_(_IT.c.input_uuid == _I.c.input_uuid, _IT.c.key == CONTEXT_TAG)
            )
        )
        .where(_D.c.experiment_id.in_(list(experiment_ids)))
        .distinct()
        .order_by(_D.c.experiment_id, _D.c.name, _D.c.digest, _IT.c.value)
        .limit(_MAX_SUMMARIES)
    )
    return [DatasetSummary(str(r[0]), r[1], r[2], r[3]) for r in conn.execute(query)]
