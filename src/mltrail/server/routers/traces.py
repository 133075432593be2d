"""Trace RPCs (spec TRACING §3): create, get, batch get, search (V3 and legacy V2), delete, tags,
link to run, assessments, trace artifacts (spans JSON and attachments), the analytics RPCs
(trace metrics, filter correlation), and the legacy V2 trace lifecycle (start, end, get info)
that MLflow clients fall back to when StartTraceV3 is missing.

Fixed paths (``traces/get``, ``traces/batchGet``, ``traces/search`` ...) are registered before
``traces/{trace_id}`` so that they win.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mltrail.artifacts.paths import canonical_relpath
from mltrail.errors import InvalidArgumentError, MltrailError, NotFoundError
from mltrail.server.artifact_files import (
    direct_repository,
    file_location,
    open_file,
    sniff_media_type,
    stream_chunks,
)
from mltrail.server.deps import ContextDep, ServerContext, json_response, request_fields
from mltrail.server.parsing import Field, Kind, Message, check_content_type
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routers._messages import KEY_VALUE, enum_field, int32, int64, repeated_string, string
from mltrail.server.routing import TRACKING_PREFIXES, rpc
from mltrail.tracing.cleanup import remove_trace_artifacts
from mltrail.tracing.entities import Trace, TraceInfo, TraceState
from mltrail.tracing.store.analytics import Aggregation, AggregationType, ViewType
from mltrail.tracing.wire import (
    assessment_from_dict,
    assessment_to_dict,
    span_to_mlflow_dict,
    trace_info_from_dict,
    trace_info_to_dict,
    trace_info_to_v2_dict,
    trace_to_dict,
)
from mltrail.tracking.entities import Page
from mltrail.tracking.wire import loads

__all__ = ["router"]

router = APIRouter()

Fields = dict[str, Any]

V3_PREFIXES = ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow")
BOTH_PREFIXES = (*TRACKING_PREFIXES, *V3_PREFIXES)
_LINKED_PROMPTS = "mlflow.linkedPrompts"
_ATTACHMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")

GET_TRACE = Message("GetTrace", (string("trace_id", required=True), Field("allow_partial", Kind.BOOL)))
_SPANS_LOCATION = "mlflow.trace.spansLocation"
_SIZE_STATS = "mlflow.trace.sizeStats"
_V2_STATUS = {"TRACE_STATUS_UNSPECIFIED": 0, "OK": 1, "ERROR": 2, "IN_PROGRESS": 3}
START_TRACE_V2 = Message(
    "StartTrace",
    (
        string("experiment_id", required=True),
        int64("timestamp_ms"),
        Field("request_metadata", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
        Field("tags", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
    ),
)
END_TRACE_V2 = Message(
    "EndTrace",
    (
        int64("timestamp_ms"),
        enum_field("status", _V2_STATUS),
        Field("request_metadata", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
        Field("tags", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
    ),
)
AGGREGATION = Message(
    "MetricAggregation",
    (
        enum_field("aggregation_type", {"COUNT": 1, "SUM": 2, "AVG": 3, "PERCENTILE": 4, "MIN": 5, "MAX": 6}),
        Field("percentile_value", Kind.DOUBLE),
    ),
)
QUERY_METRICS = Message(
    "QueryTraceMetrics",
    (
        repeated_string("experiment_ids", required=True),
        enum_field("view_type", {"TRACES": 1, "SPANS": 2, "ASSESSMENTS": 3}),
        string("metric_name", required=True),
        Field("aggregations", Kind.MESSAGE, repeated=True, message=AGGREGATION),
        repeated_string("dimensions"),
        repeated_string("filters"),
        int64("time_interval_seconds"),
        int64("start_time_ms"),
        int64("end_time_ms"),
        int32("max_results"),
        string("page_token"),
    ),
)
CORRELATION = Message(
    "CalculateTraceFilterCorrelation",
    (
        repeated_string("experiment_ids", required=True),
        string("filter_string1", required=True),
        string("filter_string2", required=True),
        string("base_filter"),
    ),
)
BATCH_GET = Message("BatchGetTraces", (repeated_string("trace_ids"), repeated_string("experiment_ids")))
LOCATION = Message(
    "TraceLocation",
    (
        string("type"),
        Field(
            "mlflow_experiment", Kind.MESSAGE, message=Message("MlflowExperiment", (string("experiment_id"),))
        ),
    ),
)
SEARCH_V3 = Message(
    "SearchTracesV3",
    (
        Field("locations", Kind.MESSAGE, repeated=True, message=LOCATION),
        string("filter"),
        int32("max_results"),
        repeated_string("order_by"),
        string("page_token"),
    ),
)
SEARCH_V2 = Message(
    "SearchTraces",
    (
        repeated_string("experiment_ids"),
        string("filter"),
        int32("max_results"),
        repeated_string("order_by"),
        string("page_token"),
    ),
)
DELETE_TRACES = Message(
    "DeleteTraces",
    (
        string("experiment_id", required=True),
        int64("max_timestamp_millis"),
        int32("max_traces"),
        repeated_string("request_ids"),
    ),
)
SET_TAG = Message("SetTraceTag", (string("key", required=True), string("value")))
DELETE_TAG = Message("DeleteTraceTag", (string("key", required=True),))
LINK_TO_RUN = Message("LinkTracesToRun", (repeated_string("trace_ids"), string("run_id", required=True)))
GET_ARTIFACT = Message("GetTraceArtifact", (string("request_id", required=True), string("path")))


def _trace_perm(access: Access, field: str = "trace_id") -> PermissionDeclaration:
    return PermissionDeclaration(ResourceKind.TRACE, access, field)


def _filter_experiments(infos: list[TraceInfo], experiment_ids: list[str]) -> list[TraceInfo]:
    if not experiment_ids:
        return infos
    allowed = set(experiment_ids)
    return [i for i in infos if i.experiment_id in allowed]


def _page_body(key: str, items: list[dict[str, Any]], page: Page[TraceInfo]) -> Response:
    body: Fields = {}
    if items:
        body[key] = items
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return json_response(body)


# -- fixed paths first -------------------------------------------------------------------------


def _missing_spans(trace: Trace) -> bool:
    """True when a trace kept in the tracking store has fewer spans than its client reported.

    The client's count is ``num_spans`` of metadata ``mlflow.trace.sizeStats`` (the MLflow SDK
    sets it when the trace ends); a trace whose spans live in the tracking store but has none
    yet is missing spans too (its info came before its spans).
    """
    if trace.info.tags.get(_SPANS_LOCATION) != "TRACKING_STORE":
        return False
    expected = 1
    try:
        stats = json.loads(trace.info.trace_metadata.get(_SIZE_STATS) or "{}")
        if isinstance(stats, Mapping) and isinstance(stats.get("num_spans"), int):
            expected = max(1, stats["num_spans"])
    except ValueError:
        pass
    return len(trace.spans) < expected


@rpc(router, "traces/get", methods=["GET"], permission=_trace_perm(Access.READ), prefixes=V3_PREFIXES)
def get_trace(req: Annotated[Fields, Depends(request_fields(GET_TRACE))], context: ContextDep) -> Response:
    """GetTrace → ``{"trace": {"trace_info", "spans"}}`` with every stored span.

    Unless ``allow_partial`` is true, a trace whose spans have not all arrived yet is answered
    like MLflow does: RESOURCE_DOES_NOT_EXIST "not fully exported yet" (clients retry later).
    """
    trace = context.traces.get_trace(req["trace_id"])
    if not req.get("allow_partial") and _missing_spans(trace):
        raise NotFoundError(
            f"Trace with ID {trace.info.trace_id} is not fully exported yet, please try again later."
        )
    return json_response({"trace": trace_to_dict(trace)})


@rpc(
    router,
    "traces/batchGet",
    methods=["GET"],
    permission=_trace_perm(Access.READ, "trace_ids"),
    prefixes=V3_PREFIXES,
)
def batch_get_traces(
    req: Annotated[Fields, Depends(request_fields(BATCH_GET))], context: ContextDep
) -> Response:
    """BatchGetTraces → ``{"traces": [...]}`` (unknown ids and other experiments left out)."""
    traces = context.traces.batch_get_traces(req.get("trace_ids") or [])
    allowed = set(req.get("experiment_ids") or ())
    kept = [t for t in traces if not allowed or t.info.experiment_id in allowed]
    return json_response({"traces": [trace_to_dict(t) for t in kept]} if kept else {})


@rpc(
    router,
    "traces/batchGetInfos",
    methods=["POST"],
    permission=_trace_perm(Access.READ, "trace_ids"),
    prefixes=V3_PREFIXES,
)
def batch_get_trace_infos(
    req: Annotated[Fields, Depends(request_fields(BATCH_GET))], context: ContextDep
) -> Response:
    """BatchGetTraceInfos → ``{"trace_infos": [...]}``."""
    infos = context.traces.batch_get_trace_infos(req.get("trace_ids") or [])
    infos = _filter_experiments(infos, req.get("experiment_ids") or [])
    return json_response({"trace_infos": [trace_info_to_dict(i) for i in infos]} if infos else {})


@rpc(
    router,
    "traces/search",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "locations"),
    prefixes=V3_PREFIXES,
)
def search_traces_v3(
    req: Annotated[Fields, Depends(request_fields(SEARCH_V3))], context: ContextDep
) -> Response:
    """SearchTracesV3 → ``{"traces": [TraceInfoV3], "next_page_token"}``."""
    experiment_ids = [
        str((loc.get("mlflow_experiment") or {}).get("experiment_id", ""))
        for loc in req.get("locations") or ()
        if (loc.get("mlflow_experiment") or {}).get("experiment_id")
    ]
    if not experiment_ids:
        raise InvalidArgumentError("At least one MLFLOW_EXPERIMENT location must be specified.")
    page = context.traces.search_traces(
        experiment_ids,
        filter_string=req.get("filter") or None,
        max_results=req.get("max_results") or 100,
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    return _page_body("traces", [trace_info_to_dict(i) for i in page.items], page)


@rpc(
    router,
    "traces/metrics",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
    prefixes=V3_PREFIXES,
)
def query_trace_metrics(
    req: Annotated[Fields, Depends(request_fields(QUERY_METRICS))], context: ContextDep
) -> Response:
    """QueryTraceMetrics → ``{"data_points": [{metric_name, dimensions, values}], "next_page_token"}``."""
    view = req.get("view_type")
    if not view:
        raise InvalidArgumentError("Missing value for required parameter 'view_type'.")
    aggregations = [
        Aggregation(AggregationType(a.get("aggregation_type") or ""), a.get("percentile_value"))
        for a in req.get("aggregations") or ()
        if a.get("aggregation_type")
    ]
    if not aggregations:
        raise InvalidArgumentError("Missing value for required parameter 'aggregations'.")
    page = context.traces.query_trace_metrics(
        req["experiment_ids"],
        ViewType(view),
        req["metric_name"],
        aggregations,
        dimensions=req.get("dimensions") or (),
        filters=req.get("filters") or (),
        time_interval_seconds=req.get("time_interval_seconds"),
        start_time_ms=req.get("start_time_ms"),
        end_time_ms=req.get("end_time_ms"),
        max_results=req.get("max_results") or 1000,
        page_token=req.get("page_token") or None,
    )
    body: Fields = {}
    if page.items:
        body["data_points"] = [
            {"metric_name": p.metric_name, "dimensions": p.dimensions, "values": p.values} for p in page.items
        ]
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return json_response(body)


@rpc(
    router,
    "traces/calculate-filter-correlation",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
    prefixes=V3_PREFIXES,
)
def calculate_filter_correlation(
    req: Annotated[Fields, Depends(request_fields(CORRELATION))], context: ContextDep
) -> Response:
    """CalculateTraceFilterCorrelation → counts, and ``npmi``/``npmi_smoothed`` when defined."""
    result = context.traces.calculate_filter_correlation(
        req["experiment_ids"], req["filter_string1"], req["filter_string2"], req.get("base_filter") or None
    )
    body: Fields = {
        "filter1_count": result.filter1_count,
        "filter2_count": result.filter2_count,
        "joint_count": result.joint_count,
        "total_count": result.total_count,
    }
    # Undefined scores are left out, as proto3 JSON leaves out unset optional fields.
    if result.npmi is not None:
        body["npmi"] = result.npmi
    if result.npmi_smoothed is not None:
        body["npmi_smoothed"] = result.npmi_smoothed
    return json_response(body)


@rpc(
    router,
    "traces",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
    prefixes=TRACKING_PREFIXES,
)
def search_traces_v2(
    req: Annotated[Fields, Depends(request_fields(SEARCH_V2))], context: ContextDep
) -> Response:
    """Legacy SearchTraces → ``{"traces": [TraceInfo V2], "next_page_token"}``."""
    experiment_ids = req.get("experiment_ids") or []
    if not experiment_ids:
        raise InvalidArgumentError("Missing value for required parameter 'experiment_ids'.")
    page = context.traces.search_traces(
        experiment_ids,
        filter_string=req.get("filter") or None,
        max_results=req.get("max_results") or 100,
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    return _page_body("traces", [trace_info_to_v2_dict(i) for i in page.items], page)


@rpc(
    router,
    "traces/delete-traces",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.EDIT, "experiment_id"),
    prefixes=BOTH_PREFIXES,
)
def delete_traces(
    req: Annotated[Fields, Depends(request_fields(DELETE_TRACES))], context: ContextDep
) -> Response:
    """DeleteTraces → ``{"traces_deleted": N}``; the deleted traces' artifact folders go too."""
    deleted = context.traces.remove_traces(
        req["experiment_id"],
        max_timestamp_millis=req.get("max_timestamp_millis"),
        max_traces=req.get("max_traces"),
        trace_ids=req.get("request_ids") or None,
    )
    remove_trace_artifacts(deleted.artifact_locations, lambda folder: file_location(context, folder, ""))
    return json_response({"traces_deleted": deleted.count})


