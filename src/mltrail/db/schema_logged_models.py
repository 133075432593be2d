"""Table metadata of MLflow 3 logged models, registered on the shared tracking ``metadata``.

A logged model belongs to an experiment; its params, tags and metrics live in child tables that
cascade on delete. Metrics logged with a ``model_id`` are copied here (besides the run's own metric
history) so reading a model needs no scan of the run metric table.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

from mltrail.db.schema import metadata

__all__ = [
    "logged_model_metrics",
    "logged_model_params",
    "logged_model_tags",
    "logged_models",
]

_MODEL_ID = 64
_RUN_ID = 32


def _str(length: int) -> TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _text() -> TypeEngine[str]:
    return sa.Text().with_variant(mysql.TEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")


_DOUBLE: TypeEngine[float] = sa.Double().with_variant(mysql.DOUBLE(asdecimal=False), "mysql", "mariadb")


def _model_fk() -> sa.ForeignKey:
    return sa.ForeignKey("logged_models.model_id", ondelete="CASCADE")


logged_models = sa.Table(
    "logged_models",
    metadata,
    sa.Column("model_id", sa.String(_MODEL_ID), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", _str(500), nullable=False),
    sa.Column("artifact_location", _text(), nullable=False),
    sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("model_type", _str(500), nullable=True),
    sa.Column("source_run_id", sa.String(_RUN_ID), nullable=True),
    sa.Column("status_message", _text(), nullable=True),
    sa.Index(
        "ix_logged_models_experiment_stage_created",
        "experiment_id",
        "lifecycle_stage",
        "creation_timestamp_ms",
    ),
)

logged_model_params = sa.Table(
    "logged_model_params",
    metadata,
    sa.Column("model_id", sa.String(_MODEL_ID), _model_fk(), primary_key=True),
    sa.Column("param_key", _str(255), primary_key=True),
    sa.Column("param_value", _text(), nullable=False),
    sqlite_with_rowid=False,
)

logged_model_tags = sa.Table(
    "logged_model_tags",
    metadata,
    sa.Column("model_id", sa.String(_MODEL_ID), _model_fk(), primary_key=True),
    sa.Column("tag_key", _str(255), primary_key=True),
    sa.Column("tag_value", _text(), nullable=False),
    sqlite_with_rowid=False,
)

# A point is identified as in MLflow: (model, name, timestamp, step, run); a repeated point is
# stored once. Dataset columns stay out of the key (nullable, and too wide for a MySQL index).
logged_model_metrics = sa.Table(
    "logged_model_metrics",
    metadata,
    sa.Column("model_id", sa.String(_MODEL_ID), _model_fk(), primary_key=True),
    sa.Column("metric_name", _str(250), primary_key=True),
    sa.Column("metric_timestamp_ms", sa.BigInteger, primary_key=True),
    sa.Column("metric_step", sa.BigInteger, primary_key=True),
    sa.Column("run_id", sa.String(_RUN_ID), primary_key=True),
    sa.Column("metric_value", _DOUBLE, nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Column("dataset_name", _str(500), nullable=True),
    sa.Column("dataset_digest", _str(36), nullable=True),
    sa.Index(None, "metric_name", "model_id"),
)
