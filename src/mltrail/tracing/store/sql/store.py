"""``SqlTraceStore``: traces and spans in the tracking database (SQLite, PostgreSQL, MySQL/MariaDB).

Uses the engine factory of :mod:`mltrail.db` (one engine per URI, shared with the tracking
store) and migrates the database on first use. ``log_spans`` runs in one transaction: one query
for the traces already known, then multi-row upserts of trace infos, spans, tags and metadata.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.db import Database, current_revision, get_database, head_revision, upgrade
from mltrail.db.schema import experiments, runs
from mltrail.db.schema_tracing import assessments, spans, trace_info, trace_request_metadata, trace_tags
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracing import _keys as k
from mltrail.tracing.entities import Assessment, SpanData, Trace, TraceInfo, TraceState
from mltrail.tracing.search import check_max_results, parse_trace_filter, parse_trace_order_by
from mltrail.tracing.semconv import token_usage_of
from mltrail.tracing.store.analytics import (
    Aggregation,
    FilterCorrelation,
    MetricPoint,
    ViewType,
    check_metric_query,
    npmi,
)
from mltrail.tracing.store.base import (
    QUERY_TRACE_METRICS_MAX_RESULTS_DEFAULT,
    SEARCH_TRACES_MAX_RESULTS_DEFAULT,
    DeletedTraces,
    TraceStore,
)
from mltrail.tracing.store.sql import analytics
from mltrail.tracing.store.sql import assessments as assessment_rows
from mltrail.tracing.store.sql.codec import NAME_COLUMN_LENGTH, encode_content, value_digest
from mltrail.tracing.store.sql.ingest import ExistingTrace, TraceSummary, prepare_spans, summarize, truncate
from mltrail.tracing.store.sql.loading import chunks, load_infos, load_spans
from mltrail.tracing.store.sql.paging import (
    after_clause,
    decode_token,
    encode_token,
    keyset_ascending,
)
from mltrail.tracing.store.sql.search import (
    compile_clause,
    compile_order_by,
    needs_regexp,
    tag_driven_params,
    tag_driven_query,
    tag_driver,
)
from mltrail.tracking.entities import Page
from mltrail.tracking.search import decode_page_token, encode_page_token
from mltrail.tracking.store.sql.dialect import execute_rows, insert_ignore, upsert
from mltrail.tracking.store.sql.errors import translate_errors

__all__ = ["SqlTraceStore"]

_CHUNK = 500
_LINK_LIMIT = 100
_TRACE_ID = re.compile(r"^tr-[0-9a-f]{32}$")
_migrate_lock = threading.Lock()
# The state of a trace_info row that log_spans inserted only to lock it (never committed).
_PROVISIONAL = "PROVISIONAL"
_INFO_COLUMNS = (
    "trace_id",
    "experiment_id",
    "request_time",
    "execution_duration",
    "state",
    "request_preview",
    "response_preview",
    "client_request_id",
)
_SPAN_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "span_type",
    "status",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "content",
)
_KV_COLUMNS = ("trace_id", "key", "value")
_TAG_COLUMNS = ("trace_id", "key", "value", "experiment_id", "request_time", "value_digest")


def _migrate(db: Database) -> None:
    if db.migrated:
        return
    with _migrate_lock:
        if db.migrated:
            return
        with db.read() as conn:
            at_head = current_revision(conn) == head_revision()
        if not at_head:
            upgrade(db)
        db.migrated = True


def _experiment_key(experiment_id: str) -> int:
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"Invalid experiment id '{experiment_id}'") from None


def _check_trace_id(trace_id: str) -> str:
    if not _TRACE_ID.match(trace_id):
        raise InvalidArgumentError(
            f"Invalid trace id '{trace_id}': expected 'tr-' and 32 lowercase hex digits"
        )
    return trace_id


def _regexp(pattern: str, value: Any) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def _info_row(summary: TraceSummary, experiment_key: int, client_request_id: str | None) -> tuple[Any, ...]:
    return (
        summary.trace_id,
        experiment_key,
        summary.request_time,
        summary.execution_duration,
        summary.state.value,
        summary.request_preview,
        summary.response_preview,
        client_request_id,
    )


def _span_row(trace_id: str, span: SpanData) -> tuple[Any, ...]:
    span_type = span.attributes.get(k.SPAN_TYPE)
    return (
        trace_id,
        span.span_id,
        span.parent_span_id,
        span.name[:NAME_COLUMN_LENGTH],
        span_type[:NAME_COLUMN_LENGTH] if isinstance(span_type, str) else None,
        span.status_code,
        span.start_time_unix_nano,
        span.end_time_unix_nano,
        encode_content(span),
    )


def _tag_row(trace_id: str, key: str, value: str, experiment_key: int, request_time: int) -> tuple[Any, ...]:
    return (trace_id, key, value, experiment_key, request_time, value_digest(value))


def _info_of(summary: TraceSummary, experiment_id: str) -> TraceInfo:
    return TraceInfo(
        trace_id=summary.trace_id,
        experiment_id=str(experiment_id),
        request_time=summary.request_time,
        execution_duration=summary.execution_duration,
        state=summary.state,
        request_preview=summary.request_preview,
        response_preview=summary.response_preview,
        trace_metadata=dict(summary.metadata),
        tags=dict(summary.tags),
    )


class SqlTraceStore(TraceStore):
    """Trace store over SQLAlchemy Core.

    Args:
        db_uri: Database URI (``sqlite:///...``, ``postgresql://...``, ``mysql://...``).
    """

    def __init__(self, db_uri: str) -> None:
        self.db_uri = db_uri
        self._db = get_database(db_uri)
        self._dialect = self._db.dialect
        _migrate(self._db)

    # -- helpers -----------------------------------------------------------------------------

    def _artifact_root(self, conn: Connection, experiment_id: str) -> str:
        row = conn.execute(
            sa.select(experiments.c.artifact_location).where(
                experiments.c.experiment_id == _experiment_key(experiment_id)
            )
        ).first()
        if row is None:
            raise NotFoundError(f"No Experiment with id={experiment_id} exists")
        return str(row[0])

    def _upsert_kv(self, conn: Connection, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            execute_rows(
                conn, upsert(self._dialect, table, ("trace_id", "key"), ("value",)), _KV_COLUMNS, rows
            )

    def _upsert_tags(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Upsert ``_tag_row`` rows (their trace's experiment never changes, so it is not updated)."""
        if rows:
            execute_rows(
                conn,
                upsert(
                    self._dialect, trace_tags, ("trace_id", "key"), ("value", "request_time", "value_digest")
                ),
                _TAG_COLUMNS,
                rows,
            )

    def _retime_tags(self, conn: Connection, times: Mapping[str, int]) -> None:
        """Copy new ``request_time`` values of traces onto all their tag rows."""
        if times:
            stmt = (
                sa.update(trace_tags)
                .where(trace_tags.c.trace_id == sa.bindparam("b_trace_id"))
                .values(request_time=sa.bindparam("b_time"))
            )
            conn.execute(stmt, [{"b_trace_id": t, "b_time": time} for t, time in times.items()])

    def _insert_kv_missing(self, conn: Connection, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            execute_rows(conn, insert_ignore(self._dialect, table), _KV_COLUMNS, rows)

    def _existing(
        self, conn: Connection, trace_ids: Sequence[str], *, lock: bool = False
    ) -> dict[str, tuple[Any, ...]]:
        found: dict[str, tuple[Any, ...]] = {}
        for chunk in chunks(trace_ids):
            query = sa.select(
                trace_info.c.trace_id,
                trace_info.c.experiment_id,
                trace_info.c.request_time,
                trace_info.c.execution_duration,
                trace_info.c.state,
                trace_info.c.request_preview,
                trace_info.c.response_preview,
            ).where(trace_info.c.trace_id.in_(chunk))
            if lock:
                query = query.order_by(trace_info.c.trace_id).with_for_update()
            for row in conn.execute(query):
                found[row[0]] = tuple(row)
        return found

    def _lock_traces(
        self, conn: Connection, experiment_key: int, grouped: Mapping[str, Sequence[SpanData]]
    ) -> dict[str, tuple[Any, ...]]:
        """Hold the ``trace_info`` rows of these traces until commit; their rows as they were.

        Services of a distributed system export their parts of one trace at the same time.
        Each batch reads the trace as stored, merges its spans in and writes the result, so two
        batches of one trace must not interleave, or the later commit drops the earlier one's
        contribution (its start time, its token usage). A trace without a row gets a provisional
        one first, so that there is a row to lock: a concurrent insert of the same trace waits
        for this transaction, and then finds the row. Provisional rows are overwritten before
        commit, so no other transaction ever sees one. Rows are taken in trace-id order, so two
        batches sharing several traces cannot deadlock. (SQLite serialises writers already.)
        """
        ids = sorted(grouped)
        conn.execute(
            insert_ignore(self._dialect, trace_info),
            [
                {
                    "trace_id": t,
                    "experiment_id": experiment_key,
                    "request_time": min(s.start_time_unix_nano for s in grouped[t]) // 1_000_000,
                    "state": _PROVISIONAL,
                }
                for t in ids
            ],
        )
        rows = self._existing(conn, ids, lock=True)
        return {t: row for t, row in rows.items() if row[4] != _PROVISIONAL}

    def _finalized(self, conn: Connection, trace_ids: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for chunk in chunks(trace_ids):
            out.update(
                conn.execute(
                    sa.select(trace_request_metadata.c.trace_id).where(
                        trace_request_metadata.c.trace_id.in_(chunk),
                        trace_request_metadata.c.key == k.META_FINALIZED,
                    )
                ).scalars()
            )
        return out

    def _other_span_usage(
        self, conn: Connection, trace_id: str, replaced: set[str]
    ) -> tuple[tuple[Mapping[str, int], ...], tuple[Any, ...]]:
        usages: list[Mapping[str, int]] = []
        costs: list[Any] = []
        rows = conn.execute(sa.select(spans.c.span_id, spans.c.content).where(spans.c.trace_id == trace_id))
        for span_id, content in rows:
            if span_id in replaced:
                continue
            attrs = orjson.loads(content).get("attributes") or {}
            usage = token_usage_of(attrs)
            if usage is not None:
                usages.append(usage)
            if k.LLM_COST in attrs:
                costs.append(attrs[k.LLM_COST])
        return tuple(usages), tuple(costs)

    def _require_infos(self, conn: Connection, trace_id: str) -> TraceInfo:
        infos = load_infos(conn, [trace_id])
        if trace_id not in infos:
            raise NotFoundError(f"Trace with ID '{trace_id}' not found.")
        return infos[trace_id]

    def _allow_regexp(self, conn: Connection) -> None:
        """Give a SQLite connection the ``regexp`` function that RLIKE compiles to."""
        if self._dialect == "sqlite":
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.create_function("regexp", 2, _regexp, deterministic=True)

    # -- writes ------------------------------------------------------------------------------

    @translate_errors
    def log_spans(
        self, experiment_id: str, spans_in: Sequence[SpanData], *, run_id: str | None = None
    ) -> list[TraceInfo]:
        """Upsert spans and derive their traces' infos (see :meth:`TraceStore.log_spans`)."""
        if not spans_in:
            return []
        grouped = prepare_spans(spans_in)
        trace_ids = list(grouped)
        experiment_key = _experiment_key(experiment_id)
        with self._db.write(read_committed=True) as conn:
            root = self._artifact_root(conn, experiment_id)
            if self._dialect == "sqlite":
                existing_rows = self._existing(conn, trace_ids)
            else:
                existing_rows = self._lock_traces(conn, experiment_key, grouped)
            finalized = self._finalized(conn, list(existing_rows)) if existing_rows else set()
            info_rows: list[tuple[Any, ...]] = []
            span_rows: list[tuple[Any, ...]] = []
            tag_rows: list[tuple[Any, ...]] = []
            meta_rows: list[tuple[Any, ...]] = []
            new_meta_rows: list[tuple[Any, ...]] = []
            retimed: dict[str, int] = {}
            fresh: dict[str, TraceInfo] = {}
            for trace_id, trace_spans in grouped.items():
                row = existing_rows.get(trace_id)
                existing = None
                if row is not None:
                    if str(row[1]) != str(experiment_key):
                        raise InvalidArgumentError(
                            f"Trace '{trace_id}' belongs to experiment {row[1]}, not {experiment_id}"
                        )
                    usages, costs = self._other_span_usage(conn, trace_id, {s.span_id for s in trace_spans})
                    existing = ExistingTrace(
                        int(row[2]),
                        None if row[3] is None else int(row[3]),
                        TraceState(row[4]),
                        trace_id in finalized,
                        usages,
                        costs,
                        row[5],
                        row[6],
                    )
                summary = summarize(trace_id, trace_spans, existing, artifact_root=root, run_id=run_id)
                if existing is None:
                    fresh[trace_id] = _info_of(summary, str(experiment_key))
                tag_time = summary.request_time
                if existing is None or not existing.finalized:
                    info_rows.append(_info_row(summary, experiment_key, None))
                    if existing is not None and existing.request_time != summary.request_time:
                        retimed[trace_id] = summary.request_time
                else:
                    tag_time = existing.request_time  # a finalized trace keeps its info
                span_rows.extend(_span_row(trace_id, s) for s in trace_spans)
                tag_rows.extend(
                    _tag_row(trace_id, key, value, experiment_key, tag_time)
                    for key, value in summary.tags.items()
                )
                target = meta_rows
                for key, value in summary.metadata.items():
                    (new_meta_rows if key == k.META_SCHEMA_VERSION else target).append((trace_id, key, value))
            if info_rows:
                update = tuple(
                    c for c in _INFO_COLUMNS if c not in ("trace_id", "experiment_id", "client_request_id")
                )
                execute_rows(
                    conn, upsert(self._dialect, trace_info, ("trace_id",), update), _INFO_COLUMNS, info_rows
                )
            for chunk in chunks(span_rows):
                execute_rows(
                    conn,
                    upsert(self._dialect, spans, ("trace_id", "span_id"), _SPAN_COLUMNS[2:]),
                    _SPAN_COLUMNS,
                    list(chunk),
                )
            self._retime_tags(conn, retimed)
            self._upsert_tags(conn, tag_rows)
            self._upsert_kv(conn, trace_request_metadata, meta_rows)
            self._insert_kv_missing(conn, trace_request_metadata, new_meta_rows)
            # New traces hold exactly what was just written; only extended ones are read back.
            infos = (
                load_infos(conn, [t for t in trace_ids if t not in fresh])
                if len(fresh) < len(trace_ids)
                else {}
            )
        infos.update(fresh)
        return [infos[t] for t in trace_ids if t in infos]

    @translate_errors
    def start_trace(self, info: TraceInfo) -> TraceInfo:
        """Create or complete a trace info (see :meth:`TraceStore.start_trace`)."""
        trace_id = _check_trace_id(info.trace_id)
        experiment_key = _experiment_key(info.experiment_id)
        with self._db.write() as conn:
            root = self._artifact_root(conn, info.experiment_id)
            existing = self._existing(conn, [trace_id]).get(trace_id)
            if existing is not None and str(existing[1]) != str(experiment_key):
                raise InvalidArgumentError(
                    f"Trace '{trace_id}' belongs to experiment {existing[1]}, not {info.experiment_id}"
                )
            row = (
                trace_id,
                experiment_key,
                info.request_time,
                info.execution_duration,
                info.state.value,
                None if info.request_preview is None else truncate(info.request_preview, k.PREVIEW_MAX_CHARS),
                None
                if info.response_preview is None
                else truncate(info.response_preview, k.PREVIEW_MAX_CHARS),
                info.client_request_id,
            )
            execute_rows(
                conn,
                upsert(self._dialect, trace_info, ("trace_id",), _INFO_COLUMNS[2:]),
                _INFO_COLUMNS,
                [row],
            )
            metadata = {
                key: truncate(v, k.METADATA_VALUE_MAX_CHARS) for key, v in info.trace_metadata.items()
            }
            metadata[k.META_FINALIZED] = "true"
            metadata.setdefault(k.META_SCHEMA_VERSION, "3")
            tags = {
                key[: k.TAG_KEY_MAX_CHARS]: truncate(v, k.TAG_VALUE_MAX_CHARS) for key, v in info.tags.items()
            }
            tags[k.TAG_SPANS_LOCATION] = k.SPANS_LOCATION_TRACKING_STORE
            tags[k.TAG_ARTIFACT_LOCATION] = f"{root.rstrip('/')}/traces/{trace_id}/artifacts"
            self._upsert_kv(conn, trace_request_metadata, [(trace_id, key, v) for key, v in metadata.items()])
            if existing is not None and int(existing[2]) != info.request_time:
                self._retime_tags(conn, {trace_id: info.request_time})
            self._upsert_tags(
                conn,
                [_tag_row(trace_id, key, v, experiment_key, info.request_time) for key, v in tags.items()],
            )
            return self._require_infos(conn, trace_id)

    @translate_errors
    def start_trace_v2(
        self,
        experiment_id: str,
        timestamp_ms: int,
        request_metadata: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> TraceInfo:
        """Create an IN_PROGRESS trace with a new id (see :meth:`TraceStore.start_trace_v2`)."""
        experiment_key = _experiment_key(experiment_id)
        trace_id = f"tr-{uuid.uuid4().hex}"
        with self._db.write() as conn:
            root = self._artifact_root(conn, experiment_id)
            conn.execute(
                sa.insert(trace_info).values(
                    trace_id=trace_id,
                    experiment_id=experiment_key,
                    request_time=timestamp_ms,
                    state=TraceState.IN_PROGRESS.value,
                )
            )
            metadata = [
                (trace_id, key, truncate(v, k.METADATA_VALUE_MAX_CHARS))
                for key, v in request_metadata.items()
            ]
            self._upsert_kv(conn, trace_request_metadata, metadata)
            given = {
                key[: k.TAG_KEY_MAX_CHARS]: truncate(v, k.TAG_VALUE_MAX_CHARS) for key, v in tags.items()
            }
            # No spans-location tag: a V2 client uploads the spans to the artifact location.
            given[k.TAG_ARTIFACT_LOCATION] = f"{root.rstrip('/')}/traces/{trace_id}/artifacts"
            self._upsert_tags(
                conn, [_tag_row(trace_id, key, v, experiment_key, timestamp_ms) for key, v in given.items()]
            )
            return self._require_infos(conn, trace_id)

    @translate_errors
    def end_trace_v2(
        self,
        trace_id: str,
        timestamp_ms: int,
        state: TraceState,
        request_metadata: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> TraceInfo:
        """Complete a trace (see :meth:`TraceStore.end_trace_v2`)."""
        with self._db.write() as conn:
            row = self._existing(conn, [trace_id]).get(trace_id)
            if row is None:
                raise NotFoundError(f"Trace with ID '{trace_id}' not found.")
            experiment_key, request_time = int(row[1]), int(row[2])
            conn.execute(
                sa.update(trace_info)
                .where(trace_info.c.trace_id == trace_id)
                .values(execution_duration=max(0, timestamp_ms - request_time), state=state.value)
            )
            metadata = [
                (trace_id, key, truncate(v, k.METADATA_VALUE_MAX_CHARS))
                for key, v in request_metadata.items()
            ]
            self._upsert_kv(conn, trace_request_metadata, metadata)
            self._upsert_tags(
                conn,
                [
                    _tag_row(
                        trace_id,
                        key[: k.TAG_KEY_MAX_CHARS],
                        truncate(v, k.TAG_VALUE_MAX_CHARS),
                        experiment_key,
                        request_time,
                    )
                    for key, v in tags.items()
                ],
            )
            return self._require_infos(conn, trace_id)

    @translate_errors
    def calculate_filter_correlation(
        self,
        experiment_ids: Sequence[str],
        filter_string1: str,
        filter_string2: str,
        base_filter: str | None = None,
    ) -> FilterCorrelation:
        """Counts and NPMI of two filters (see :meth:`TraceStore.calculate_filter_correlation`)."""
        for name, text in (("filter_string1", filter_string1), ("filter_string2", filter_string2)):
            if not text or not text.strip():
                raise InvalidArgumentError(f"Missing value for required parameter '{name}'.")
        keys = [_experiment_key(e) for e in experiment_ids]
        if not keys:
            raise InvalidArgumentError("Missing value for required parameter 'experiment_ids'.")

        def within(*filters: str) -> str:
            # The grammar is AND-only, so "both filters" is the two joined with AND.
            return " AND ".join(f for f in (base_filter, *filters) if f and f.strip())

        with self._db.read() as conn:
            self._allow_regexp(conn)
            total = analytics.count_matching(conn, keys, within())
            first = analytics.count_matching(conn, keys, within(filter_string1))
            second = analytics.count_matching(conn, keys, within(filter_string2))
            joint = analytics.count_matching(conn, keys, within(filter_string1, filter_string2))
        plain, smoothed = npmi(joint, first, second, total)
        return FilterCorrelation(plain, smoothed, first, second, joint, total)

    @translate_errors
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
        """Aggregate a trace, span or assessment metric (see :meth:`TraceStore.query_trace_metrics`)."""
        check_metric_query(view_type, metric_name, aggregations, dimensions)
        if time_interval_seconds is not None and time_interval_seconds <= 0:
            raise InvalidArgumentError("time_interval_seconds must be a positive integer")
        if time_interval_seconds and (start_time_ms is None or end_time_ms is None):
            raise InvalidArgumentError(
                "start_time_ms and end_time_ms are required if time_interval_seconds is set"
            )
        if max_results <= 0:
            raise InvalidArgumentError("max_results must be a positive integer")
        keys = [_experiment_key(e) for e in experiment_ids]
        if not keys:
            raise InvalidArgumentError("Missing value for required parameter 'experiment_ids'.")
        offset = decode_page_token(page_token)
        with self._db.read() as conn:
            points = analytics.query_metrics(
                conn,
                keys,
                view_type,
                metric_name,
                aggregations,
                dimensions,
                filters,
                time_interval_seconds,
                start_time_ms,
                end_time_ms,
            )
        end = offset + max_results
        token = encode_page_token(end) if end < len(points) else None
        return Page(points[offset:end], token)

    def delete_traces(
        self,
        experiment_id: str,
        *,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete traces by ids or by age (see :meth:`TraceStore.delete_traces`)."""
        return self.remove_traces(
            experiment_id,
            max_timestamp_millis=max_timestamp_millis,
            max_traces=max_traces,
            trace_ids=trace_ids,
        ).count

    @translate_errors
    def remove_traces(
        self,
        experiment_id: str,
        *,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> DeletedTraces:
        """Delete traces by ids or by age, and say where they kept their artifacts."""
        if trace_ids and max_timestamp_millis is not None:
            raise InvalidArgumentError(
                "Only one of 'max_timestamp_millis' and 'request_ids' can be specified."
            )
        if not trace_ids and max_timestamp_millis is None:
            raise InvalidArgumentError("Either 'max_timestamp_millis' or 'request_ids' must be specified.")
        if max_traces is not None and max_traces <= 0:
            raise InvalidArgumentError("'max_traces' must be a positive integer.")
        experiment_key = _experiment_key(experiment_id)
        locations: list[tuple[str, str]] = []
        with self._db.write() as conn:
            if trace_ids:
                targets: list[str] = []
                for chunk in chunks(list(trace_ids)):
                    targets.extend(
                        conn.execute(
                            sa.select(trace_info.c.trace_id).where(
                                trace_info.c.experiment_id == experiment_key, trace_info.c.trace_id.in_(chunk)
                            )
                        ).scalars()
                    )
            else:
                query = (
                    sa.select(trace_info.c.trace_id)
                    .where(
                        trace_info.c.experiment_id == experiment_key,
                        trace_info.c.request_time <= max_timestamp_millis,
                    )
                    .order_by(trace_info.c.request_time, trace_info.c.trace_id)
                )
                if max_traces is not None:
                    query = query.limit(max_traces)
                targets = list(conn.execute(query).scalars())
            for chunk in chunks(targets):
                locations.extend(
                    (str(trace_id), str(value))
                    for trace_id, value in conn.execute(
                        sa.select(trace_tags.c.trace_id, trace_tags.c.value).where(
                            trace_tags.c.trace_id.in_(chunk), trace_tags.c.key == k.TAG_ARTIFACT_LOCATION
                        )
                    )
                )
                for table in (
                    assessments,
                    spans,
                    trace_tags,
                    trace_request_metadata,
                    trace_info,
                ):
                    conn.execute(sa.delete(table).where(table.c.trace_id.in_(chunk)))
        return DeletedTraces(len(targets), tuple(locations))

    @translate_errors
    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        """Set a tag (key at most 250 characters; values longer than 4096 are cut)."""
        if not key or len(key) > k.TAG_KEY_MAX_CHARS:
            raise InvalidArgumentError(
                f"Tag key must be 1 to {k.TAG_KEY_MAX_CHARS} characters, got '{key[:300]}'"
            )
        with self._db.write() as conn:
            row = self._existing(conn, [trace_id]).get(trace_id)
            if row is None:
                raise NotFoundError(f"Trace with ID '{trace_id}' not found.")
            value = truncate(value, k.TAG_VALUE_MAX_CHARS)
            self._upsert_tags(conn, [_tag_row(trace_id, key, value, int(row[1]), int(row[2]))])

    @translate_errors
    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Delete a tag; ``NotFoundError`` when the trace or the tag does not exist."""
        with self._db.write() as conn:
            result = conn.execute(
                sa.delete(trace_tags).where(trace_tags.c.trace_id == trace_id, trace_tags.c.key == key)
            )
            if result.rowcount == 0:
                if not self._existing(conn, [trace_id]):
                    raise NotFoundError(f"Trace with ID '{trace_id}' not found.")
                raise NotFoundError(f"No trace tag with key '{key}' for trace with ID '{trace_id}'")

    @translate_errors
    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        """Link traces to a run (metadata ``mlflow.sourceRun``); at most 100 traces per call."""
        if len(trace_ids) > _LINK_LIMIT:
            raise InvalidArgumentError(f"Cannot link more than {_LINK_LIMIT} traces to a run in one request.")
        if not trace_ids:
            return
        with self._db.write() as conn:
            if conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == run_id)).first() is None:
                raise NotFoundError(f"Run with id={run_id} not found")
            found = self._existing(conn, list(trace_ids))
            missing = [t for t in trace_ids if t not in found]
            if missing:
                raise NotFoundError(f"Trace with ID '{missing[0]}' not found.")
            self._upsert_kv(conn, trace_request_metadata, [(t, k.META_SOURCE_RUN, run_id) for t in found])

    # -- assessments -------------------------------------------------------------------------

    @translate_errors
    def create_assessment(self, assessment: Assessment) -> Assessment:
        """Store a new assessment (see :meth:`TraceStore.create_assessment`)."""
        with self._db.write() as conn:
            if not self._existing(conn, [assessment.trace_id]):
                raise NotFoundError(f"Trace with ID '{assessment.trace_id}' not found.")
            return assessment_rows.create(conn, assessment)

    @translate_errors
    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        """Return one assessment."""
        with self._db.read() as conn:
            return assessment_rows.get(conn, trace_id, assessment_id)

    @translate_errors
    def update_assessment(self, trace_id: str, assessment_id: str, changes: Mapping[str, Any]) -> Assessment:
        """Change an assessment (see :meth:`TraceStore.update_assessment`)."""
        with self._db.write() as conn:
            return assessment_rows.update(conn, trace_id, assessment_id, changes)

    @translate_errors
    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        """Delete an assessment (see :meth:`TraceStore.delete_assessment`)."""
        with self._db.write() as conn:
            assessment_rows.delete(conn, trace_id, assessment_id)

    # -- reads -------------------------------------------------------------------------------

    @translate_errors
    def get_trace_info(self, trace_id: str) -> TraceInfo:
        """Return one trace info."""
        with self._db.read() as conn:
            return self._require_infos(conn, trace_id)

    @translate_errors
    def get_trace(self, trace_id: str) -> Trace:
        """Return one trace with its spans, ordered by start time."""
        with self._db.read() as conn:
            info = self._require_infos(conn, trace_id)
            return Trace(info, tuple(load_spans(conn, [trace_id]).get(trace_id, ())))

    @translate_errors
    def batch_get_traces(self, trace_ids: Sequence[str]) -> list[Trace]:
        """Return the existing traces among ``trace_ids``, in the order asked."""
        if not trace_ids:
            return []
        with self._db.read() as conn:
            infos = load_infos(conn, trace_ids)
            span_map = load_spans(conn, list(infos))
        seen: set[str] = set()
        out: list[Trace] = []
        for tid in trace_ids:
            if tid in infos and tid not in seen:
                seen.add(tid)
                out.append(Trace(infos[tid], tuple(span_map.get(tid, ()))))
        return out

    @translate_errors
    def batch_get_trace_infos(self, trace_ids: Sequence[str]) -> list[TraceInfo]:
        """Return the existing trace infos among ``trace_ids``, in the order asked, without spans."""
        if not trace_ids:
            return []
        with self._db.read() as conn:
            infos = load_infos(conn, trace_ids)
        return [infos[t] for t in dict.fromkeys(trace_ids) if t in infos]

    @translate_errors
    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[TraceInfo]:
        """Search trace infos (filters, ordering and paging run in SQL)."""
        check_max_results(max_results)
        clauses = parse_trace_filter(filter_string)
        order_keys = parse_trace_order_by(order_by)
        offset, cursor = decode_token(page_token)
        ascending = keyset_ascending(order_keys)
        keys = [_experiment_key(e) for e in experiment_ids]
        if not keys:
            return Page([])
        driver = tag_driver(clauses) if ascending is not None else None
        params: dict[str, Any] = {}
        if ascending is not None and driver is not None:
            query = tag_driven_query(ascending, cursor is not None)
            if driver.rest:
                query = query.where(*(compile_clause(c) for c in driver.rest))
            params = tag_driven_params(driver, keys, cursor, max_results + 1, 0 if cursor else offset)
        else:
            conditions = [trace_info.c.experiment_id.in_(keys), *(compile_clause(c) for c in clauses)]
            if ascending is not None and cursor is not None:
                conditions.append(after_clause(cursor, ascending))
            query = sa.select(*trace_info.c).where(*conditions).order_by(*compile_order_by(order_keys))
            query = query.limit(max_results + 1)
            if ascending is None or cursor is None:
                query = query.offset(offset)
        with self._db.read() as conn:
            if needs_regexp(clauses):
                self._allow_regexp(conn)
            found = conn.execute(query, params).all()
            page_rows = {row.trace_id: row for row in found[:max_results]}
            page_ids = list(page_rows)
            infos = load_infos(conn, page_ids, page_rows)
        token = None
        if len(found) > max_results:
            last = found[max_results - 1]
            token = encode_token(
                offset + max_results, None if ascending is None else (int(last.request_time), last.trace_id)
            )
        return Page([infos[t] for t in page_ids if t in infos], token)