@rpc(
    router,
    "traces/link-to-run",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.EDIT, "run_id"),
    prefixes=BOTH_PREFIXES,
)
def link_traces_to_run(
    req: Annotated[Fields, Depends(request_fields(LINK_TO_RUN))], context: ContextDep
) -> Response:
    """LinkTracesToRun → ``{}``."""
    context.traces.link_traces_to_run(req.get("trace_ids") or [], req["run_id"])
    return json_response()


PROMPT_VERSION = Message(
    "PromptVersionRef", (string("name", required=True), string("version", required=True))
)
LINK_PROMPTS = Message(
    "LinkPromptsToTraces",
    (
        string("trace_id", required=True),
        Field("prompt_versions", Kind.MESSAGE, repeated=True, message=PROMPT_VERSION),
    ),
)


@rpc(
    router,
    "traces/link-prompts",
    methods=["POST"],
    permission=_trace_perm(Access.EDIT),
    prefixes=BOTH_PREFIXES,
)
def link_prompts(
    req: Annotated[Fields, Depends(request_fields(LINK_PROMPTS))], context: ContextDep
) -> Response:
    """LinkPromptsToTraces: merge ``{name, version}`` items into tag ``mlflow.linkedPrompts`` → ``{}``."""
    trace_id = req["trace_id"]
    info = context.traces.get_trace_info(trace_id)
    try:
        linked = json.loads(info.tags.get(_LINKED_PROMPTS, "[]"))
    except ValueError:
        linked = []
    if not isinstance(linked, list):
        linked = []
    for ref in req.get("prompt_versions") or ():
        item = {"name": ref["name"], "version": str(ref["version"])}
        if item not in linked:
            linked.append(item)
    context.traces.set_trace_tag(trace_id, _LINKED_PROMPTS, json.dumps(linked))
    return json_response()


