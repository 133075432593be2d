"""Write the search runs into an MLflow server's database with MLflow's own SQLAlchemy store.

Runs inside ``bench/.venv-mlflow``: ``python _server_mlflow_seed.py URI EXPERIMENT_ID N ARTIFACT_ROOT
NOW_MS``; prints one JSON line. Creating 10,000 runs through MLflow's REST API would take many
minutes, so ``bench/server.py`` seeds MLflow's database directly with the rows its API would have
written (run, two metrics and their latest values, one param, the run-name tag), from the same
generator (``_server_data.py``) that mltrail's setup sends through the API.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server_data import search_runs_data
from mlflow.store.tracking.dbmodels.models import (
    SqlLatestMetric,
    SqlMetric,
    SqlParam,
    SqlRun,
    SqlTag,
)
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore


def seed(uri: str, experiment_id: str, n: int, artifact_root: str, now: int) -> int:
    """Insert ``n`` finished runs into ``experiment_id`` in one transaction; returns ``n``."""
    store = SqlAlchemyStore(uri, artifact_root)  # type: ignore[no-untyped-call]  # MLflow ships no types
    rows: list[object] = []
    for run in search_runs_data(n):
        run_id = uuid.uuid4().hex
        rows.append(
            SqlRun(
                run_uuid=run_id,
                name=run.name,
                experiment_id=int(experiment_id),
                user_id="bench",
                status="FINISHED",
                start_time=now - n + run.index,
                end_time=now,
                lifecycle_stage="active",
                artifact_uri=f"{artifact_root.rstrip('/')}/{experiment_id}/{run_id}/artifacts",
                source_type="LOCAL",
                source_name="",
                entry_point_name="",
                source_version="",
            )
        )
        for key, value in (("accuracy", run.accuracy), ("loss", run.loss)):
            rows.append(SqlMetric(run_uuid=run_id, key=key, value=value, timestamp=now, step=0, is_nan=False))
            rows.append(
                SqlLatestMetric(run_uuid=run_id, key=key, value=value, timestamp=now, step=0, is_nan=False)
            )
        rows.append(SqlParam(run_uuid=run_id, key="lr", value=run.lr))
        rows.append(SqlTag(run_uuid=run_id, key="mlflow.runName", value=run.name))
    with store.ManagedSessionMaker() as session:
        session.add_all(rows)
    return n


if __name__ == "__main__":
    uri, experiment_id, size, root, now_ms = sys.argv[1:6]
    written = seed(uri, experiment_id, int(size), root, int(now_ms))
    print(json.dumps({"runs": written}))
