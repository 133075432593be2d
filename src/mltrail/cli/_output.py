"""Output of the CLI: aligned tables for people, JSON for scripts.

Entities become plain dicts here (times in epoch milliseconds, non-finite floats as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` so the JSON stays valid); tables show UTC times.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click

from mltrail.tracking.entities import DatasetInput, Experiment, Metric, Run

__all__ = [
    "echo_json",
    "echo_table",
    "experiment_to_dict",
    "format_duration",
    "format_time",
    "json_float",
    "run_to_dict",
]


def json_float(value: float) -> float | str:
    """A float as JSON allows it: NaN and infinities become strings, as on the MLflow wire."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def format_time(ms: int | None) -> str:
    """Epoch milliseconds as ``YYYY-MM-DD HH:MM:SS`` in UTC, or ``-`` when unset."""
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(start_ms: int | None, end_ms: int | None) -> str:
    """A run's duration, e.g. ``3.2s`` or ``4m05s``; ``-`` while unknown."""
    if not start_ms or not end_ms or end_ms < start_ms:
        return "-"
    seconds = (end_ms - start_ms) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, empty: str) -> None:
    """Print rows under headers, each column padded to its widest cell.

    Args:
        headers: Column titles.
        rows: Cells as strings, one sequence per row.
        empty: Message printed instead of a table when there are no rows.
    """
    if not rows:
        click.echo(empty)
        return
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    click.echo(line(headers))
    click.echo(line(["-" * w for w in widths]))
    for row in rows:
        click.echo(line(row))


def echo_json(value: Any) -> None:
    """Print a JSON document (indented, keys in insertion order)."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False))


def experiment_to_dict(experiment: Experiment) -> dict[str, Any]:
    """An experiment as a JSON-ready dict."""
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": str(experiment.lifecycle_stage),
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "tags": dict(experiment.tags),
    }


def _metric_to_dict(metric: Metric) -> dict[str, Any]:
    return {"value": json_float(metric.value), "step": metric.step, "timestamp": metric.timestamp}


def _dataset_input_to_dict(dataset_input: DatasetInput) -> dict[str, Any]:
    dataset = dataset_input.dataset
    return {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
        "schema": dataset.schema,
        "profile": dataset.profile,
        "tags": {tag.key: tag.value for tag in dataset_input.tags},
    }


def run_to_dict(run: Run) -> dict[str, Any]:
    """A run as a JSON-ready dict: info, params, latest metrics, tags, inputs and outputs."""
    info = run.info
    return {
        "info": {
            "run_id": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "user_id": info.user_id,
            "status": str(info.status),
            "start_time": info.start_time,
            "end_time": info.end_time,
            "artifact_uri": info.artifact_uri,
            "lifecycle_stage": str(info.lifecycle_stage),
        },
        "params": dict(sorted(run.data.params.items())),
        "metrics": {m.key: _metric_to_dict(m) for m in sorted(run.data.latest_metrics, key=lambda m: m.key)},
        "tags": dict(sorted(run.data.tags.items())),
        "inputs": {
            "datasets": [_dataset_input_to_dict(d) for d in run.inputs.dataset_inputs],
            "models": [m.model_id for m in run.inputs.model_inputs],
        },
        "outputs": {
            "models": [{"model_id": m.model_id, "step": m.step} for m in run.outputs.model_outputs],
        },
    }