def _artifact_bytes(context: ServerContext, info: TraceInfo, rel: str) -> tuple[list[bytes], Any]:
    location = info.tags.get("mlflow.artifactLocation")
    if not location:
        raise NotFoundError(f"Trace '{info.trace_id}' has no artifact location")
    proxied = context.proxied_path(location)
    if proxied is not None:
        return open_file(context.destination, f"{proxied}/{rel}" if proxied else rel)
    return open_file(direct_repository(context, location), rel)


@rpc(
    router,
    "get-trace-artifact",
    methods=["GET"],
    permission=_trace_perm(Access.READ, "request_id"),
    prefixes=("/ajax-api/2.0/mlflow", "/ajax-api/3.0/mlflow", "/api/2.0/mlflow", "/api/3.0/mlflow"),
)
async def get_trace_artifact(
    req: Annotated[Fields, Depends(request_fields(GET_ARTIFACT))], context: ContextDep
) -> Response:
    """The spans of a trace as ``traces.json`` (form B), or an attachment's bytes by id (``path``)."""
    trace_id = req["request_id"]
    attachment = req.get("path")
    if not attachment:
        trace = await anyio.to_thread.run_sync(context.traces.get_trace, trace_id)
        body = {"spans": [span_to_mlflow_dict(s) for s in trace.spans]}
        return json_response(body)
    if not _ATTACHMENT_ID.match(attachment):
        raise InvalidArgumentError(f"Invalid attachment id '{attachment}'")
    rel = canonical_relpath(f"attachments/{attachment}")
    info = await anyio.to_thread.run_sync(context.traces.get_trace_info, trace_id)
    head, rest = await anyio.to_thread.run_sync(_artifact_bytes, context, info, rel)
    # Images and audio keep their real type so the UI can show them inline; the sandbox policy
    # and nosniff keep any other stored bytes from running as a page of this origin.
    media_type = sniff_media_type(head[0] if head else b"")
    headers = {
        "Content-Disposition": f'attachment; filename="{attachment}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }
    if rest is None:
        return Response(b"".join(head), media_type=media_type, headers=headers)
    return StreamingResponse(stream_chunks(head, rest), media_type=media_type, headers=headers)


# -- start trace and per-trace routes ----------------------------------------------------------


async def _json_body(request: Request) -> Mapping[str, Any]:
    check_content_type(request.method, request.headers.get("content-type"))
    raw = await request.body()
    body = loads(raw) if raw.strip() else {}
    if isinstance(body, str):
        body = loads(body)
    if not isinstance(body, Mapping):
        raise InvalidArgumentError("The request body must be a JSON object")
    return body


@rpc(
    router,
    "traces",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.TRACE, Access.EDIT),
    prefixes=V3_PREFIXES,
)
async def start_trace(request: Request, context: ContextDep) -> Response:
    """StartTraceV3 ``{"trace": {"trace_info"}}`` → the stored info with the server's additions."""
    body = await _json_body(request)
    trace = body.get("trace")
    if not isinstance(trace, Mapping) or not isinstance(trace.get("trace_info"), Mapping):
        raise InvalidArgumentError("Missing value for required parameter 'trace'.")
    try:
        info = trace_info_from_dict(trace["trace_info"])
    except MltrailError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidArgumentError(f"Invalid trace_info: {exc}") from exc
    stored = await anyio.to_thread.run_sync(context.traces.start_trace, info)
    return json_response({"trace": {"trace_info": trace_info_to_dict(stored)}})


