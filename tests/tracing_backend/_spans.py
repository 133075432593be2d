"""Builders of spans and traces for the tracing backend tests."""

from __future__ import annotations

import secrets
from typing import Any

from mltrail.tracing.entities import SpanData, SpanEvent, SpanLink

BASE_NS = 1_700_000_000_000_000_000


def new_trace_id() -> str:
    """A random 32-hex OpenTelemetry trace id."""
    return secrets.token_hex(16)


def new_span_id() -> str:
    """A random 16-hex OpenTelemetry span id."""
    return secrets.token_hex(8)


def span(
    trace_id: str,
    name: str,
    *,
    span_id: str | None = None,
    parent: str | None = None,
    start_ms: int = 0,
    end_ms: int | None = 10,
    status: str = "OK",
    attributes: dict[str, Any] | None = None,
    **extra: Any,
) -> SpanData:
    """A span starting ``start_ms`` after :data:`BASE_NS`."""
    return SpanData(
        trace_id=trace_id,
        span_id=span_id or new_span_id(),
        parent_span_id=parent,
        name=name,
        start_time_unix_nano=BASE_NS + start_ms * 1_000_000,
        end_time_unix_nano=None if end_ms is None else BASE_NS + end_ms * 1_000_000,
        status_code=status,
        attributes=attributes or {},
        **extra,
    )


def rich_span(trace_id: str, parent: str | None = None) -> SpanData:
    """A span using every OpenTelemetry feature: typed attributes, events, links, resource, scope."""
    return span(
        trace_id,
        "rich",
        parent=parent,
        start_ms=1,
        end_ms=8,
        status="ERROR",
        status_message="boom",
        kind=3,
        attributes={
            "mlflow.spanType": "CHAT_MODEL",
            "mlflow.spanInputs": {"messages": [{"role": "user", "content": "hi"}], "n": 2, "t": 0.5},
            "mlflow.spanOutputs": ["a", "b"],
            "flag": True,
            "count": 42,
            "ratio": 1.5,
            "whole_float": 3.0,
            "text": 'héllo "quoted" 100%',
            "ints": [1, 2, 3],
            "nested": {"a": {"b": [True, None, "x"]}},
        },
        events=(SpanEvent("exception", BASE_NS + 5_000_000, {"exception.message": "boom", "n": 1}),),
        links=(SpanLink(new_trace_id(), new_span_id(), {"why": "retry"}, "k=v"),),
        resource={"service.name": "svc", "telemetry.sdk.language": "python", "host.cpus": 2},
        scope_name="my.scope",
        scope_version="1.2.3",
        trace_state="vendor=1",
    )


def simple_trace(name: str = "root", **root_kwargs: Any) -> tuple[str, list[SpanData]]:
    """A root span and one child; returns the OTel trace id and the spans."""
    trace_id = new_trace_id()
    root_id = new_span_id()
    root = span(trace_id, name, span_id=root_id, **root_kwargs)
    offset = int(root_kwargs.get("start_ms", 0))
    child = span(
        trace_id,
        "child",
        parent=root_id,
        start_ms=offset + 2,
        end_ms=offset + 5,
        attributes={"mlflow.spanType": "TOOL"},
    )
    return trace_id, [child, root]
