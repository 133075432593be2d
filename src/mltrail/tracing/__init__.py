"""Tracing: OpenTelemetry-based traces of LLM apps and agents.

``tracing.entities`` holds the trace model (``TraceInfo``, ``SpanData``, ``Trace``);
``tracing.store`` the ``TraceStore`` port and its SQL and REST adapters; ``tracing.otlp`` and
``tracing.wire`` the OTLP and MLflow wire forms; ``tracing.semconv`` the translation of
OpenTelemetry GenAI / OpenInference / Traceloop conventions.
"""