def _key_values(items: Any) -> dict[str, str]:
    return {str(kv["key"]): str(kv.get("value") or "") for kv in items or ()}


@rpc(
    router,
    "traces",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.EDIT, "experiment_id"),
    prefixes=TRACKING_PREFIXES,
)
def start_trace_v2(
    req: Annotated[Fields, Depends(request_fields(START_TRACE_V2))], context: ContextDep
) -> Response:
    """Legacy V2 StartTrace → ``{"trace_info": <V2 TraceInfo>}`` of a new IN_PROGRESS trace."""
    info = context.traces.start_trace_v2(
        req["experiment_id"],
        req.get("timestamp_ms") or 0,
        _key_values(req.get("request_metadata")),
        _key_values(req.get("tags")),
    )
    return json_response({"trace_info": trace_info_to_v2_dict(info)})


@rpc(
    router,
    "traces/{request_id}",
    methods=["PATCH"],
    permission=_trace_perm(Access.EDIT, "request_id"),
    prefixes=TRACKING_PREFIXES,
)
def end_trace_v2(
    request_id: str, req: Annotated[Fields, Depends(request_fields(END_TRACE_V2))], context: ContextDep
) -> Response:
    """Legacy V2 EndTrace → ``{"trace_info": <V2 TraceInfo>}`` with duration, status and merged maps."""
    status = req.get("status") or "TRACE_STATUS_UNSPECIFIED"
    state = TraceState.STATE_UNSPECIFIED if status == "TRACE_STATUS_UNSPECIFIED" else TraceState(status)
    info = context.traces.end_trace_v2(
        request_id,
        req.get("timestamp_ms") or 0,
        state,
        _key_values(req.get("request_metadata")),
        _key_values(req.get("tags")),
    )
    return json_response({"trace_info": trace_info_to_v2_dict(info)})


