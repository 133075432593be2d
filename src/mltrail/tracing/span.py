"""``LiveSpan``: the handle user code gets for a span that is still open.

It wraps an OpenTelemetry span and writes MLflow's attributes onto it: inputs and outputs are
captured safely (any object, size-capped, attachments taken out), other ``mlflow.*`` values are
stored as JSON text as MLflow's SDK stores them.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.trace import Status, StatusCode

from mltrail.tracing import attributes as attr
from mltrail.tracing.attachments import capture
from mltrail.tracing.entities import mlflow_trace_id
from mltrail.tracing.processor import TraceRecord
from mltrail.tracing.serialize import to_json
from mltrail.tracing.setup import config

__all__ = ["LiveSpan", "attribute_value"]

_PRIMITIVES = (str, bool, int, float)


def attribute_value(key: str, value: Any) -> Any:
    """The OTel attribute value for ``value``: JSON text for ``mlflow.*`` keys and non-primitives."""
    if key.startswith(attr.MLFLOW_PREFIX) or not isinstance(value, _PRIMITIVES):
        return to_json(value, config().max_value_chars)
    return value


class LiveSpan:
    """An open span of a trace.

    Args:
        span: The OpenTelemetry span.
        record: The trace it belongs to, when mltrail is assembling that trace.
    """

    __slots__ = ("_record", "_span")

    def __init__(self, span: otel_trace.Span, record: TraceRecord | None) -> None:
        self._span = span
        self._record = record

    @property
    def otel_span(self) -> otel_trace.Span:
        """The underlying OpenTelemetry span."""
        return self._span

    @property
    def span_id(self) -> str:
        """The span id in hex."""
        return format(self._span.get_span_context().span_id, "016x")

    @property
    def trace_id(self) -> str:
        """The MLflow trace id (``tr-<hex>``)."""
        return mlflow_trace_id(format(self._span.get_span_context().trace_id, "032x"))

    @property
    def name(self) -> str:
        """The span name."""
        return str(getattr(self._span, "name", ""))

    def _capture(self, key: str, value: Any) -> None:
        cfg = config()
        captured = capture(
            value,
            trace_id=self.trace_id,
            max_chars=cfg.max_value_chars,
            max_bytes=cfg.max_attachment_bytes,
            extract=cfg.extract_attachments,
            known=self._record.attachment_ids if self._record is not None else None,
        )
        self._span.set_attribute(key, captured.text)
        if captured.attachments and self._record is not None:
            self._record.attachments.extend(captured.attachments)
        for message in captured.oversized:
            self._span.add_event(
                attr.EXCEPTION_EVENT,
                {attr.EXCEPTION_TYPE: "AttachmentTooLargeError", attr.EXCEPTION_MESSAGE: message},
            )

    def set_inputs(self, inputs: Any) -> None:
        """Record the span's inputs (any object)."""
        self._capture(attr.SPAN_INPUTS, inputs)

    def set_outputs(self, outputs: Any) -> None:
        """Record the span's outputs (any object)."""
        self._capture(attr.SPAN_OUTPUTS, outputs)

    def set_span_type(self, span_type: str) -> None:
        """Set the span type (see :class:`~mltrail.tracing.attributes.SpanType`)."""
        self._span.set_attribute(attr.SPAN_TYPE, to_json(str(span_type)))

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute; values other than str, bool, int and float are stored as JSON."""
        self._span.set_attribute(key, attribute_value(key, value))

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes (see :meth:`set_attribute`)."""
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def set_token_usage(self, input_tokens: int, output_tokens: int, total_tokens: int | None = None) -> None:
        """Record the tokens an LLM call used (summed into the trace's ``mlflow.trace.tokenUsage``)."""
        usage = {
            attr.INPUT_TOKENS: input_tokens,
            attr.OUTPUT_TOKENS: output_tokens,
            attr.TOTAL_TOKENS: total_tokens if total_tokens is not None else input_tokens + output_tokens,
        }
        self.set_attribute(attr.CHAT_TOKEN_USAGE, usage)

    def set_cost(self, input_cost: float, output_cost: float) -> None:
        """Record the USD cost of an LLM call (summed into the trace's ``mlflow.trace.cost``)."""
        cost = {
            attr.INPUT_COST: input_cost,
            attr.OUTPUT_COST: output_cost,
            attr.TOTAL_COST: input_cost + output_cost,
        }
        self.set_attribute(attr.LLM_COST, cost)

    def set_status(self, status: str, description: str | None = None) -> None:
        """Set the status: ``"OK"``, ``"ERROR"`` or ``"UNSET"``."""
        code = StatusCode[str(status).upper().removeprefix("STATUS_CODE_")]
        self._span.set_status(Status(code, description if code is StatusCode.ERROR else None))

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None:
        """Add a timestamped event."""
        values = {k: attribute_value(k, v) for k, v in (attributes or {}).items()}
        self._span.add_event(name, values)

    def record_exception(self, exc: BaseException) -> None:
        """Add an ``exception`` event and set the status to ERROR."""
        self._span.add_event(
            attr.EXCEPTION_EVENT,
            {
                attr.EXCEPTION_TYPE: type(exc).__qualname__,
                attr.EXCEPTION_MESSAGE: str(exc),
                attr.EXCEPTION_STACKTRACE: "".join(traceback.format_exception(exc)),
            },
        )
        self._span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))

    def end(self) -> None:
        """End the span (an unset status becomes OK)."""
        span = self._span
        if getattr(span, "status", None) is not None and span.status.status_code is StatusCode.UNSET:  # type: ignore[attr-defined]
            span.set_status(Status(StatusCode.OK))
        span.end()

    def __repr__(self) -> str:
        return f"LiveSpan(name={self.name!r}, trace_id={self.trace_id!r}, span_id={self.span_id!r})"
