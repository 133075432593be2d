"""``RestTraceStore``: the trace store contract over HTTP (an mltrail server, or MLflow >= 3.4).

Spans go to ``POST /v1/traces`` as an OTLP protobuf ``ExportTraceServiceRequest`` with the
``x-mlflow-experiment-id`` header; everything else uses the trace endpoints of spec TRACING §3
through :mod:`mltrail.tracing.wire`, sent with :class:`mltrail._http.JsonApi`, which maps error
bodies back onto the error tree; transport failures raise ``BackendError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from mltrail._http import JsonApi, query
from mltrail.config import Settings
from mltrail.tracing.entities import Assessment, SpanData, Trace, TraceInfo, TraceState, mlflow_trace_id
from mltrail.tracing.otlp import PROTOBUF_CONTENT_TYPE, encode_spans
from mltrail.tracing.store.analytics import Aggregation, FilterCorrelation, MetricPoint, ViewType
from mltrail.tracing.store.base import (
    QUERY_TRACE_METRICS_MAX_RESULTS_DEFAULT,
    SEARCH_TRACES_MAX_RESULTS_DEFAULT,
    TraceStore,
)
from mltrail.tracing.wire import (
    assessment_from_dict,
    assessment_to_dict,
    trace_from_dict,
    trace_info_from_dict,
    trace_info_to_dict,
)
from mltrail.tracking.entities import Page

__all__ = ["RestTraceStore"]

_V3 = "/api/3.0/mlflow"
_V2 = "/api/2.0/mlflow"
_OTLP = "/v1/traces"
_BATCH = 100


def _trace_path(trace_id: str) -> str:
    return f"traces/{quote(trace_id, safe='')}"


class RestTraceStore(TraceStore):
    """A trace store behind an HTTP server.

    Args:
        tracking_uri: The server's base URL, e.g. ``http://127.0.0.1:5000``.
        settings: Timeouts, retries and credentials of the HTTP session.
    """

    def __init__(self, tracking_uri: str, settings: Settings) -> None:
        self._api = JsonApi(tracking_uri, settings, prefix=_V3)
        self.tracking_uri = self._api.base_url

    # -- writes ------------------------------------------------------------------------------

    def log_spans(
        self, experiment_id: str, spans: Sequence[SpanData], *, run_id: str | None = None
    ) -> list[TraceInfo]:
        """Send spans as OTLP protobuf, then read back the infos of their traces."""
        if not spans:
            return []
        headers = {"Content-Type": PROTOBUF_CONTENT_TYPE, "x-mlflow-experiment-id": str(experiment_id)}
        if run_id:
            headers["x-mlflow-run-id"] = run_id
        self._api.send("POST", _OTLP, data=encode_spans(spans), headers=headers)
        return self.batch_get_trace_infos(list(dict.fromkeys(mlflow_trace_id(s.trace_id) for s in spans)))

    def batch_get_trace_infos(self, trace_ids: Sequence[str]) -> list[TraceInfo]:
        """BatchGetTraceInfos (``POST /api/3.0/mlflow/traces/batchGetInfos``), 100 ids per call."""
        ids = list(trace_ids)
        infos: list[TraceInfo] = []
        for start in range(0, len(ids), _BATCH):
            chunk = {"trace_ids": ids[start : start + _BATCH]}
            body = self._api.call("POST", "traces/batchGetInfos", body=chunk)
            infos.extend(trace_info_from_dict(d) for d in body.get("trace_infos", ()))
        return infos

    def start_trace(self, info: TraceInfo) -> TraceInfo:
        """StartTraceV3 (``POST /api/3.0/mlflow/traces``)."""
        body = self._api.call("POST", "traces", body={"trace": {"trace_info": trace_info_to_dict(info)}})
        return trace_info_from_dict(body["trace"]["trace_info"])

    def delete_traces(
        self,
        experiment_id: str,
        *,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """DeleteTraces → number deleted."""
        body: dict[str, Any] = {"experiment_id": str(experiment_id)}
        if max_timestamp_millis is not None:
            body["max_timestamp_millis"] = max_timestamp_millis
        if max_traces is not None:
            body["max_traces"] = max_traces
        if trace_ids:
            body["request_ids"] = list(trace_ids)
        result = self._api.call("POST", "traces/delete-traces", body=body, prefix=_V2)
        return int(result.get("traces_deleted", 0))

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        """SetTraceTag (``PATCH /api/3.0/mlflow/traces/{id}/tags``)."""
        self._api.call("PATCH", f"{_trace_path(trace_id)}/tags", body={"key": key, "value": value})

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """DeleteTraceTag (``DELETE /api/3.0/mlflow/traces/{id}/tags`` with a JSON body)."""
        self._api.call("DELETE", f"{_trace_path(trace_id)}/tags", body={"key": key})

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        """LinkTracesToRun."""
        body = {"trace_ids": list(trace_ids), "run_id": run_id}
        self._api.call("POST", "traces/link-to-run", body=body, prefix=_V2)

    # -- reads -------------------------------------------------------------------------------

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        """GetTraceInfoV3."""
        body = self._api.call("GET", _trace_path(trace_id))
        return trace_info_from_dict(body["trace"]["trace_info"])

    def get_trace(self, trace_id: str) -> Trace:
        """GetTrace (``/traces/get``) with every span stored so far (``allow_partial``, as the
        store contract asks; without it the server refuses traces whose spans are still coming)."""
        body = self._api.call("GET", "traces/get", params=query(trace_id=trace_id, allow_partial=True))
        return trace_from_dict(body["trace"])

    def batch_get_traces(self, trace_ids: Sequence[str]) -> list[Trace]:
        """BatchGetTraces, in chunks of 100 ids."""
        out: list[Trace] = []
        ids = list(trace_ids)
        for start in range(0, len(ids), _BATCH):
            params = query(trace_ids=ids[start : start + _BATCH])
            body = self._api.call("GET", "traces/batchGet", params=params)
            out.extend(trace_from_dict(t) for t in body.get("traces", ()))
        return out

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[TraceInfo]:
        """SearchTracesV3."""
        body: dict[str, Any] = {
            "locations": [
                {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": str(e)}}
                for e in experiment_ids
            ],
            "max_results": max_results,
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        result = self._api.call("POST", "traces/search", body=body)
        return Page(
            [trace_info_from_dict(t) for t in result.get("traces", ())], result.get("next_page_token") or None
        )

    # -- legacy V2 lifecycle and analytics -------------------------------------------------------

    def start_trace_v2(
        self,
        experiment_id: str,
        timestamp_ms: int,
        request_metadata: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> TraceInfo:
        """V2 StartTrace (``POST /api/2.0/mlflow/traces``)."""
        body = {
            "experiment_id": experiment_id,
            "timestamp_ms": timestamp_ms,
            "request_metadata": [{"key": k, "value": v} for k, v in request_metadata.items()],
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        return trace_info_from_dict(self._api.call("POST", "traces", body=body, prefix=_V2)["trace_info"])

    def end_trace_v2(
        self,
        trace_id: str,
        timestamp_ms: int,
        state: TraceState,
        request_metadata: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> TraceInfo:
        """V2 EndTrace (``PATCH /api/2.0/mlflow/traces/<id>``)."""
        body = {
            "timestamp_ms": timestamp_ms,
            "status": "TRACE_STATUS_UNSPECIFIED" if state is TraceState.STATE_UNSPECIFIED else state.value,
            "request_metadata": [{"key": k, "value": v} for k, v in request_metadata.items()],
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        result = self._api.call("PATCH", _trace_path(trace_id), body=body, prefix=_V2)
        return trace_info_from_dict(result["trace_info"])

    def calculate_filter_correlation(
        self,
        experiment_ids: Sequence[str],
        filter_string1: str,
        filter_string2: str,
        base_filter: str | None = None,
    ) -> FilterCorrelation:
        """CalculateTraceFilterCorrelation."""
        body: dict[str, Any] = {
            "experiment_ids": list(experiment_ids),
            "filter_string1": filter_string1,
            "filter_string2": filter_string2,
        }
        if base_filter:
            body["base_filter"] = base_filter
        r = self._api.call("POST", "traces/calculate-filter-correlation", body=body)
        return FilterCorrelation(
            r.get("npmi"),
            r.get("npmi_smoothed"),
            int(r.get("filter1_count", 0)),
            int(r.get("filter2_count", 0)),
            int(r.get("joint_count", 0)),
            int(r.get("total_count", 0)),
        )

    def query_trace_metrics(
        self,
        experiment_ids: Sequence[str],
        view_type: ViewType,
        metric_name: str,
        aggregations: Sequence[Aggregation],
        *,
        dimensions: Sequence[str] = (),
        filters: Sequence[str] = (),
        time_interval_seconds: int | None = None,
        start_time_ms: int | None = None,
        end_time_ms: int | None = None,
        max_results: int = QUERY_TRACE_METRICS_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> Page[MetricPoint]:
        """QueryTraceMetrics."""
        body: dict[str, Any] = {
            "experiment_ids": list(experiment_ids),
            "view_type": view_type.value,
            "metric_name": metric_name,
            "aggregations": [
                {"aggregation_type": a.type.value}
                | ({} if a.percentile is None else {"percentile_value": a.percentile})
                for a in aggregations
            ],
            "dimensions": list(dimensions),
            "filters": list(filters),
            "max_results": max_results,
        }
        optional = {
            "time_interval_seconds": time_interval_seconds,
            "start_time_ms": start_time_ms,
            "end_time_ms": end_time_ms,
            "page_token": page_token,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        r = self._api.call("POST", "traces/metrics", body=body)
        points = [
            MetricPoint(
                str(p.get("metric_name", metric_name)),
                {str(k): str(v) for k, v in (p.get("dimensions") or {}).items()},
                {str(k): float(v) for k, v in (p.get("values") or {}).items()},
            )
            for p in r.get("data_points", ())
        ]
        return Page(points, r.get("next_page_token") or None)

    # -- assessments -------------------------------------------------------------------------

    def _assessment_path(self, trace_id: str, assessment_id: str | None = None) -> str:
        path = f"{_trace_path(trace_id)}/assessments"
        return path if assessment_id is None else f"{path}/{quote(assessment_id, safe='')}"

    def create_assessment(self, assessment: Assessment) -> Assessment:
        """CreateAssessment."""
        request = {"assessment": assessment_to_dict(assessment)}
        body = self._api.call("POST", self._assessment_path(assessment.trace_id), body=request)
        return assessment_from_dict(body["assessment"])

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        """GetAssessment."""
        return assessment_from_dict(
            self._api.call("GET", self._assessment_path(trace_id, assessment_id))["assessment"]
        )

    def update_assessment(self, trace_id: str, assessment_id: str, changes: Mapping[str, Any]) -> Assessment:
        """UpdateAssessment with an update mask built from ``changes``."""
        assessment: dict[str, Any] = {"assessment_id": assessment_id, "trace_id": trace_id}
        mask: list[str] = []
        if "name" in changes:
            assessment["assessment_name"] = changes["name"]
            mask.append("assessment_name")
        if "kind" in changes:
            assessment[str(changes["kind"])] = dict(changes.get("payload") or {})
            mask.append(str(changes["kind"]))
        if "rationale" in changes:
            assessment["rationale"] = changes["rationale"]
            mask.append("rationale")
        if "metadata" in changes:
            assessment["metadata"] = dict(changes["metadata"] or {})
            mask.append("metadata")
        body = self._api.call(
            "PATCH",
            self._assessment_path(trace_id, assessment_id),
            body={"assessment": assessment, "update_mask": ",".join(mask)},
        )
        return assessment_from_dict(body["assessment"])

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        """DeleteAssessment."""
        self._api.call("DELETE", self._assessment_path(trace_id, assessment_id), body={})

    def close(self) -> None:
        """Close the HTTP session."""
        self._api.close()
