"""The trace store contract: everything a backend must do to hold traces and their spans.

Implementations: ``SqlTraceStore`` (SQLite, PostgreSQL, MySQL/MariaDB; local mode and the
server) and ``RestTraceStore`` (an mltrail or MLflow >= 3.4 server). One contract suite
(``tests/tracing_backend/test_trace_store_contract.py``) runs against every implementation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mltrail.errors import NotImplementedFeatureError
from mltrail.tracing.entities import Assessment, SpanData, Trace, TraceInfo, TraceState
from mltrail.tracing.store.analytics import Aggregation, FilterCorrelation, MetricPoint, ViewType
from mltrail.tracking.entities import Page

__all__ = [
    "QUERY_TRACE_METRICS_MAX_RESULTS_DEFAULT",
    "SEARCH_TRACES_MAX_RESULTS_DEFAULT",
    "SEARCH_TRACES_MAX_RESULTS_LIMIT",
    "DeletedTraces",
    "TraceStore",
]

SEARCH_TRACES_MAX_RESULTS_DEFAULT = 100
SEARCH_TRACES_MAX_RESULTS_LIMIT = 50000
QUERY_TRACE_METRICS_MAX_RESULTS_DEFAULT = 1000


@dataclass(frozen=True, slots=True)
class DeletedTraces:
    """What :meth:`TraceStore.remove_traces` deleted.

    Attributes:
        count: How many traces were deleted.
        artifact_locations: ``(trace_id, mlflow.artifactLocation)`` of the deleted traces that
            had one: where their attachments (and, for older clients, their spans) are kept.
    """

    count: int
    artifact_locations: tuple[tuple[str, str], ...] = ()


class TraceStore(ABC):
    """Abstract store of traces: trace infos, spans, tags and run links.

    Every method raises a subclass of :class:`mltrail.errors.MltrailError` on failure:
    ``NotFoundError`` for unknown trace ids, ``InvalidArgumentError`` for broken rules (bad
    filter, limits), ``BackendError`` when the backend itself fails. Trace ids are the MLflow
    form ``tr-<32 hex>``.
    """

    @abstractmethod
    def log_spans(
        self, experiment_id: str, spans: Sequence[SpanData], *, run_id: str | None = None
    ) -> list[TraceInfo]:
        """Store spans, creating or updating the trace info of every trace they belong to.

        Spans are upserted by ``(trace_id, span_id)``, so partial and repeated batches are fine.
        For a trace not yet known a ``TraceInfo`` is created: ``request_time`` = min span start,
        duration = max end - min start, state from the root span status (OK/ERROR; IN_PROGRESS
        while no finished root), tags ``mlflow.traceName`` (root name),
        ``mlflow.trace.spansLocation=TRACKING_STORE`` and ``mlflow.artifactLocation``.
        Semantic conventions (GenAI, OpenInference, Traceloop) are translated into
        ``mlflow.spanType`` / ``mlflow.chat.tokenUsage`` / ``mlflow.llm.model`` / inputs and
        outputs; token usage and cost are aggregated into trace metadata; ``session.id`` /
        ``user.id`` become ``mlflow.trace.session`` / ``mlflow.trace.user``; root attributes
        ``mlflow.traceTag.<k>`` become tag ``<k>``. The whole batch is stored or nothing.

        Args:
            experiment_id: Experiment the traces belong to (must exist).
            spans: Spans of one or more traces, in any order.
            run_id: When given, traces are linked to this run (metadata ``mlflow.sourceRun``).

        Returns:
            The trace info of each trace touched, after the write, in first-seen order.
        """

    @abstractmethod
    def start_trace(self, info: TraceInfo) -> TraceInfo:
        """Create or complete a trace info (MLflow's StartTraceV3, sent when a trace ends).

        If the trace already exists (its spans arrived first), the given metadata and tags are
        merged over the stored ones and the given state, times and previews win. The store
        sets metadata ``mlflow.trace.infoFinalized=true`` and tags
        ``mlflow.trace.spansLocation=TRACKING_STORE`` and ``mlflow.artifactLocation``.

        Args:
            info: The trace info the client built.

        Returns:
            The stored trace info with the server's additions.
        """

    @abstractmethod
    def get_trace_info(self, trace_id: str) -> TraceInfo:
        """Return the info of one trace; ``NotFoundError`` when unknown."""

    @abstractmethod
    def get_trace(self, trace_id: str) -> Trace:
        """Return one trace with all its stored spans; ``NotFoundError`` when unknown."""

    @abstractmethod
    def batch_get_traces(self, trace_ids: Sequence[str]) -> list[Trace]:
        """Return the traces among ``trace_ids`` that exist, with their spans (unknown ids skipped)."""

    def batch_get_trace_infos(self, trace_ids: Sequence[str]) -> list[TraceInfo]:
        """Return the infos of the existing traces among ``trace_ids`` (unknown ids skipped).

        The default reads whole traces; stores override it to skip the spans.
        """
        return [trace.info for trace in self.batch_get_traces(trace_ids)]

    @abstractmethod
    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[TraceInfo]:
        """Search trace infos of the given experiments.

        Args:
            experiment_ids: Experiments to search in.
            filter_string: Filter in the grammar of spec TRACING.md §5 (AND of clauses).
            max_results: Page size, at most ``SEARCH_TRACES_MAX_RESULTS_LIMIT``.
            order_by: ``"<key> [ASC|DESC]"`` items; default ``timestamp_ms DESC``, ties by id.
            page_token: Token of a previous page.

        Returns:
            One page of trace infos and the token of the next page.
        """

    @abstractmethod
    def delete_traces(
        self,
        experiment_id: str,
        *,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete traces of one experiment, by ids or by age, and return how many were deleted.

        Either ``trace_ids`` or ``max_timestamp_millis`` must be given, not both. With
        ``max_timestamp_millis``, traces with ``request_time <= max_timestamp_millis`` are deleted,
        oldest first, at most ``max_traces`` of them when given.
        """

    def remove_traces(
        self,
        experiment_id: str,
        *,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> DeletedTraces:
        """:meth:`delete_traces`, also saying where the deleted traces kept their artifacts.

        The caller removes those artifacts (it knows how to reach the artifact store). Stores
        that cannot say, such as the REST store whose server removes them itself, give none.
        """
        count = self.delete_traces(
            experiment_id,
            max_timestamp_millis=max_timestamp_millis,
            max_traces=max_traces,
            trace_ids=trace_ids,
        )
        return DeletedTraces(count)

    @abstractmethod
    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        """Set (or overwrite) a tag of a trace."""

    @abstractmethod
    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Delete a tag of a trace; ``NotFoundError`` when the trace or the tag does not exist."""

    @abstractmethod
    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        """Link up to 100 traces to a run (metadata ``mlflow.sourceRun``)."""

    # Assessments are optional: stores without them answer NotImplementedFeatureError.

    def create_assessment(self, assessment: Assessment) -> Assessment:
        """Store a new assessment of an existing trace; the store sets id and times.

        When ``overrides`` names another assessment of the trace, that one becomes invalid.
        """
        raise NotImplementedFeatureError("This trace store does not support assessments.")

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        """Return one assessment; ``NotFoundError`` when unknown."""
        raise NotImplementedFeatureError("This trace store does not support assessments.")

    def update_assessment(self, trace_id: str, assessment_id: str, changes: Mapping[str, Any]) -> Assessment:
        """Change an assessment: ``changes`` may hold ``name``, ``kind`` with ``payload``,
        ``rationale`` and ``metadata`` (merged). Returns the updated assessment."""
        raise NotImplementedFeatureError("This trace store does not support assessments.")

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        """Delete an assessment; the one it overrode, if any, becomes valid again."""
        raise NotImplementedFeatureError("This trace store does not support assessments.")

    # Legacy V2 trace lifecycle and analytics are optional too.

    def start_trace_v2(
        self,
        experiment_id: str,
        timestamp_ms: int,
        request_metadata: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> TraceInfo:
        """Create an IN_PROGRESS trace with a new id (MLflow's deprecated V2 StartTrace).

        Its spans are expected in the artifact store (the V2 client uploads ``traces.json`` to
        the tag ``mlflow.artifactLocation`` the store sets), not in the tracking store.
        """
        raise NotImplementedFeatureError("This trace store does not support the V2 trace API.")

    def end_trace_v2(
        self,
        trace_id: str,
        timestamp_ms: int,
        state: TraceState,
        request_metadata: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> TraceInfo:
        """Complete a trace (V2 EndTrace): duration up to ``timestamp_ms``, state, merged maps."""
        raise NotImplementedFeatureError("This trace store does not support the V2 trace API.")

    def calculate_filter_correlation(
        self,
        experiment_ids: Sequence[str],
        filter_string1: str,
        filter_string2: str,
        base_filter: str | None = None,
    ) -> FilterCorrelation:
        """Count the traces matching each filter, both, and all (within ``base_filter``), and
        score the two filters' association (NPMI, see :mod:`mltrail.tracing.store.analytics`)."""
        raise NotImplementedFeatureError("This trace store does not support trace analytics.")

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
        """Aggregate one metric of traces, spans or assessments, grouped by dimensions and
        optionally by time bucket (``time_interval_seconds`` needs both time bounds)."""
        raise NotImplementedFeatureError("This trace store does not support trace analytics.")

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing to release
        """Release resources held by the store (connections, sessions); a no-op by default."""
