"""Process-wide tracing setup: the tracer provider, the trace processor, the exporter, the config.

Nothing happens at import. The first traced call picks the tracer provider: the user's global
OpenTelemetry ``TracerProvider`` when one is set (mltrail adds its processor to it, so the same
spans reach the user's exporters and mltrail), else a provider of mltrail's own, set as the
global one once. :func:`configure` changes where and how traces are exported and can add a
standard OTLP exporter so that a second collector receives the same spans.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

from mltrail import __version__, _plugins
from mltrail.artifacts.base import ArtifactRepository
from mltrail.config import Settings
from mltrail.tracing.attachments import DEFAULT_MAX_ATTACHMENT_BYTES
from mltrail.tracing.exporter import ExportStats, QueueFullPolicy, TraceExporter
from mltrail.tracing.processor import Destination, TraceProcessor, TraceRecord
from mltrail.tracing.serialize import DEFAULT_MAX_CHARS
from mltrail.tracing.store.base import TraceStore
from mltrail.tracking import _fluent_state as fluent_state

__all__ = [
    "Runtime",
    "TracingConfig",
    "config",
    "configure",
    "flush_traces",
    "get_export_stats",
    "reset",
    "runtime",
    "set_destination",
    "trace_store",
]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TracingConfig:
    """How traces are captured and exported (see :func:`configure` for each field)."""

    enabled: bool = True
    store: TraceStore | None = None
    tracking_uri: str | None = None
    experiment_id: str | None = None
    max_queue_size: int = 10_000
    max_batch_size: int = 512
    on_queue_full: QueueFullPolicy = "block"
    asynchronous: bool = True
    max_value_chars: int = DEFAULT_MAX_CHARS
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    extract_attachments: bool = True
    otlp_endpoint: str | None = None
    otlp_headers: Mapping[str, str] = field(default_factory=dict)


class _Fanout(SpanProcessor):
    """The one processor mltrail adds to a provider; its delegates can change later."""

    def __init__(self, delegates: tuple[SpanProcessor, ...]) -> None:
        self.delegates = delegates

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for delegate in self.delegates:
            delegate.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for delegate in self.delegates:
            delegate.on_end(span)

    def shutdown(self) -> None:
        for delegate in self.delegates:
            delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(delegate.force_flush(timeout_millis) for delegate in self.delegates)


@dataclass(slots=True)
class Runtime:
    """The OpenTelemetry objects mltrail traces with.

    Attributes:
        provider: The tracer provider (the user's, or mltrail's own).
        tracer: The tracer of mltrail's spans.
        processor: Assembles finished traces.
        owns_provider: True when mltrail created the provider.
    """

    provider: TracerProvider
    tracer: otel_trace.Tracer
    processor: TraceProcessor
    owns_provider: bool
    fanout: _Fanout


_lock = threading.RLock()
_runtime: Runtime | None = None
_config = TracingConfig()
_exporter: TraceExporter | None = None
_otlp: SpanProcessor | None = None
_stores: dict[str, TraceStore] = {}


def config() -> TracingConfig:
    """The tracing configuration in force."""
    return _config


def runtime() -> Runtime:
    """The tracing runtime, set up on first use."""
    current = _runtime
    return current if current is not None else _start()


def _start() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is not None:
            return _runtime
        processor = TraceProcessor(_submit, _destination)
        fanout = _Fanout((processor,))
        existing = otel_trace.get_tracer_provider()
        if isinstance(existing, TracerProvider):
            provider, owns = existing, False
        else:
            provider = TracerProvider(resource=Resource.create({"service.name": "mltrail"}))
            otel_trace.set_tracer_provider(provider)
            owns = True
            if otel_trace.get_tracer_provider() is not provider:
                _logger.warning("mltrail: another tracer provider was set meanwhile; mltrail uses its own")
        provider.add_span_processor(fanout)
        tracer = provider.get_tracer("mltrail", __version__)
        _runtime = Runtime(provider, tracer, processor, owns, fanout)
        _apply_otlp(_config)
        return _runtime


def _destination() -> Destination:
    """Experiment and run of a trace starting now: the configured experiment, else the active run's."""
    run = fluent_state.active_run()
    wanted = _config.experiment_id
    if run is not None and (wanted is None or wanted == run.info.experiment_id):
        return Destination(run.info.experiment_id, run.run_id)
    return Destination(wanted or fluent_state.current_experiment_id())


def _submit(record: TraceRecord) -> None:
    _current_exporter().submit(record)


def _current_exporter() -> TraceExporter:
    global _exporter
    exporter = _exporter
    if exporter is not None:
        return exporter
    with _lock:
        if _exporter is None:
            cfg = _config
            _exporter = TraceExporter(
                trace_store,
                artifact_repository=_artifact_repository,
                max_queue_size=cfg.max_queue_size,
                max_batch_size=cfg.max_batch_size,
                on_queue_full=cfg.on_queue_full,
                asynchronous=cfg.asynchronous,
            )
        return _exporter


_settings: dict[str, Settings] = {}


