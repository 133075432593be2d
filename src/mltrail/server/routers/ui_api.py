"""The web UI's own JSON routes under ``/ajax-api/mltrail/ui`` (and ``/api/mltrail/ui``).

They answer what the MLflow protocol has no call for: downsampled chart series, runs grouped
by a key with metric aggregates, run counts and the column keys of experiments. Requests are
parsed like the protocol's (GET query strings, JSON bodies), errors have the protocol's shape,
and doubles that JSON cannot hold are the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
(``±max double``, what stores keep for a logged ±inf, reads as an infinity here). The routes are
documented in ``docs/ui.md``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from mltrail.errors import InvalidArgumentError
from mltrail.server.deps import StoreDep, json_response, request_fields
from mltrail.server.parsing import Field, Kind, Message
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routers._messages import (
    VIEW_TYPE_VALUES,
    enum_field,
    int32,
    repeated_string,
    string,
    view_type_of,
)
from mltrail.server.routing import rpc
from mltrail.tracking.downsample import XAxis
from mltrail.tracking.ui_views import (
    MAX_DOUBLE,
    MetricAggregate,
    MetricSeries,
    check_series_request,
)

__all__ = ["UI_PREFIXES", "router"]

router = APIRouter()

UI_PREFIXES = ("/ajax-api/mltrail/ui", "/api/mltrail/ui")
DEFAULT_MAX_POINTS = 1000
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

SERIES = Message(
    "GetMetricSeries",
    (
        repeated_string("run_id", required=True),
        repeated_string("metric_key", required=True),
        int32("max_points"),
        string("x_axis"),
        Field("x_min", Kind.DOUBLE),
        Field("x_max", Kind.DOUBLE),
    ),
)
_RUN_SELECTION = (
    repeated_string("experiment_ids"),
    string("filter"),
    enum_field("run_view_type", VIEW_TYPE_VALUES),
)
GROUPS = Message(
    "GroupRuns", (*_RUN_SELECTION, string("group_by", required=True), repeated_string("metric_keys"))
)
COUNT = Message("CountRuns", _RUN_SELECTION)
COLUMNS = Message("GetExperimentColumns", (repeated_string("experiment_id", required=True),))

Fields = dict[str, Any]


def encode_double(value: float | None) -> float | str | None:
    """A double for JSON: NaN and ±inf (or ±max double, a clamped infinity) as strings."""
    if value is None:
        return None
    if value != value:
        return "NaN"
    if value >= MAX_DOUBLE:
        return "Infinity"
    if value <= -MAX_DOUBLE:
        return "-Infinity"
    return value


def _series_to_dict(series: MetricSeries) -> Fields:
    points = series.points
    return {
        "run_id": series.run_id,
        "metric_key": series.metric_key,
        "total_points": series.total_points,
        "downsampled": series.downsampled,
        "steps": [p.step for p in points],
        "timestamps": [p.timestamp for p in points],
        "values": [
            v if -MAX_DOUBLE < v < MAX_DOUBLE else encode_double(v) for v in (p.value for p in points)
        ],
    }


def _aggregate_to_dict(aggregate: MetricAggregate) -> Fields:
    return {
        "count": aggregate.count,
        "mean": encode_double(aggregate.mean),
        "min": encode_double(aggregate.min),
        "max": encode_double(aggregate.max),
    }


def _bound(value: float | None, name: str, *, lower: bool) -> int | None:
    """An inclusive integer bound of the x range from a (possibly fractional) chart coordinate."""
    if value is None:
        return None
    if math.isnan(value):
        raise InvalidArgumentError(f"{name} must be a number, got NaN.")
    if math.isinf(value):
        if (value < 0) == lower:
            return None  # an open end
        return _INT64_MAX if lower else _INT64_MIN
    bound = math.ceil(value) if lower else math.floor(value)
    return min(max(bound, _INT64_MIN), _INT64_MAX)


@rpc(
    router,
    "metric-series",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.READ, "run_id"),
    prefixes=UI_PREFIXES,
)
def get_metric_series(req: Annotated[Fields, Depends(request_fields(SERIES))], store: StoreDep) -> Response:
    """``{"series": [...]}``: each (run, key) series, downsampled min/max-preserving."""
    max_points = req.get("max_points", DEFAULT_MAX_POINTS)
    x_axis = req.get("x_axis") or "step"
    run_ids, keys = check_series_request(req["run_id"], req["metric_key"], max_points, x_axis)
    axis: XAxis = "step" if x_axis == "step" else "timestamp"
    x_min = _bound(req.get("x_min"), "x_min", lower=True)
    x_max = _bound(req.get("x_max"), "x_max", lower=False)
    series = store.get_metric_series(run_ids, keys, max_points, axis, x_min, x_max)
    return json_response({"series": [_series_to_dict(s) for s in series]})


def _selection(req: Fields) -> tuple[list[str], str, Any]:
    return req.get("experiment_ids", []), req.get("filter", ""), view_type_of(req.get("run_view_type"))


@rpc(
    router,
    "runs/groups",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
    prefixes=UI_PREFIXES,
)
def group_runs(req: Annotated[Fields, Depends(request_fields(GROUPS))], store: StoreDep) -> Response:
    """``{"groups", "total_runs", "truncated"}``: runs grouped by a param, tag or attribute."""
    experiment_ids, filter_string, view_type = _selection(req)
    # The store checks group_by and metric_keys (every implementation does, with the same errors).
    result = store.group_runs(
        experiment_ids,
        req["group_by"],
        req.get("metric_keys", []),
        filter_string=filter_string,
        run_view_type=view_type,
    )
    groups = [
        {
            "value": g.value,
            "run_count": g.run_count,
            "metrics": {k: _aggregate_to_dict(a) for k, a in g.metrics.items()},
        }
        for g in result.groups
    ]
    return json_response({"groups": groups, "total_runs": result.total_runs, "truncated": result.truncated})


@rpc(
    router,
    "runs/count",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
    prefixes=UI_PREFIXES,
)
def count_runs(req: Annotated[Fields, Depends(request_fields(COUNT))], store: StoreDep) -> Response:
    """``{"count"}``: how many runs a search with this filter would return."""
    experiment_ids, filter_string, view_type = _selection(req)
    count = store.count_runs(experiment_ids, filter_string=filter_string, run_view_type=view_type)
    return json_response({"count": count})


@rpc(
    router,
    "experiments/columns",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_id"),
    prefixes=UI_PREFIXES,
)
def get_experiment_columns(
    req: Annotated[Fields, Depends(request_fields(COLUMNS))], store: StoreDep
) -> Response:
    """``{"params", "metrics", "tags"}``: the sorted distinct keys of the experiments' active runs."""
    columns = store.get_experiment_columns(req["experiment_id"])
    return json_response({"params": columns.params, "metrics": columns.metrics, "tags": columns.tags})
