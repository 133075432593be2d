"""Metric history RPCs (spec REST-TRACKING §2.4): full, sampled per interval, and the UI's bulk read."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from mltrail.errors import InvalidArgumentError
from mltrail.server.deps import StoreDep, json_response, request_fields
from mltrail.server.parsing import Message
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routers._messages import int32, int64, repeated_string, string
from mltrail.server.routers.runs import run_id_of
from mltrail.server.routing import AJAX_TRACKING_PREFIX, rpc
from mltrail.tracking.entities import Metric
from mltrail.tracking.wire import encode_double, metric_to_dict

__all__ = ["router"]

router = APIRouter()

MAX_BULK_RUN_IDS = 100
MAX_INTERVAL_RESULTS = 2500
MAX_BULK_RESULTS = 25000

GET_HISTORY = Message(
    "GetMetricHistory",
    (
        string("run_id"),
        string("run_uuid"),
        string("metric_key", required=True),
        string("page_token"),
        int32("max_results"),
    ),
)
BULK_INTERVAL = Message(
    "GetMetricHistoryBulkInterval",
    (
        repeated_string("run_ids", required=True),
        string("metric_key", required=True),
        int64("start_step"),
        int64("end_step"),
        int32("max_results"),
    ),
)
BULK = Message(
    "GetMetricHistoryBulk",
    (repeated_string("run_id", required=True), string("metric_key", required=True), int32("max_results")),
)

Fields = dict[str, Any]


def _check_run_ids(run_ids: list[str]) -> None:
    if len(run_ids) > MAX_BULK_RUN_IDS:
        raise InvalidArgumentError(
            f"GetMetricHistoryBulk requests must specify at most {MAX_BULK_RUN_IDS} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )


def _metric_dicts(points: list[Metric], with_run_id: bool) -> list[dict[str, Any]]:
    """``metric_to_dict`` of every point; the common shape (finite value, no dataset, model or
    run id to add) is built inline, as long histories spend most of their encoding time here."""
    out: list[dict[str, Any]] = []
    append = out.append
    for m in points:
        value = m.value
        if (
            value - value == 0.0  # false for NaN and ±inf, which are encoded as strings
            and m.dataset_name is None
            and m.dataset_digest is None
            and m.model_id is None
            and (m.run_id is None or not with_run_id)
        ):
            append({"key": m.key, "value": value, "timestamp": m.timestamp, "step": m.step})
        else:
            append(metric_to_dict(m, with_run_id=with_run_id))
    return out


def _metrics_body(points: list[Metric], *, with_run_id: bool, token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if points:
        body["metrics"] = _metric_dicts(points, with_run_id)
    if token:
        body["next_page_token"] = token
    return body


def _point_dicts(
    key: str, points: list[tuple[float, int, int]], run_id: str | None = None
) -> list[dict[str, Any]]:
    """``Metric`` messages of one metric's bare points (the same JSON as ``metric_to_dict``)."""
    # value - value is 0.0 exactly for finite values; NaN and ±inf go through encode_double.
    if run_id is None:
        return [
            {"key": key, "value": v if v - v == 0.0 else encode_double(v), "timestamp": ts, "step": step}
            for v, ts, step in points
        ]
    return [
        {
            "key": key,
            "value": v if v - v == 0.0 else encode_double(v),
            "timestamp": ts,
            "step": step,
            "run_id": run_id,
        }
        for v, ts, step in points
    ]


@rpc(
    router,
    "metrics/get-history",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.READ, "run_id"),
)
def get_metric_history(
    req: Annotated[Fields, Depends(request_fields(GET_HISTORY))], store: StoreDep
) -> Response:
    """GetMetricHistory → ``{"metrics", "next_page_token"}``, ordered by (timestamp, step, value)."""
    max_results = req.get("max_results")
    if max_results is not None and max_results <= 0:
        raise InvalidArgumentError(
            f"Invalid value {max_results} for parameter 'max_results' supplied: must be positive."
        )
    run_id, key, token = run_id_of(req), req["metric_key"], req.get("page_token") or None
    points = store.get_metric_history_points(run_id, key, max_results=max_results, page_token=token)
    if points is None:
        page = store.get_metric_history(run_id, key, max_results=max_results, page_token=token)
        return json_response(_metrics_body(page.items, with_run_id=False, token=page.next_page_token))
    body: dict[str, Any] = {}
    if points.items:
        body["metrics"] = _point_dicts(key, points.items)
    if points.next_page_token:
        body["next_page_token"] = points.next_page_token
    return json_response(body)


@rpc(
    router,
    "metrics/get-history-bulk-interval",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.READ, "run_ids"),
)
def get_metric_history_bulk_interval(
    req: Annotated[Fields, Depends(request_fields(BULK_INTERVAL))], store: StoreDep
) -> Response:
    """GetMetricHistoryBulkInterval → ``{"metrics"}`` sampled per run, each with its ``run_id``."""
    run_ids = req["run_ids"]
    _check_run_ids(run_ids)
    start, end = req.get("start_step"), req.get("end_step")
    if (start is None) != (end is None):
        raise InvalidArgumentError("If either start step or end step are specified, both must be specified.")
    if start is not None and end is not None and start > end:
        raise InvalidArgumentError("End step must be greater than start step.")
    max_results = req.get("max_results", MAX_INTERVAL_RESULTS)
    if not 1 <= max_results <= MAX_INTERVAL_RESULTS:
        raise InvalidArgumentError(
            f"max_results must be between 1 and {MAX_INTERVAL_RESULTS}, got {max_results}."
        )
    points = store.get_metric_history_bulk_interval(
        run_ids, req["metric_key"], start_step=start, end_step=end, max_results=max_results
    )
    return json_response(_metrics_body(points, with_run_id=True))


@rpc(
    router,
    "metrics/get-history-bulk",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.READ, "run_id"),
    prefixes=AJAX_TRACKING_PREFIX,
)
def get_metric_history_bulk(
    req: Annotated[Fields, Depends(request_fields(BULK))], store: StoreDep
) -> Response:
    """The UI's bulk history: ``{"metrics"}`` of several runs, by run id then (timestamp, step, value)."""
    run_ids = sorted(set(req["run_id"]))
    _check_run_ids(run_ids)
    max_results = req.get("max_results", MAX_BULK_RESULTS)
    if not 1 <= max_results <= MAX_BULK_RESULTS:
        raise InvalidArgumentError(
            f"max_results must be between 1 and {MAX_BULK_RESULTS}, got {max_results}."
        )
    key = req["metric_key"]
    out: list[dict[str, Any]] = []
    for run_id in run_ids:
        if len(out) >= max_results:
            break
        bare = store.get_metric_history_points(run_id, key)
        if bare is not None:
            out.extend(_point_dicts(key, bare.items, run_id))
        else:
            history = store.get_metric_history(run_id, key)
            out.extend(_metric_dicts([dataclasses.replace(m, run_id=run_id) for m in history.items], True))
    return json_response({"metrics": out[:max_results]} if out else {})