@rpc(
    router,
    "traces/{request_id}/info",
    methods=["GET"],
    permission=_trace_perm(Access.READ, "request_id"),
    prefixes=TRACKING_PREFIXES,
)
def get_trace_info_v2(request_id: str, context: ContextDep) -> Response:
    """Legacy V2 GetTraceInfo → ``{"trace_info": <V2 TraceInfo>}``."""
    return json_response({"trace_info": trace_info_to_v2_dict(context.traces.get_trace_info(request_id))})


@rpc(router, "traces/{trace_id}", methods=["GET"], permission=_trace_perm(Access.READ), prefixes=V3_PREFIXES)
def get_trace_info(trace_id: str, context: ContextDep) -> Response:
    """GetTraceInfoV3 → ``{"trace": {"trace_info"}}``."""
    return json_response(
        {"trace": {"trace_info": trace_info_to_dict(context.traces.get_trace_info(trace_id))}}
    )


def _tag_routes(prefixes: tuple[str, ...], param: str) -> None:
    path = f"traces/{{{param}}}/tags"

    @rpc(router, path, methods=["PATCH"], permission=_trace_perm(Access.EDIT, param), prefixes=prefixes)
    def set_trace_tag(
        request: Request, req: Annotated[Fields, Depends(request_fields(SET_TAG))], context: ContextDep
    ) -> Response:
        """SetTraceTag → ``{}``."""
        context.traces.set_trace_tag(request.path_params[param], req["key"], req.get("value") or "")
        return json_response()

    @rpc(router, path, methods=["DELETE"], permission=_trace_perm(Access.EDIT, param), prefixes=prefixes)
    def delete_trace_tag(
        request: Request, req: Annotated[Fields, Depends(request_fields(DELETE_TAG))], context: ContextDep
    ) -> Response:
        """DeleteTraceTag → ``{}``; the key comes from the JSON body."""
        context.traces.delete_trace_tag(request.path_params[param], req["key"])
        return json_response()


