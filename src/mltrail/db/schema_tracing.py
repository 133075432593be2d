"""Table metadata of traces, registered on the shared tracking ``metadata``.

``trace_info`` holds one row per trace; tags and request metadata are key/value tables; ``spans``
holds one row per span, upserted by ``(trace_id, span_id)``; ``assessments`` one row per
feedback, expectation or issue (its wire payload as JSON, plus ``value_text`` for search).
A span's full OpenTelemetry content (attributes, events, links, resource, scope, status) is one
JSON document in ``content``; the columns beside it (name, type, status, times) exist for search
and ordering. Full-text search runs ``LIKE`` over ``content``. Every child row goes with its
trace (``ON DELETE CASCADE``), and traces go with their experiment.

A tag row also carries copies of its trace's ``experiment_id`` and ``request_time`` and a short
digest of its value, so that ``ix_trace_tags_search`` (key, value digest, experiment, time, trace
id) lists the traces with a given tag value newest first: a tag-filtered search reads one index
entry per trace of the page instead of probing the tags of every trace it passes. The digest
stands in for the value, which may be up to 4,096 characters (too long for PostgreSQL and MySQL
index entries); the value itself is still compared. The trace store keeps the copies in step
with ``trace_info``. (On PostgreSQL, migration ``0005_trace_tag_search`` also creates extended
statistics on value and digest, which table metadata cannot express; tables are only ever
created by the migrations.)

On SQLite both key/value tables are ``WITHOUT ROWID``: their rows are stored in primary-key
order, so the tags and metadata of a page of traces come from one B-tree seek per trace.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

from mltrail.db.schema import metadata

__all__ = ["assessments", "spans", "trace_info", "trace_request_metadata", "trace_tags"]

TRACE_ID_LENGTH = 50
SPAN_NAME_LENGTH = 500
_KEY = 250
VALUE_DIGEST_LENGTH = 16


def _str(length: int) -> TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _text() -> TypeEngine[str]:
    return sa.Text().with_variant(mysql.TEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")


def _huge_text() -> TypeEngine[str]:
    return sa.Text().with_variant(
        mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _trace_fk() -> sa.ForeignKey:
    return sa.ForeignKey("trace_info.trace_id", ondelete="CASCADE")


trace_info = sa.Table(
    "trace_info",
    metadata,
    sa.Column("trace_id", sa.String(TRACE_ID_LENGTH), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("request_time", sa.BigInteger, nullable=False),
    sa.Column("execution_duration", sa.BigInteger, nullable=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("request_preview", _text(), nullable=True),
    sa.Column("response_preview", _text(), nullable=True),
    sa.Column("client_request_id", _str(_KEY), nullable=True),
    sa.Index(None, "experiment_id", "request_time", "trace_id"),
    sa.Index(None, "client_request_id"),
)

trace_tags = sa.Table(
    "trace_tags",
    metadata,
    sa.Column("trace_id", sa.String(TRACE_ID_LENGTH), _trace_fk(), primary_key=True),
    sa.Column("key", _str(_KEY), primary_key=True),
    sa.Column("value", _text(), nullable=False),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("request_time", sa.BigInteger, nullable=False),
    sa.Column("value_digest", sa.String(VALUE_DIGEST_LENGTH), nullable=False),
    sa.Index("ix_trace_tags_search", "key", "value_digest", "experiment_id", "request_time", "trace_id"),
    sqlite_with_rowid=False,
)

trace_request_metadata = sa.Table(
    "trace_request_metadata",
    metadata,
    sa.Column("trace_id", sa.String(TRACE_ID_LENGTH), _trace_fk(), primary_key=True),
    sa.Column("key", _str(_KEY), primary_key=True),
    sa.Column("value", _text(), nullable=False),
    sa.Index(None, "key"),
    sqlite_with_rowid=False,
)

spans = sa.Table(
    "spans",
    metadata,
    sa.Column("trace_id", sa.String(TRACE_ID_LENGTH), _trace_fk(), primary_key=True),
    sa.Column("span_id", sa.String(16), primary_key=True),
    sa.Column("parent_span_id", sa.String(16), nullable=True),
    sa.Column("name", _str(SPAN_NAME_LENGTH), nullable=True),
    sa.Column("span_type", _str(SPAN_NAME_LENGTH), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_time_unix_nano", sa.BigInteger, nullable=False),
    sa.Column("end_time_unix_nano", sa.BigInteger, nullable=True),
    sa.Column("content", _huge_text(), nullable=False),
    sa.Index(None, "name"),
    sa.Index(None, "span_type"),
)

assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("assessment_id", sa.String(TRACE_ID_LENGTH), primary_key=True),
    sa.Column("trace_id", sa.String(TRACE_ID_LENGTH), _trace_fk(), nullable=False),
    sa.Column("name", _str(_KEY), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("payload", _huge_text(), nullable=False),
    sa.Column("value_text", _text(), nullable=True),
    sa.Column("value_number", sa.Double, nullable=True),
    sa.Column("source_type", sa.String(32), nullable=False),
    sa.Column("source_id", _str(_KEY), nullable=False),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.Column("last_update_time", sa.BigInteger, nullable=False),
    sa.Column("span_id", sa.String(16), nullable=True),
    sa.Column("rationale", _text(), nullable=True),
    sa.Column("metadata", _text(), nullable=True),
    sa.Column("error", _text(), nullable=True),
    sa.Column("overrides", sa.String(TRACE_ID_LENGTH), nullable=True),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.Index(None, "trace_id", "name"),
)
