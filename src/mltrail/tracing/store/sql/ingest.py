"""What span ingest derives for each trace (spec TRACING §4 server behaviour), as pure logic.

:func:`prepare_spans` translates conventions and groups spans by trace; :func:`summarize` turns
one trace's new spans (plus what the store already holds) into the trace info columns, tags and
metadata to upsert: times, state and previews from the root span, token usage and cost summed
over every span, sessions and users, ``mlflow.traceTag.*`` attributes as tags.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from mltrail.tracing import _keys as k
from mltrail.tracing.entities import SpanData, TraceState, mlflow_trace_id
from mltrail.tracing.semconv import (
    aggregate_cost,
    aggregate_token_usage,
    token_usage_of,
    translate_attributes,
)

__all__ = ["ExistingTrace", "TraceSummary", "prepare_spans", "preview", "summarize", "truncate"]


@dataclass(frozen=True, slots=True)
class ExistingTrace:
    """What the store already holds of a trace that new spans extend."""

    request_time: int
    execution_duration: int | None
    state: TraceState
    finalized: bool
    usages: tuple[Mapping[str, int], ...] = ()
    costs: tuple[Any, ...] = ()
    request_preview: str | None = None
    response_preview: str | None = None


@dataclass(slots=True)
class TraceSummary:
    """The trace info columns, tags and metadata one ingest batch sets for one trace."""

    trace_id: str
    request_time: int
    execution_duration: int | None
    state: TraceState
    request_preview: str | None = None
    response_preview: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def preview(value: Any) -> str | None:
    """The preview text of a root span's inputs or outputs (JSON, at most 1000 characters)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return truncate(text, k.PREVIEW_MAX_CHARS)


def prepare_spans(spans: Iterable[SpanData]) -> dict[str, list[SpanData]]:
    """Translate conventions and group spans by MLflow trace id (first-seen order; last copy wins)."""
    grouped: dict[str, dict[str, SpanData]] = {}
    for span in spans:
        trace_id = mlflow_trace_id(span.trace_id)
        attrs = translate_attributes(span.attributes)
        attrs[k.TRACE_REQUEST_ID] = trace_id
        grouped.setdefault(trace_id, {})[span.span_id] = dataclasses.replace(span, attributes=attrs)
    return {trace_id: list(by_id.values()) for trace_id, by_id in grouped.items()}


def _root(spans: Sequence[SpanData]) -> SpanData | None:
    return next((s for s in spans if s.is_root), None)


def _state_of(root: SpanData) -> TraceState:
    if root.end_time_unix_nano is None:
        return TraceState.IN_PROGRESS
    return TraceState.ERROR if root.status_code == "ERROR" else TraceState.OK


def _dump(value: Mapping[str, Any]) -> str:
    return orjson.dumps(value).decode()


def summarize(
    trace_id: str,
    spans: Sequence[SpanData],
    existing: ExistingTrace | None,
    *,
    artifact_root: str,
    run_id: str | None = None,
) -> TraceSummary:
    """Derive one trace's info, tags and metadata from its new spans.

    Args:
        trace_id: The MLflow trace id.
        spans: The new spans of the trace (already prepared).
        existing: What the store holds of the trace, None for a new trace.
        artifact_root: The experiment's artifact location.
        run_id: A run to link the trace to.
    """
    starts = [s.start_time_unix_nano // 1_000_000 for s in spans]
    ends = [s.end_time_unix_nano // 1_000_000 for s in spans if s.end_time_unix_nano is not None]
    request_time = min(starts)
    end = max(ends) if ends else None
    root = _root(spans)
    if existing is not None:
        request_time = min(request_time, existing.request_time)
        if existing.execution_duration is not None:
            old_end = existing.request_time + existing.execution_duration
            end = old_end if end is None else max(end, old_end)
    state = _state_of(root) if root is not None else TraceState.IN_PROGRESS
    summary = TraceSummary(
        trace_id=trace_id,
        request_time=request_time,
        execution_duration=None if end is None else max(0, end - request_time),
        state=state,
    )
    if existing is not None and root is None:
        summary.state = existing.state
        summary.request_preview = existing.request_preview
        summary.response_preview = existing.response_preview
    summary.tags[k.TAG_SPANS_LOCATION] = k.SPANS_LOCATION_TRACKING_STORE
    summary.tags[k.TAG_ARTIFACT_LOCATION] = f"{artifact_root.rstrip('/')}/traces/{trace_id}/artifacts"
    if existing is None:
        summary.metadata[k.META_SCHEMA_VERSION] = "3"
    if run_id:
        summary.metadata[k.META_SOURCE_RUN] = run_id
    if root is not None:
        summary.tags[k.TAG_TRACE_NAME] = truncate(root.name, k.TAG_VALUE_MAX_CHARS)
        summary.request_preview = preview(root.attributes.get(k.SPAN_INPUTS))
        summary.response_preview = preview(root.attributes.get(k.SPAN_OUTPUTS))
        for key, value in root.attributes.items():
            if key.startswith(k.TRACE_TAG_PREFIX) and len(key) > len(k.TRACE_TAG_PREFIX):
                text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
                summary.tags[key[len(k.TRACE_TAG_PREFIX) :][: k.TAG_KEY_MAX_CHARS]] = truncate(
                    text, k.TAG_VALUE_MAX_CHARS
                )
        service = root.resource.get(k.SERVICE_NAME)
        if isinstance(service, str) and service in k.SERVICE_NAME_ALLOWLIST:
            summary.tags[k.SERVICE_NAME] = service
    for span in spans:
        session = span.attributes.get(k.SESSION_ID) or span.attributes.get(k.GEN_AI_CONVERSATION_ID)
        if session is not None and k.META_SESSION not in summary.metadata:
            summary.metadata[k.META_SESSION] = truncate(str(session), k.METADATA_VALUE_MAX_CHARS)
        user = span.attributes.get(k.USER_ID)
        if user is not None and k.META_USER not in summary.metadata:
            summary.metadata[k.META_USER] = truncate(str(user), k.METADATA_VALUE_MAX_CHARS)
    usages: list[Mapping[str, int]] = [u for s in spans if (u := token_usage_of(s.attributes)) is not None]
    costs = [s.attributes[k.LLM_COST] for s in spans if k.LLM_COST in s.attributes]
    if existing is not None:
        usages.extend(existing.usages)
        costs.extend(existing.costs)
    usage = aggregate_token_usage(usages)
    if usage is not None:
        summary.metadata[k.META_TOKEN_USAGE] = _dump(usage)
    cost = aggregate_cost(costs)
    if cost is not None:
        summary.metadata[k.META_COST] = _dump(cost)
    return summary
