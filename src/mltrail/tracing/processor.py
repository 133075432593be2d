"""The OpenTelemetry span processor that assembles finished traces.

``TraceProcessor`` sees every span the tracer provider starts and ends. It opens a
:class:`TraceRecord` when a trace's root span starts (capturing the destination experiment and
run of that moment), collects the trace's spans as they end, and hands the record to a sink (the
exporter) when the root span ends. It does no I/O and no conversion, so the traced call pays
only for a dict lookup and a list append.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from mltrail.tracing.entities import mlflow_trace_id

__all__ = ["Destination", "PendingAttachment", "TraceProcessor", "TraceRecord"]

_RECENT_TRACES = 1024


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a trace goes: the experiment and, when one was active, the run it is linked to."""

    experiment_id: str
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class PendingAttachment:
    """Bytes referenced from a span, uploaded to the trace's artifact location on export."""

    attachment_id: str
    content_type: str
    data: bytes


@dataclass(slots=True, eq=False)
class TraceRecord:
    """A trace being assembled: its spans so far and the trace-level values set by the user.

    Attributes:
        trace_id: The MLflow trace id (``tr-<hex>``).
        otel_trace_id: The OTel trace id as an int.
        root_span_id: The OTel span id of the local root span.
        destination: Experiment (and run) the trace is stored in.
        spans: Finished spans, in the order they ended.
        tags: Trace tags set with ``update_current_trace``.
        metadata: Trace metadata set with ``update_current_trace``.
        client_request_id: A caller-chosen id.
        request_preview: Overrides the preview computed from the root inputs.
        response_preview: Overrides the preview computed from the root outputs.
        attachments: Bytes to upload once the trace's artifact location is known.
        attachment_ids: The id of each attachment taken, by content type and SHA-256 of its
            bytes, so that equal bytes recurring in the trace are stored once.
        partial: True for spans that ended after their root (exported as spans only).
    """

    trace_id: str
    otel_trace_id: int
    root_span_id: int
    destination: Destination
    spans: list[ReadableSpan] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    client_request_id: str | None = None
    request_preview: str | None = None
    response_preview: str | None = None
    attachments: list[PendingAttachment] = field(default_factory=list)
    attachment_ids: dict[tuple[str, bytes], str] = field(default_factory=dict)
    partial: bool = False


class TraceProcessor(SpanProcessor):
    """Collects the spans of each trace and passes the finished trace to ``sink``.

    A trace is recorded from the first span of mltrail's tracer (instrumentation scope
    ``scope``) that has no open record: spans of other instrumentations (a web framework, an
    HTTP client) join a trace mltrail opened, but never open one themselves, so an
    instrumented server does not turn each request into an mltrail trace. When that first span
    has a parent outside mltrail (the user's own span, or a remote one), it becomes the root of
    the mltrail trace.

    Args:
        sink: Called with each finished trace, from the thread that ended the root span.
        destination: Called when a root span starts; says where the new trace goes.
        scope: Instrumentation scope name of mltrail's tracer.
    """

    def __init__(
        self,
        sink: Callable[[TraceRecord], None],
        destination: Callable[[], Destination],
        scope: str = "mltrail",
    ) -> None:
        self._sink = sink
        self._scope = scope
        self._destination = destination
        self._lock = threading.Lock()
        self._open: dict[int, TraceRecord] = {}
        self._recent: OrderedDict[int, Destination] = OrderedDict()

    def record(self, otel_trace_id: int) -> TraceRecord | None:
        """The open record of a trace, None when the trace is not being assembled here."""
        return self._open.get(otel_trace_id)

    @property
    def open_traces(self) -> int:
        """How many traces have started and not yet ended."""
        return len(self._open)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Open a record when the root span of a trace starts."""
        span_context = span.get_span_context()
        trace_id = span_context.trace_id
        record = self._open.get(trace_id)
        if record is None:
            scope = span.instrumentation_scope
            if scope is None or scope.name != self._scope:
                return
            record = TraceRecord(
                trace_id=mlflow_trace_id(format(trace_id, "032x")),
                otel_trace_id=trace_id,
                root_span_id=span_context.span_id,
                destination=self._destination(),
            )
            with self._lock:
                self._open[trace_id] = record

    def on_end(self, span: ReadableSpan) -> None:
        """Add the span to its trace; when it is the root, hand the whole trace to the sink."""
        span_context = span.context
        if span_context is None:
            return
        trace_id = span_context.trace_id
        record = self._open.get(trace_id)
        if record is None:
            self._late_span(trace_id, span)
            return
        record.spans.append(span)
        if span_context.span_id == record.root_span_id:
            with self._lock:
                self._open.pop(trace_id, None)
                self._recent[trace_id] = record.destination
                if len(self._recent) > _RECENT_TRACES:
                    self._recent.popitem(last=False)
            self._sink(record)

    def _late_span(self, trace_id: int, span: ReadableSpan) -> None:
        """Export a span that ended after its root as a partial trace (stores upsert spans)."""
        destination = self._recent.get(trace_id)
        scope = span.instrumentation_scope
        if destination is None or span.context is None or scope is None or scope.name != self._scope:
            return
        self._sink(
            TraceRecord(
                trace_id=mlflow_trace_id(format(trace_id, "032x")),
                otel_trace_id=trace_id,
                root_span_id=0,
                destination=destination,
                spans=[span],
                partial=True,
            )
        )

    def shutdown(self) -> None:
        """Forget open traces."""
        with self._lock:
            self._open.clear()
            self._recent.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here beyond open traces; the exporter flushes."""
        return True
