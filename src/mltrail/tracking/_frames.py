"""Turning runs into a pandas DataFrame for ``search_runs(output_format="pandas")``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mltrail.errors import MissingDependencyError
from mltrail.tracking.entities import Run

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BASE_COLUMNS", "runs_to_frame"]

BASE_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: info columns, then ``metrics.*``, ``params.*`` and ``tags.*`` (sorted).

    ``start_time`` and ``end_time`` are timezone-aware (UTC) datetimes; cells a run lacks are
    NaN (metrics) or None (params, tags, end_time).

    Raises:
        MissingDependencyError: pandas is not installed.
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependencyError("pandas", "data") from exc

    metric_keys = sorted({m.key for r in runs for m in r.data.latest_metrics})
    param_keys = sorted({k for r in runs for k in r.data.params})
    tag_keys = sorted({k for r in runs for k in r.data.tags})
    columns: dict[str, list[Any]] = {name: [] for name in BASE_COLUMNS}
    for key in metric_keys:
        columns[f"metrics.{key}"] = []
    for key in param_keys:
        columns[f"params.{key}"] = []
    for key in tag_keys:
        columns[f"tags.{key}"] = []
    for run in runs:
        info = run.info
        columns["run_id"].append(info.run_id)
        columns["experiment_id"].append(info.experiment_id)
        columns["status"].append(info.status.value)
        columns["artifact_uri"].append(info.artifact_uri)
        columns["start_time"].append(info.start_time)
        columns["end_time"].append(info.end_time)
        metrics = run.data.metrics
        for key in metric_keys:
            columns[f"metrics.{key}"].append(metrics.get(key, float("nan")))
        for key in param_keys:
            columns[f"params.{key}"].append(run.data.params.get(key))
        for key in tag_keys:
            columns[f"tags.{key}"].append(run.data.tags.get(key))
    frame = pd.DataFrame(columns)
    for name in ("start_time", "end_time"):
        frame[name] = pd.to_datetime(frame[name], unit="ms", utc=True)
    for key in metric_keys:
        frame[f"metrics.{key}"] = frame[f"metrics.{key}"].astype("float64")
    return frame
