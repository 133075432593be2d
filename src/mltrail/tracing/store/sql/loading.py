"""Reads of the SQL trace store: trace infos (with tags, metadata, assessments) and spans by id.

Ids are read in chunks of 500 so that ``IN`` lists stay within every database's limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.db.schema_tracing import spans, trace_info, trace_request_metadata, trace_tags
from mltrail.tracing.entities import SpanData, TraceInfo, TraceState, hex_trace_id
from mltrail.tracing.store.sql import assessments as assessment_rows
from mltrail.tracing.store.sql.codec import decode_span

__all__ = ["CHUNK", "chunks", "load_infos", "load_spans"]

CHUNK = 500


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


_IDS: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
_INFO_BY_IDS = sa.select(*trace_info.c).where(trace_info.c.trace_id.in_(_IDS))
# Tags (kind 0) and metadata (kind 1) of a set of traces in one statement: one round trip.
_KEY_VALUES_BY_IDS = sa.union_all(
    sa.select(sa.literal_column("0"), trace_tags.c.trace_id, trace_tags.c.key, trace_tags.c.value).where(
        trace_tags.c.trace_id.in_(_IDS)
    ),
    sa.select(
        sa.literal_column("1"),
        trace_request_metadata.c.trace_id,
        trace_request_metadata.c.key,
        trace_request_metadata.c.value,
    ).where(trace_request_metadata.c.trace_id.in_(_IDS)),
)


def load_infos(
    conn: Connection, trace_ids: Sequence[str], rows: Mapping[str, Any] | None = None
) -> dict[str, TraceInfo]:
    """Trace infos with tags, metadata and assessments; ``rows`` are ``trace_info`` rows already read.

    The statements are module constants with an expanding ``IN`` parameter, so SQLAlchemy
    compiles each of them once per list length instead of building a new expression per call.
    """
    fetched: dict[str, Any] = dict(rows or {})
    tags: dict[str, dict[str, str]] = {}
    meta: dict[str, dict[str, str]] = {}
    by_kind = (tags, meta)
    for chunk in chunks(list(trace_ids)):
        ids = {"ids": list(chunk)}
        if rows is None:
            for row in conn.execute(_INFO_BY_IDS, ids).all():
                fetched[row.trace_id] = row
        # .all() fetches in one driver call; iterating the result fetches row by row.
        for kind, tid, key, value in conn.execute(_KEY_VALUES_BY_IDS, ids).all():
            target = by_kind[kind].get(tid)
            if target is None:
                target = by_kind[kind][tid] = {}
            target[key] = value
    judged: dict[str, list[Any]] = {}
    for chunk in chunks(list(fetched)):
        judged.update(assessment_rows.load_for_traces(conn, chunk))
    return {
        tid: TraceInfo(
            trace_id=tid,
            experiment_id=str(row.experiment_id),
            request_time=int(row.request_time),
            execution_duration=None if row.execution_duration is None else int(row.execution_duration),
            state=TraceState(row.state),
            request_preview=row.request_preview,
            response_preview=row.response_preview,
            client_request_id=row.client_request_id,
            trace_metadata=meta.get(tid, {}),
            tags=tags.get(tid, {}),
            assessments=tuple(judged.get(tid, ())),
        )
        for tid, row in fetched.items()
    }


def load_spans(conn: Connection, trace_ids: Sequence[str]) -> dict[str, list[SpanData]]:
    """The spans of each trace, ordered by start time."""
    out: dict[str, list[SpanData]] = {}
    for chunk in chunks(list(trace_ids)):
        rows = conn.execute(
            sa.select(
                spans.c.trace_id,
                spans.c.span_id,
                spans.c.parent_span_id,
                spans.c.name,
                spans.c.status,
                spans.c.start_time_unix_nano,
                spans.c.end_time_unix_nano,
                spans.c.content,
            )
            .where(spans.c.trace_id.in_(chunk))
            .order_by(spans.c.trace_id, spans.c.start_time_unix_nano, spans.c.span_id)
        )
        for tid, span_id, parent, name, status, start, end, content in rows:
            out.setdefault(tid, []).append(
                decode_span(hex_trace_id(tid), span_id, parent, name, status, start, end, content)
            )
    return out