_tag_routes(TRACKING_PREFIXES, "request_id")
_tag_routes(V3_PREFIXES, "trace_id")


# -- assessments -------------------------------------------------------------------------------

_MASK_FIELDS = {
    "assessment_name": "name",
    "assessmentName": "name",
    "feedback": "kind",
    "expectation": "kind",
    "issue": "kind",
    "rationale": "rationale",
    "metadata": "metadata",
}


def _mask_paths(mask: Any) -> list[str]:
    if isinstance(mask, str):
        return [p.strip() for p in mask.split(",") if p.strip()]
    if isinstance(mask, Mapping):
        return [str(p) for p in mask.get("paths") or ()]
    return []


def _assessment_body(body: Mapping[str, Any]) -> Mapping[str, Any]:
    assessment = body.get("assessment")
    if not isinstance(assessment, Mapping):
        raise InvalidArgumentError("Missing value for required parameter 'assessment'.")
    return assessment


@rpc(
    router,
    "traces/{trace_id}/assessments",
    methods=["POST"],
    permission=_trace_perm(Access.EDIT),
    prefixes=V3_PREFIXES,
)
async def create_assessment(trace_id: str, request: Request, context: ContextDep) -> Response:
    """CreateAssessment ``{"assessment"}`` → the stored assessment with its id and times."""
    assessment = assessment_from_dict(_assessment_body(await _json_body(request)), trace_id=trace_id)
    if assessment.trace_id != trace_id:
        raise InvalidArgumentError(f"The assessment's trace_id '{assessment.trace_id}' is not '{trace_id}'")
    stored = await anyio.to_thread.run_sync(context.traces.create_assessment, assessment)
    return json_response({"assessment": assessment_to_dict(stored)})