def _settings_for(uri: str) -> Settings:
    """Settings for stores and repositories of ``uri``, built once per URI (without a client)."""
    settings = _settings.get(uri)
    if settings is None:
        settings = _settings[uri] = Settings().model_copy(update={"tracking_uri": uri})
    return settings


def _tracking_uri() -> str:
    return _config.tracking_uri or fluent_state.get_tracking_uri()


def trace_store() -> TraceStore:
    """The store traces are exported to: the configured one, else the one of the tracking URI."""
    cfg = _config
    if cfg.store is not None:
        return cfg.store
    uri = _tracking_uri()
    store = _stores.get(uri)
    if store is None:
        with _lock:
            store = _stores.get(uri)
            if store is None:
                _ensure_tracking_store(uri)
                store = _stores[uri] = _plugins.resolve_trace_store(uri, _settings_for(uri))
    return store


def _ensure_tracking_store(uri: str) -> None:
    """Open the tracking store of ``uri`` once, so its schema and default experiment exist."""
    if uri == fluent_state.get_tracking_uri():
        fluent_state.default_client()
        return
    _plugins.resolve_tracking_store(uri, _settings_for(uri)).close()


def _artifact_repository(location: str) -> ArtifactRepository:
    uri = _tracking_uri()
    return _plugins.resolve_artifact_repository(location, tracking_uri=uri, settings=_settings_for(uri))


def _apply_otlp(cfg: TracingConfig) -> None:
    """Add (or replace, or remove) the standard OTLP exporter for a second collector."""
    global _otlp
    rt = _runtime
    if rt is None:
        return
    old = _otlp
    new: SpanProcessor | None = None
    if cfg.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        new = BatchSpanProcessor(OTLPSpanExporter(endpoint=cfg.otlp_endpoint, headers=dict(cfg.otlp_headers)))
    rt.fanout.delegates = (rt.processor,) if new is None else (rt.processor, new)
    _otlp = new
    if old is not None:
        old.shutdown()


def configure(**changes: Any) -> TracingConfig:
    """Change how traces are captured and exported; unspecified settings keep their values.

    Traces already finished are flushed to the old destination first.

    Keyword Args:
        enabled (bool): False turns ``@trace`` and ``start_span`` into plain calls.
        store (TraceStore | None): Export to this store instead of the tracking URI's.
        tracking_uri (str | None): Export to this URI instead of the fluent API's.
        experiment_id (str | None): Put traces in this experiment instead of the active one.
        max_queue_size (int): Finished traces that may wait for export (default 10,000).
        max_batch_size (int): Most traces written per store call (default 512).
        on_queue_full ("block" | "drop"): Wait for room (default) or drop and count the trace.
        asynchronous (bool): False exports each trace in the thread that ends it.
        max_value_chars (int): Cap on the JSON of one captured input or output.
        max_attachment_bytes (int): Cap on one attachment.
        extract_attachments (bool): Turn data URLs and audio parts into attachments.
        otlp_endpoint (str | None): Also send every span to this OTLP/HTTP collector
            (e.g. ``http://collector:4318/v1/traces``).
        otlp_headers (Mapping[str, str]): Headers for that collector.

    Returns:
        The new configuration.

    Raises:
        TypeError: an unknown setting.
    """
    global _config, _exporter
    with _lock:
        new = replace(_config, **changes)
        old_exporter, _exporter = _exporter, None
        _config = new
        if old_exporter is not None:
            old_exporter.shutdown()
        if "otlp_endpoint" in changes or "otlp_headers" in changes:
            _apply_otlp(new)
    return new


def set_destination(experiment_id: str | None = None, *, tracking_uri: str | None = None) -> None:
    """Send new traces to an experiment (and tracking URI) other than the fluent API's active one.

    Args:
        experiment_id: The experiment; None goes back to the active experiment.
        tracking_uri: The store's URI; None goes back to the fluent API's tracking URI.
    """
    configure(experiment_id=experiment_id, tracking_uri=tracking_uri)


def flush_traces(timeout: float | None = None) -> bool:
    """Wait until every finished trace is exported.

    Args:
        timeout: Most seconds to wait; None waits as long as it takes.

    Returns:
        True when everything was exported (or failed and was logged) in time.
    """
    exporter = _exporter
    done = exporter.flush(timeout) if exporter is not None else True
    otlp = _otlp
    if otlp is not None:
        done = otlp.force_flush(int((timeout or 30.0) * 1000)) and done
    return done


def get_export_stats() -> ExportStats:
    """Counters of the current exporter: submitted, exported, dropped, failed, queued."""
    return _current_exporter().stats()


def reset() -> None:
    """Flush and stop the exporter and restore the default configuration (for tests).

    The tracer provider stays: OpenTelemetry sets a global provider only once per process.
    """
    global _config, _exporter, _otlp
    with _lock:
        if _exporter is not None:
            _exporter.shutdown()
        _exporter = None
        _config = TracingConfig()
        _stores.clear()
        _settings.clear()
        if _runtime is not None:
            _runtime.processor.shutdown()
            _apply_otlp(_config)
