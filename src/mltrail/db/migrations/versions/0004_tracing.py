"""Tracing: trace info, trace tags, trace request metadata, spans and assessments.

Revision ID: 0004_tracing
Revises: 0003_registry
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

revision = "0004_tracing"
down_revision = "0003_registry"
branch_labels = None
depends_on = None

_TRACE_ID = 50


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


def _trace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["trace_id"], ["trace_info.trace_id"], name=f"fk_{table}_trace_id_trace_info", ondelete="CASCADE"
    )


def _key_value_table(table: str) -> None:
    op.create_table(
        table,
        sa.Column("trace_id", sa.String(_TRACE_ID), nullable=False),
        sa.Column("key", _str(250), nullable=False),
        sa.Column("value", _text(), nullable=False),
        sa.PrimaryKeyConstraint("trace_id", "key", name=f"pk_{table}"),
        _trace_fk(table),
    )
    op.create_index(f"ix_{table}_key", table, ["key"])


def upgrade() -> None:
    """Create the tracing tables."""
    op.create_table(
        "trace_info",
        sa.Column("trace_id", sa.String(_TRACE_ID), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("request_time", sa.BigInteger, nullable=False),
        sa.Column("execution_duration", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("request_preview", _text(), nullable=True),
        sa.Column("response_preview", _text(), nullable=True),
        sa.Column("client_request_id", _str(250), nullable=True),
        sa.PrimaryKeyConstraint("trace_id", name="pk_trace_info"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_trace_info_experiment_id_experiments",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_trace_info_experiment_id_request_time_trace_id",
        "trace_info",
        ["experiment_id", "request_time", "trace_id"],
    )
    op.create_index("ix_trace_info_client_request_id", "trace_info", ["client_request_id"])
    _key_value_table("trace_tags")
    _key_value_table("trace_request_metadata")
    op.create_table(
        "spans",
        sa.Column("trace_id", sa.String(_TRACE_ID), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("parent_span_id", sa.String(16), nullable=True),
        sa.Column("name", _str(500), nullable=True),
        sa.Column("span_type", _str(500), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time_unix_nano", sa.BigInteger, nullable=False),
        sa.Column("end_time_unix_nano", sa.BigInteger, nullable=True),
        sa.Column("content", _huge_text(), nullable=False),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name="pk_spans"),
        _trace_fk("spans"),
    )
    op.create_index("ix_spans_name", "spans", ["name"])
    op.create_index("ix_spans_span_type", "spans", ["span_type"])
    op.create_table(
        "assessments",
        sa.Column("assessment_id", sa.String(_TRACE_ID), nullable=False),
        sa.Column("trace_id", sa.String(_TRACE_ID), nullable=False),
        sa.Column("name", _str(250), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", _huge_text(), nullable=False),
        sa.Column("value_text", _text(), nullable=True),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_id", _str(250), nullable=False),
        sa.Column("create_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.Column("span_id", sa.String(16), nullable=True),
        sa.Column("rationale", _text(), nullable=True),
        sa.Column("metadata", _text(), nullable=True),
        sa.Column("error", _text(), nullable=True),
        sa.Column("overrides", sa.String(_TRACE_ID), nullable=True),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("assessment_id", name="pk_assessments"),
        _trace_fk("assessments"),
    )
    op.create_index("ix_assessments_trace_id_name", "assessments", ["trace_id", "name"])


def downgrade() -> None:
    """Drop the tracing tables, children first."""
    for table in ("assessments", "spans", "trace_request_metadata", "trace_tags", "trace_info"):
        op.drop_table(table)
