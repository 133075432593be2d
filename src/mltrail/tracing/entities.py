"""Tracing entities: trace info, spans with full OpenTelemetry fidelity, and whole traces.

Plain frozen dataclasses with no I/O. A span keeps everything OTLP carries (resource, scope,
typed attributes, events, links, status) so that a trace read back is the trace that was sent.
Ids are lowercase hex as in OTLP/JSON; the MLflow trace id is ``"tr-" + <32 hex>``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TRACE_ID_PREFIX",
    "Assessment",
    "SpanData",
    "SpanEvent",
    "SpanLink",
    "SpanStatusCode",
    "Trace",
    "TraceInfo",
    "TraceState",
    "hex_trace_id",
    "mlflow_trace_id",
]

TRACE_ID_PREFIX = "tr-"


class TraceState(enum.StrEnum):
    """State of a whole trace (proto ``TraceInfoV3.State``)."""

    STATE_UNSPECIFIED = "STATE_UNSPECIFIED"
    OK = "OK"
    ERROR = "ERROR"
    IN_PROGRESS = "IN_PROGRESS"


class SpanStatusCode(enum.StrEnum):
    """Status of one span, as OpenTelemetry names it (without the ``STATUS_CODE_`` prefix)."""

    UNSET = "UNSET"
    OK = "OK"
    ERROR = "ERROR"


def mlflow_trace_id(otel_trace_id: str) -> str:
    """The MLflow trace id (``tr-<32 hex>``) of an OpenTelemetry trace id in hex."""
    return TRACE_ID_PREFIX + otel_trace_id.lower()


def hex_trace_id(trace_id: str) -> str:
    """The 32-hex OpenTelemetry trace id of an MLflow trace id (``tr-`` prefix optional)."""
    return trace_id[len(TRACE_ID_PREFIX) :] if trace_id.startswith(TRACE_ID_PREFIX) else trace_id


@dataclass(frozen=True, slots=True)
class Assessment:
    """A judgement attached to a trace (MLflow ``Assessment``): feedback, expectation or issue.

    Attributes:
        assessment_id: ``a-<32 hex>``, set by the store.
        trace_id: The trace judged.
        name: The assessment name (e.g. ``"correctness"``).
        kind: ``"feedback"``, ``"expectation"`` or ``"issue"``.
        payload: The kind's message as on the wire (``{"value": ...}``, with ``error`` for
            feedback or ``serialized_value`` for expectations).
        source_type: ``HUMAN``, ``LLM_JUDGE``, ``CODE`` or ``SOURCE_TYPE_UNSPECIFIED``.
        source_id: Who or what made it.
        create_time: ms since the epoch.
        last_update_time: ms since the epoch.
        span_id: A span of the trace it is about, if any.
        rationale: Why.
        metadata: String metadata.
        overrides: The id of the assessment this one supersedes.
        valid: False once superseded.
        error: An error of the assessment itself (``error_code``, ``error_message`` ...).
    """

    assessment_id: str
    trace_id: str
    name: str
    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    source_type: str = "SOURCE_TYPE_UNSPECIFIED"
    source_id: str = ""
    create_time: int = 0
    last_update_time: int = 0
    span_id: str | None = None
    rationale: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    overrides: str | None = None
    valid: bool = True
    error: Mapping[str, Any] | None = None

    @property
    def value(self) -> Any:
        """The judged value (``payload["value"]``), None when absent."""
        return self.payload.get("value")


@dataclass(frozen=True, slots=True)
class TraceInfo:
    """Metadata of one trace (MLflow ``TraceInfoV3``).

    Attributes:
        trace_id: ``tr-`` followed by the 32 lowercase hex digits of the OTel trace id.
        experiment_id: The experiment the trace belongs to.
        request_time: Start of the trace, ms since the epoch.
        execution_duration: Duration in ms, None while unknown.
        state: OK, ERROR, IN_PROGRESS or STATE_UNSPECIFIED.
        request_preview: Truncated JSON of the root span inputs.
        response_preview: Truncated JSON of the root span outputs.
        client_request_id: A caller-chosen id, if any.
        trace_metadata: Immutable-ish string metadata (``mlflow.trace.*``, ``mlflow.sourceRun`` ...).
        tags: Mutable string tags.
        assessments: Assessments of the trace (filled by reads that return them).
    """

    trace_id: str
    experiment_id: str
    request_time: int
    execution_duration: int | None = None
    state: TraceState = TraceState.OK
    request_preview: str | None = None
    response_preview: str | None = None
    client_request_id: str | None = None
    trace_metadata: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    assessments: tuple[Assessment, ...] = ()

    @property
    def otel_trace_id(self) -> str:
        """The 32-hex OpenTelemetry trace id."""
        return hex_trace_id(self.trace_id)

    @property
    def end_time(self) -> int | None:
        """``request_time + execution_duration`` in ms, None while the duration is unknown."""
        if self.execution_duration is None:
            return None
        return self.request_time + self.execution_duration


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """A timestamped event on a span (e.g. an exception or a stream chunk)."""

    name: str
    time_unix_nano: int
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SpanLink:
    """A link from a span to another span, possibly of another trace (ids in hex)."""

    trace_id: str
    span_id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    trace_state: str = ""


@dataclass(frozen=True, slots=True)
class SpanData:
    """One span with everything OTLP carries.

    Attributes:
        trace_id: 32 lowercase hex digits (the OTel trace id, without ``tr-``).
        span_id: 16 lowercase hex digits.
        parent_span_id: The parent's span id, None for a root span.
        name: Span name.
        kind: OTel ``SpanKind`` number (0 unspecified, 1 internal, 2 server, 3 client, ...).
        start_time_unix_nano: Start, ns since the epoch.
        end_time_unix_nano: End, ns since the epoch; None while the span is open.
        status_code: ``"UNSET"``, ``"OK"`` or ``"ERROR"``.
        status_message: Status description (usually set with ERROR).
        attributes: Typed native values: str, int, float, bool, bytes, lists and dicts of them.
        events: Span events in order.
        links: Span links in order.
        resource: Attributes of the OTel resource that produced the span.
        scope_name: Instrumentation scope name.
        scope_version: Instrumentation scope version.
        trace_state: W3C trace state of the span context.
        flags: OTLP span flags.
    """

    trace_id: str
    span_id: str
    name: str
    start_time_unix_nano: int
    end_time_unix_nano: int | None = None
    parent_span_id: str | None = None
    kind: int = 1
    status_code: str = "UNSET"
    status_message: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    links: tuple[SpanLink, ...] = ()
    resource: Mapping[str, Any] = field(default_factory=dict)
    scope_name: str = ""
    scope_version: str = ""
    trace_state: str = ""
    flags: int = 0

    @property
    def mlflow_trace_id(self) -> str:
        """The MLflow trace id ``tr-<hex>`` this span belongs to."""
        return mlflow_trace_id(self.trace_id)

    @property
    def is_root(self) -> bool:
        """True when the span has no parent."""
        return not self.parent_span_id

    @property
    def span_type(self) -> str | None:
        """The ``mlflow.spanType`` attribute, if any."""
        value = self.attributes.get("mlflow.spanType")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Trace:
    """A trace: its info and its spans (in storage order, parents not necessarily first)."""

    info: TraceInfo
    spans: tuple[SpanData, ...] = ()

    @property
    def root_span(self) -> SpanData | None:
        """The span without a parent, if it has arrived."""
        for span in self.spans:
            if span.is_root:
                return span
        return None
