"""OTLP payloads of ``bench/tracing_server.py``: the same ``ExportTraceServiceRequest`` bytes for both.

Needs only the standard library and ``opentelemetry-proto``, so that both the mltrail venv and the
MLflow venv (``bench/.venv-mlflow``) import it and build byte-identical batches from the same
arguments. A trace is one agent call of :data:`SPANS_PER_TRACE` spans: an ``AGENT`` root with a
retriever, a chat model call (token usage, model name), a tool and an output parser below it.
Every span carries ``mlflow.spanType`` and JSON ``mlflow.spanInputs`` / ``mlflow.spanOutputs``;
the root carries the trace tags as ``mlflow.traceTag.<key>`` attributes, ``session.id`` and
``user.id``. Trace ``i`` of a set has tag ``team`` = ``TEAMS[i % 10]``, so :data:`SEARCH_FILTER`
matches exactly one trace in ten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

__all__ = [
    "BASE_TIME_NS",
    "SEARCH_FILTER",
    "SPANS_PER_TRACE",
    "TEAMS",
    "TRACE_STEP_NS",
    "batches",
    "expected_matches",
    "otel_trace_id",
    "root_values",
    "span_ids",
    "trace_count_in",
]

SPANS_PER_TRACE = 5
TEAMS = tuple("abcdefghij")
SEARCH_FILTER = "tags.team = 'a'"
BASE_TIME_NS = 1_790_000_000_000_000_000  # mid-2026, fixed so both servers get the same bytes
TRACE_STEP_NS = 1_000_000  # traces start 1 ms apart: distinct timestamps, a stable order
_ROOT_NS = 1_200_000_000
_CHILD_NS = 200_000_000
_CHILDREN = (
    ("retrieve_documents", "RETRIEVER"),
    ("chat_completion", "CHAT_MODEL"),
    ("lookup_weather", "TOOL"),
    ("parse_answer", "PARSER"),
)


def _id(label: str, index: int, size: int) -> bytes:
    return hashlib.blake2b(f"{label}:{index}".encode(), digest_size=size).digest()


def otel_trace_id(label: str, index: int) -> bytes:
    """The 16-byte OTLP trace id of trace ``index`` of set ``label``."""
    return _id(label, index, 16)


def span_ids(label: str, index: int) -> list[bytes]:
    """The 8-byte span ids of trace ``index`` of set ``label``, root first."""
    return [_id(f"{label}/span", index * SPANS_PER_TRACE + n, 8) for n in range(SPANS_PER_TRACE)]


def root_values(index: int) -> dict[str, str]:
    """Trace ``index``'s tags (``team``, ``env``, ``app_version``), ``session.id`` and ``user.id``."""
    return {
        "team": TEAMS[index % len(TEAMS)],
        "env": "prod" if index % 3 else "staging",
        "app_version": f"1.{index % 7}.0",
        "session.id": f"session-{index // 20}",
        "user.id": f"user-{index % 50}",
    }


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _span(
    trace_id: bytes,
    span_id: bytes,
    parent: bytes,
    name: str,
    start: int,
    end: int,
    attributes: list[KeyValue],
) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        attributes=attributes,
        status=Status(code=Status.STATUS_CODE_OK),
    )


def _trace_spans(label: str, index: int) -> list[Span]:
    """The spans of trace ``index`` of set ``label``, root first."""
    trace_id = otel_trace_id(label, index)
    ids = span_ids(label, index)
    root_id = ids[0]
    start = BASE_TIME_NS + index * TRACE_STEP_NS
    values = root_values(index)
    question = f"What is the weather in city {index % 97} and what should I wear today?"
    answer = f"It is {10 + index % 20} degrees and cloudy in city {index % 97}: take a light jacket."
    root_attrs = [
        _kv("mlflow.spanType", "AGENT"),
        _kv("mlflow.spanInputs", _json({"messages": [{"role": "user", "content": question}]})),
        _kv("mlflow.spanOutputs", _json({"answer": answer})),
        _kv("mlflow.traceTag.team", values["team"]),
        _kv("mlflow.traceTag.env", values["env"]),
        _kv("mlflow.traceTag.app_version", values["app_version"]),
        _kv("session.id", values["session.id"]),
        _kv("user.id", values["user.id"]),
    ]
    spans = [_span(trace_id, root_id, b"", "weather_agent", start, start + _ROOT_NS, root_attrs)]
    for child, (name, span_type) in enumerate(_CHILDREN, start=1):
        child_start = start + child * (_CHILD_NS + 40_000_000)
        attrs = [
            _kv("mlflow.spanType", span_type),
            _kv("mlflow.spanInputs", _json({"query": question, "step": child})),
            _kv("mlflow.spanOutputs", _json({"result": f"{name} result for trace {index}"})),
        ]
        if span_type == "CHAT_MODEL":
            usage = {"input_tokens": 120 + index % 30, "output_tokens": 40 + index % 10}
            usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
            attrs.append(_kv("mlflow.chat.tokenUsage", _json(usage)))
            attrs.append(_kv("mlflow.llm.model", "gpt-4o-mini"))
        spans.append(_span(trace_id, ids[child], root_id, name, child_start, child_start + _CHILD_NS, attrs))
    return spans


def batches(label: str, traces: int, traces_per_batch: int) -> Iterator[bytes]:
    """Serialized export requests holding traces ``0 .. traces - 1`` of set ``label``.

    Args:
        label: Names the set; different labels give different trace and span ids.
        traces: How many traces in all.
        traces_per_batch: Whole traces per request (``* SPANS_PER_TRACE`` spans each).

    Yields:
        One ``ExportTraceServiceRequest`` in protobuf wire format per batch, in order.
    """
    resource = Resource(attributes=[_kv("service.name", "bench-weather-agent")])
    scope = InstrumentationScope(name="mlflow.tracing", version="3.17.2")
    for first in range(0, traces, traces_per_batch):
        spans = [
            s for i in range(first, min(first + traces_per_batch, traces)) for s in _trace_spans(label, i)
        ]
        request = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(resource=resource, scope_spans=[ScopeSpans(scope=scope, spans=spans)])
            ]
        )
        yield request.SerializeToString()


def expected_matches(traces: int) -> int:
    """How many of ``traces`` traces :data:`SEARCH_FILTER` matches."""
    return sum(1 for i in range(traces) if TEAMS[i % len(TEAMS)] == "a")


def trace_count_in(payload: bytes) -> int:
    """The number of distinct traces in one serialized export request."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(payload)
    return len({s.trace_id for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans})