@rpc(
    router,
    "traces/{trace_id}/assessments/{assessment_id}",
    methods=["GET"],
    permission=_trace_perm(Access.READ),
    prefixes=V3_PREFIXES,
)
def get_assessment(trace_id: str, assessment_id: str, context: ContextDep) -> Response:
    """GetAssessment → ``{"assessment"}``."""
    return json_response(
        {"assessment": assessment_to_dict(context.traces.get_assessment(trace_id, assessment_id))}
    )


@rpc(
    router,
    "traces/{trace_id}/assessments/{assessment_id}",
    methods=["PATCH"],
    permission=_trace_perm(Access.EDIT),
    prefixes=V3_PREFIXES,
)
async def update_assessment(
    trace_id: str, assessment_id: str, request: Request, context: ContextDep
) -> Response:
    """UpdateAssessment ``{"assessment", "update_mask"}`` → the updated assessment."""
    body = await _json_body(request)
    given = _assessment_body(body)
    changes: dict[str, Any] = {}
    for path in _mask_paths(body.get("update_mask", body.get("updateMask"))):
        target = _MASK_FIELDS.get(path)
        if target is None:
            raise InvalidArgumentError(f"Cannot update assessment field '{path}'")
        if target == "name":
            changes["name"] = str(given.get("assessment_name") or given.get("assessmentName") or "")
        elif target == "kind":
            payload = given.get(path)
            if not isinstance(payload, Mapping):
                raise InvalidArgumentError(f"Missing value for '{path}' named in update_mask")
            changes["kind"], changes["payload"] = path, dict(payload)
        elif target == "rationale":
            changes["rationale"] = given.get("rationale")
        else:
            changes["metadata"] = dict(given.get("metadata") or {})
    updated = await anyio.to_thread.run_sync(
        context.traces.update_assessment, trace_id, assessment_id, changes
    )
    return json_response({"assessment": assessment_to_dict(updated)})


@rpc(
    router,
    "traces/{trace_id}/assessments/{assessment_id}",
    methods=["DELETE"],
    permission=_trace_perm(Access.EDIT),
    prefixes=V3_PREFIXES,
)
def delete_assessment(trace_id: str, assessment_id: str, context: ContextDep) -> Response:
    """DeleteAssessment → ``{}``."""
    context.traces.delete_assessment(trace_id, assessment_id)
    return json_response()
