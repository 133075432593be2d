"""Conversion of finished OpenTelemetry spans and trace records into tracing entities.

Runs on the exporter's thread, never on the traced call. ``mlflow.*`` attributes hold JSON text
inside the OTel span (as MLflow's SDK writes them) and become native values in ``SpanData``,
which is what the OTLP wire carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from mltrail.tracing import attributes as attr
from mltrail.tracing.entities import SpanData, SpanEvent, SpanLink, TraceInfo, TraceState, mlflow_trace_id
from mltrail.tracing.processor import TraceRecord
from mltrail.tracing.serialize import decode_attribute

__all__ = ["span_data", "trace_info", "truncate_preview"]

_STATUS = {StatusCode.UNSET: "UNSET", StatusCode.OK: "OK", StatusCode.ERROR: "ERROR"}


def _attributes(values: Mapping[str, Any] | None) -> dict[str, Any]:
    if not values:
        return {}
    out: dict[str, Any] = {}
    for key, value in values.items():
        out[key] = decode_attribute(value) if key.startswith(attr.MLFLOW_PREFIX) else _native(value)
    return out


def _native(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def span_data(
    span: ReadableSpan, resource: Mapping[str, Any] | None = None, is_root: bool = False
) -> SpanData:
    """The ``SpanData`` of a finished OTel span.

    Args:
        span: The span.
        resource: Its resource attributes already converted (shared by all spans of a provider).
        is_root: The span is the root of its mltrail trace: a parent outside the trace is dropped.
    """
    context = span.context
    assert context is not None
    parent = span.parent
    scope = span.instrumentation_scope
    trace_id = format(context.trace_id, "032x")
    attributes = _attributes(span.attributes)
    attributes[attr.TRACE_REQUEST_ID] = mlflow_trace_id(trace_id)
    return SpanData(
        trace_id=trace_id,
        span_id=format(context.span_id, "016x"),
        name=span.name or "",
        start_time_unix_nano=span.start_time or 0,
        end_time_unix_nano=span.end_time,
        parent_span_id=format(parent.span_id, "016x") if parent is not None and not is_root else None,
        kind=span.kind.value + 1,
        status_code=_STATUS[span.status.status_code],
        status_message=span.status.description or "",
        attributes=attributes,
        events=tuple(SpanEvent(e.name, e.timestamp, _attributes(e.attributes)) for e in span.events),
        links=tuple(
            SpanLink(
                format(link.context.trace_id, "032x"),
                format(link.context.span_id, "016x"),
                _attributes(link.attributes),
                link.context.trace_state.to_header() if link.context.trace_state else "",
            )
            for link in span.links
        ),
        resource=resource if resource is not None else dict(span.resource.attributes),
        scope_name=scope.name if scope is not None else "",
        scope_version=(scope.version or "") if scope is not None else "",
        trace_state=context.trace_state.to_header() if context.trace_state else "",
        flags=int(context.trace_flags),
    )


def truncate_preview(text: str | None, limit: int = attr.MAX_PREVIEW_CHARS) -> str | None:
    """Cut a preview to ``limit`` characters, ending with ``...`` when cut."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def _preview(text: Any) -> str | None:
    """Preview of a captured value: its JSON text, or the string itself when it is a string."""
    if not isinstance(text, str):
        return None
    if text.startswith('"'):
        value = decode_attribute(text)
        return value if isinstance(value, str) else text
    return text


def _sum_usage(spans: Sequence[SpanData], key: str, fields: Iterable[str]) -> dict[str, Any] | None:
    """Sum a per-span usage dict over the spans that have no ancestor carrying it too."""
    carrying = {s.span_id: s for s in spans if isinstance(s.attributes.get(key), dict)}
    if not carrying:
        return None
    parents = {s.span_id: s.parent_span_id for s in spans}
    totals: dict[str, Any] = {}
    for span_id, span in carrying.items():
        parent = parents.get(span_id)
        nested = False
        while parent is not None:
            if parent in carrying:
                nested = True
                break
            parent = parents.get(parent)
        if nested:
            continue
        usage = span.attributes[key]
        for name in fields:
            value = usage.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
    return totals or None


def trace_info(record: TraceRecord, spans: Sequence[SpanData]) -> TraceInfo:
    """The ``TraceInfo`` the client reports for a finished trace.

    Args:
        record: The assembled trace with its user-set tags, metadata and previews.
        spans: Its spans, converted.
    """
    root_id = format(record.root_span_id, "016x")
    root = next((s for s in spans if s.span_id == root_id), spans[-1])
    start = min(s.start_time_unix_nano for s in spans)
    end = max((s.end_time_unix_nano or start) for s in spans)
    raw: Mapping[str, Any] = {}
    for otel_span in record.spans:
        if otel_span.context is not None and otel_span.context.span_id == record.root_span_id:
            raw = otel_span.attributes or {}
    request = record.request_preview or _preview(raw.get(attr.SPAN_INPUTS))
    response = record.response_preview or _preview(raw.get(attr.SPAN_OUTPUTS))

    metadata: dict[str, str] = {attr.TRACE_SCHEMA_VERSION_KEY: attr.TRACE_SCHEMA_VERSION}
    if record.destination.run_id is not None:
        metadata[attr.SOURCE_RUN] = record.destination.run_id
    usage = _sum_usage(
        spans, attr.CHAT_TOKEN_USAGE, (attr.INPUT_TOKENS, attr.OUTPUT_TOKENS, attr.TOTAL_TOKENS)
    )
    if usage is not None:
        usage.setdefault(
            attr.TOTAL_TOKENS, usage.get(attr.INPUT_TOKENS, 0) + usage.get(attr.OUTPUT_TOKENS, 0)
        )
        metadata[attr.TRACE_TOKEN_USAGE] = orjson.dumps(usage).decode()
    cost = _sum_usage(spans, attr.LLM_COST, (attr.INPUT_COST, attr.OUTPUT_COST, attr.TOTAL_COST))
    if cost is not None:
        metadata[attr.TRACE_COST] = orjson.dumps(cost).decode()
    for key, value in root.attributes.items():
        if key == attr.USER_ID:
            metadata[attr.TRACE_USER] = str(value)
        elif key == attr.SESSION_ID:
            metadata[attr.TRACE_SESSION] = str(value)
    metadata.update(record.metadata)
    tags = {attr.TRACE_NAME: root.name, **record.tags}
    return TraceInfo(
        trace_id=record.trace_id,
        experiment_id=record.destination.experiment_id,
        request_time=start // 1_000_000,
        execution_duration=(end - start) // 1_000_000,
        state=TraceState.ERROR if root.status_code == "ERROR" else TraceState.OK,
        request_preview=truncate_preview(request),
        response_preview=truncate_preview(response),
        client_request_id=record.client_request_id,
        trace_metadata=metadata,
        tags=tags,
    )
