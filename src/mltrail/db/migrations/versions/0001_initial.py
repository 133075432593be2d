"""Initial tracking schema: experiments, runs, params, tags, metrics, datasets, model inputs/outputs.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _str(length: int) -> TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _text() -> TypeEngine[str]:
    return sa.Text().with_variant(mysql.TEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")


def _long_text() -> TypeEngine[str]:
    return sa.Text().with_variant(
        mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _double() -> TypeEngine[float]:
    return sa.Double().with_variant(mysql.DOUBLE(asdecimal=False), "mysql", "mariadb")


def upgrade() -> None:
    """Create every table and index of the first schema version."""
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", _str(500), nullable=False),
        sa.Column("artifact_location", _str(2048), nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=True),
        sa.Column("last_update_time", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("experiment_id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    op.create_index(
        "ix_experiments_lifecycle_stage_creation_time", "experiments", ["lifecycle_stage", "creation_time"]
    )
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("key", _str(250), nullable=False),
        sa.Column("value", _long_text(), nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_experiment_tags_experiment_id_experiments",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "runs",
        sa.Column("run_key", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", _text(), nullable=False),
        sa.Column("user_id", _str(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=True),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("deleted_time", sa.BigInteger, nullable=True),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("artifact_uri", _text(), nullable=False),
        sa.PrimaryKeyConstraint("run_key", name="pk_runs"),
        sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], name="fk_runs_experiment_id_experiments"
        ),
    )
    op.create_index(
        "ix_runs_experiment_id_lifecycle_stage_start_time",
        "runs",
        ["experiment_id", "lifecycle_stage", "start_time"],
    )
    op.create_index("ix_runs_lifecycle_stage_deleted_time", "runs", ["lifecycle_stage", "deleted_time"])

    for name, value_type in (("params", _text()), ("tags", _text())):
        op.create_table(
            name,
            sa.Column("run_id", sa.String(32), nullable=False),
            sa.Column("key", _str(250), nullable=False),
            sa.Column("value", value_type, nullable=False),
            sa.PrimaryKeyConstraint("run_id", "key", name=f"pk_{name}"),
            _run_fk(name),
            sqlite_with_rowid=False,
        )
    op.create_table(
        "metrics",
        sa.Column("run_key", sa.Integer, nullable=False),
        sa.Column("key", _str(250), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("value", _double(), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("run_key", "key", "timestamp", "step", "value", "is_nan", name="pk_metrics"),
        sa.ForeignKeyConstraint(
            ["run_key"], ["runs.run_key"], name="fk_metrics_run_key_runs", ondelete="CASCADE"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "latest_metrics",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", _str(250), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("value", _double(), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_latest_metrics"),
        _run_fk("latest_metrics"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
    op.create_table(
        "datasets",
        sa.Column("dataset_uuid", sa.String(32), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", _str(500), nullable=False),
        sa.Column("digest", _str(36), nullable=False),
        sa.Column("source_type", _str(36), nullable=False),
        sa.Column("source", _text(), nullable=False),
        sa.Column("schema", _long_text(), nullable=True),
        sa.Column("profile", _long_text(), nullable=True),
        sa.PrimaryKeyConstraint("dataset_uuid", name="pk_datasets"),
        sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_id_name_digest"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_datasets_experiment_id_experiments",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "inputs",
        sa.Column("input_uuid", sa.String(32), nullable=False),
        sa.Column("dataset_uuid", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("input_uuid", name="pk_inputs"),
        sa.UniqueConstraint("run_id", "dataset_uuid", name="uq_inputs_run_id_dataset_uuid"),
        sa.ForeignKeyConstraint(
            ["dataset_uuid"],
            ["datasets.dataset_uuid"],
            name="fk_inputs_dataset_uuid_datasets",
            ondelete="CASCADE",
        ),
        _run_fk("inputs"),
    )
    op.create_index("ix_inputs_dataset_uuid", "inputs", ["dataset_uuid"])
    op.create_table(
        "input_tags",
        sa.Column("input_uuid", sa.String(32), nullable=False),
        sa.Column("key", _str(255), nullable=False),
        sa.Column("value", _str(500), nullable=False),
        sa.PrimaryKeyConstraint("input_uuid", "key", name="pk_input_tags"),
        sa.ForeignKeyConstraint(
            ["input_uuid"],
            ["inputs.input_uuid"],
            name="fk_input_tags_input_uuid_inputs",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "model_inputs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "model_id", name="pk_model_inputs"),
        _run_fk("model_inputs"),
    )
    op.create_table(
        "model_outputs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "model_id", name="pk_model_outputs"),
        _run_fk("model_outputs"),
    )


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"], ["runs.run_id"], name=f"fk_{table}_run_id_runs", ondelete="CASCADE"
    )


def downgrade() -> None:
    """Drop every table, children first."""
    for table in (
        "model_outputs",
        "model_inputs",
        "input_tags",
        "inputs",
        "datasets",
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
