"""MLflow 3 logged models: models, their params, tags and metrics.

Revision ID: 0002_logged_models
Revises: 0001_initial
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

revision = "0002_logged_models"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _str(length: int) -> TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _text() -> TypeEngine[str]:
    return sa.Text().with_variant(mysql.TEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")


def _double() -> TypeEngine[float]:
    return sa.Double().with_variant(mysql.DOUBLE(asdecimal=False), "mysql", "mariadb")


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"],
        ["logged_models.model_id"],
        name=f"fk_{table}_model_id_logged_models",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Create the logged-model tables."""
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", _str(500), nullable=False),
        sa.Column("artifact_location", _text(), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("model_type", _str(500), nullable=True),
        sa.Column("source_run_id", sa.String(32), nullable=True),
        sa.Column("status_message", _text(), nullable=True),
        sa.PrimaryKeyConstraint("model_id", name="pk_logged_models"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_logged_models_experiment_id_experiments",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_logged_models_experiment_stage_created",
        "logged_models",
        ["experiment_id", "lifecycle_stage", "creation_timestamp_ms"],
    )
    for name, prefix in (("logged_model_params", "param"), ("logged_model_tags", "tag")):
        op.create_table(
            name,
            sa.Column("model_id", sa.String(64), nullable=False),
            sa.Column(f"{prefix}_key", _str(255), nullable=False),
            sa.Column(f"{prefix}_value", _text(), nullable=False),
            sa.PrimaryKeyConstraint("model_id", f"{prefix}_key", name=f"pk_{name}"),
            _model_fk(name),
            sqlite_with_rowid=False,
        )
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("metric_name", _str(250), nullable=False),
        sa.Column("metric_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("metric_step", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("metric_value", _double(), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("dataset_name", _str(500), nullable=True),
        sa.Column("dataset_digest", _str(36), nullable=True),
        sa.PrimaryKeyConstraint(
            "model_id",
            "metric_name",
            "metric_timestamp_ms",
            "metric_step",
            "run_id",
            name="pk_logged_model_metrics",
        ),
        _model_fk("logged_model_metrics"),
    )
    op.create_index(
        "ix_logged_model_metrics_metric_name_model_id", "logged_model_metrics", ["metric_name", "model_id"]
    )


def downgrade() -> None:
    """Drop the logged-model tables, children first."""
    for table in ("logged_model_metrics", "logged_model_tags", "logged_model_params", "logged_models"):
        op.drop_table(table)
