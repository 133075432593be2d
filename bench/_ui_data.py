"""The data both UIs are measured on, and how it is written into each tool's SQLite database.

One experiment holds ``n`` finished runs, each with five params (``p0`` .. ``p4``) and the latest
value of five metrics (``m0`` .. ``m4``); a second experiment holds one run whose metric ``big``
has ``big_points`` points (steps 0, 1, 2, ...). The values come from a seeded generator, so both
tools receive exactly the same rows.

mltrail's database is written through mltrail's own API (:class:`~mltrail.tracking.client.TrackingClient`
on the ``sqlite:///`` URI, ``log_batch``) before its server starts. MLflow's database is first
created by MLflow's own store (``bench/ui.py`` does that), then filled with ``sqlite3``
``executemany`` in the rows MLflow's SQLAlchemy store would have written (``experiments``,
``experiment_tags``, ``runs``, ``params``, ``metrics``, ``latest_metrics``, ``tags``): MLflow's
client would take many minutes for the runs alone on this machine.
"""

from __future__ import annotations

import math
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BIG_METRIC",
    "METRIC_KEYS",
    "PARAM_KEYS",
    "BenchData",
    "BenchRun",
    "bench_runs",
    "big_value",
    "big_values",
    "load_mlflow",
    "load_mltrail",
    "now_ms",
]

PARAM_KEYS = ("p0", "p1", "p2", "p3", "p4")
METRIC_KEYS = ("m0", "m1", "m2", "m3", "m4")
BIG_METRIC = "big"
EXPERIMENT_NAME = "ui-bench"
BIG_EXPERIMENT_NAME = "ui-bench-big"
BIG_RUN_NAME = "big-metric-run"
_USER = "bench"
_OPTIMIZERS = ("adam", "sgd", "adamw", "rmsprop")
_BATCH_SIZES = ("16", "32", "64", "128", "256")
_CHUNK = 1_000
# MLflow's UI opens an experiment without this tag as a GenAI one (traces overview); the tag is
# what MLflow itself stores once a user marks an experiment as model training. mltrail ignores it.
EXPERIMENT_TAGS = (("mlflow.experimentKind", "custom_model_development"),)


@dataclass(frozen=True)
class BenchRun:
    """One run of the runs table: its name, start time, params and latest metric values."""

    index: int
    name: str
    start_time: int
    params: tuple[tuple[str, str], ...]
    metrics: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class BenchData:
    """What was loaded into one tool's database: the ids the measurements open."""

    experiment_id: str
    big_experiment_id: str
    big_run_id: str
    runs: int
    big_points: int
    top_run_id: str  # the run with the highest m0: first row once sorted by m0, descending
    top_run_name: str


def bench_runs(n: int, now_ms: int) -> Iterator[BenchRun]:
    """The ``n`` runs of the table, the same for both tools (seeded); the last one is the newest."""
    rng = random.Random(20261127)
    for i in range(n):
        params = (
            ("p0", f"{10 ** -rng.randint(1, 5):g}"),
            ("p1", rng.choice(_BATCH_SIZES)),
            ("p2", rng.choice(_OPTIMIZERS)),
            ("p3", str(rng.randint(1, 12))),
            ("p4", f"seed-{i}"),
        )
        metrics = tuple((key, round(rng.random() * (k + 1), 6)) for k, key in enumerate(METRIC_KEYS))
        yield BenchRun(i, f"run-{i:05d}", now_ms - (n - i) * 1_000, params, metrics)


def big_value(step: int) -> float:
    """The big metric's value at ``step``: a decaying curve with a periodic wobble."""
    return 1.0 / (1.0 + step / 10_000) + 0.05 * math.sin(step / 500)


def big_values(points: int) -> Iterator[tuple[int, float]]:
    """``(step, value)`` of every point of the big metric."""
    for step in range(points):
        yield step, big_value(step)


# -- mltrail: its own client on the SQLite file ------------------------------------------------


def load_mltrail(db_path: Path, artifact_root: str, n: int, big_points: int, now_ms: int) -> BenchData:
    """Write the runs and the big metric into a fresh mltrail SQLite database.

    ``artifact_root`` is the server's default artifact root (``mlflow-artifacts:/``), so the
    experiments look as if the server had created them. Every run takes three store calls:
    ``create_run``, one ``log_batch`` with its params and metrics, and ``update_run_info`` to
    finish it; the big metric goes in batches of 1,000 points.
    """
    from mltrail.config import Settings
    from mltrail.tracking.client import TrackingClient
    from mltrail.tracking.entities import Metric, Param, RunStatus

    settings = Settings(artifact_root=artifact_root)
    with TrackingClient(f"sqlite:///{db_path}", settings=settings) as client:
        store = client.store
        experiment_id = client.create_experiment(EXPERIMENT_NAME, tags=dict(EXPERIMENT_TAGS))
        # The same user (and ``mlflow.user`` tag) as MLflow's rows, not the login running the script.
        user_tag = {"mlflow.user": _USER}
        top = ("", "", -1.0)
        for run in bench_runs(n, now_ms):
            run_id = client.create_run(
                experiment_id, start_time=run.start_time, tags=user_tag, run_name=run.name
            ).info.run_id
            if run.metrics[0][1] > top[2]:
                top = (run_id, run.name, run.metrics[0][1])
            store.log_batch(
                run_id,
                metrics=[Metric(k, v, run.start_time + 500, 0) for k, v in run.metrics],
                params=[Param(k, v) for k, v in run.params],
            )
            store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=run.start_time + 900)
        big_experiment_id = client.create_experiment(BIG_EXPERIMENT_NAME, tags=dict(EXPERIMENT_TAGS))
        big_run_id = client.create_run(
            big_experiment_id, start_time=now_ms, tags=user_tag, run_name=BIG_RUN_NAME
        ).info.run_id
        batch: list[Metric] = []
        for step, value in big_values(big_points):
            batch.append(Metric(BIG_METRIC, value, now_ms + step, step))
            if len(batch) == _CHUNK:
                store.log_batch(big_run_id, metrics=batch)
                batch = []
        if batch:
            store.log_batch(big_run_id, metrics=batch)
        store.update_run_info(big_run_id, status=RunStatus.FINISHED, end_time=now_ms + big_points)
    return BenchData(experiment_id, big_experiment_id, big_run_id, n, big_points, top[0], top[1])


# -- MLflow: rows written with sqlite3 into the schema `mlflow db upgrade` created ---------------


def _mlflow_experiment(conn: sqlite3.Connection, name: str, artifact_root: str, now_ms: int) -> int:
    cursor = conn.execute(
        "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)"
        " VALUES (?, ?, 'active', ?, ?)",
        (name, "", now_ms, now_ms),
    )
    experiment_id = cursor.lastrowid
    assert experiment_id is not None
    conn.executemany(
        "INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)",
        [(key, value, experiment_id) for key, value in EXPERIMENT_TAGS],
    )
    # MLflow sets the location from the new id, as its store does after the insert.
    conn.execute(
        "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
        (f"{artifact_root.rstrip('/')}/{experiment_id}", experiment_id),
    )
    return experiment_id


def _mlflow_run_row(
    run_id: str, name: str, experiment_id: int, start: int, end: int, artifact_root: str
) -> tuple[object, ...]:
    return (
        run_id,
        name,
        "LOCAL",
        "",
        "",
        _USER,
        "FINISHED",
        start,
        end,
        "",
        "active",
        f"{artifact_root.rstrip('/')}/{experiment_id}/{run_id}/artifacts",
        experiment_id,
        None,
    )


_RUN_INSERT = (
    "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
    " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_METRIC_INSERT = (
    "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)"
)
_LATEST_INSERT = (
    "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)"
)
_PARAM_INSERT = "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)"
_TAG_INSERT = "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)"


def load_mlflow(db_path: Path, artifact_root: str, n: int, big_points: int, now_ms: int) -> BenchData:
    """Fill an MLflow SQLite database (schema already created by MLflow) with the same data.

    Args:
        db_path: The database file, at MLflow's newest schema revision.
        artifact_root: The server's default artifact root (``mlflow-artifacts:/``).
        n: Runs in the table.
        big_points: Points of the big metric.
        now_ms: The time the data is dated from (the same for both tools).
    """
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            experiment_id = _mlflow_experiment(conn, EXPERIMENT_NAME, artifact_root, now_ms)
            runs: list[tuple[object, ...]] = []
            metrics: list[tuple[object, ...]] = []
            latest: list[tuple[object, ...]] = []
            params: list[tuple[str, str, str]] = []
            tags: list[tuple[str, str, str]] = []
            top = ("", "", -1.0)
            for run in bench_runs(n, now_ms):
                run_id = uuid.uuid4().hex
                if run.metrics[0][1] > top[2]:
                    top = (run_id, run.name, run.metrics[0][1])
                end = run.start_time + 900
                runs.append(
                    _mlflow_run_row(run_id, run.name, experiment_id, run.start_time, end, artifact_root)
                )
                for key, value in run.metrics:
                    metrics.append((key, value, run.start_time + 500, run_id, 0, 0))
                    latest.append((key, value, run.start_time + 500, 0, 0, run_id))
                params.extend((key, value, run_id) for key, value in run.params)
                tags.append(("mlflow.runName", run.name, run_id))
                tags.append(("mlflow.user", _USER, run_id))
            conn.executemany(_RUN_INSERT, runs)
            conn.executemany(_METRIC_INSERT, metrics)
            conn.executemany(_LATEST_INSERT, latest)
            conn.executemany(_PARAM_INSERT, params)
            conn.executemany(_TAG_INSERT, tags)

            big_experiment_id = _mlflow_experiment(conn, BIG_EXPERIMENT_NAME, artifact_root, now_ms)
            big_run_id = uuid.uuid4().hex
            end = now_ms + big_points
            conn.execute(
                _RUN_INSERT,
                _mlflow_run_row(big_run_id, BIG_RUN_NAME, big_experiment_id, now_ms, end, artifact_root),
            )
            conn.executemany(
                _TAG_INSERT,
                [("mlflow.runName", BIG_RUN_NAME, big_run_id), ("mlflow.user", _USER, big_run_id)],
            )
            conn.executemany(
                _METRIC_INSERT,
                (
                    (BIG_METRIC, value, now_ms + step, big_run_id, step, 0)
                    for step, value in big_values(big_points)
                ),
            )
            if big_points:
                last = big_points - 1
                conn.execute(
                    _LATEST_INSERT, (BIG_METRIC, big_value(last), now_ms + last, last, 0, big_run_id)
                )
    finally:
        conn.close()
    return BenchData(str(experiment_id), str(big_experiment_id), big_run_id, n, big_points, top[0], top[1])


def now_ms() -> int:
    """Milliseconds since the epoch, the date both tools' data is written at."""
    return int(time.time() * 1000)
