"""Table metadata of the tracking store (SQLAlchemy Core), the single source the migrations follow.

Key and value columns compare case-sensitively on every backend: on MySQL/MariaDB they use the
``utf8mb4_bin`` collation. Long values are ``Text`` (``MEDIUMTEXT`` on MySQL where 64 KiB is too
small) so rows stay under MySQL's row-size limit; metric values are double precision everywhere.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

__all__ = [
    "datasets",
    "experiment_tags",
    "experiments",
    "input_tags",
    "inputs",
    "latest_metrics",
    "metadata",
    "metrics",
    "model_inputs",
    "model_outputs",
    "params",
    "runs",
    "tags",
]

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=_NAMING)


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


_DOUBLE: TypeEngine[float] = sa.Double().with_variant(mysql.DOUBLE(asdecimal=False), "mysql", "mariadb")
_RUN_ID = 32
_KEY = 250


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("runs.run_id", ondelete="CASCADE")


experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", _str(500), nullable=False),
    sa.Column("artifact_location", _str(2048), nullable=False),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=True),
    sa.Column("last_update_time", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("name"),
    sa.Index(None, "lifecycle_stage", "creation_time"),
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", _str(_KEY), primary_key=True),
    sa.Column("value", _long_text(), nullable=False),
)

# ``run_key`` is a compact surrogate used by the large metric history table; ``run_id`` is the
# public identity every other table refers to.
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_key", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(_RUN_ID), nullable=False, unique=True),
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False),
    sa.Column("name", _text(), nullable=False),
    sa.Column("user_id", _str(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=True),
    sa.Column("end_time", sa.BigInteger, nullable=True),
    sa.Column("deleted_time", sa.BigInteger, nullable=True),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("artifact_uri", _text(), nullable=False),
    sa.Index(None, "experiment_id", "lifecycle_stage", "start_time"),
    sa.Index(None, "lifecycle_stage", "deleted_time"),
)

params = sa.Table(
    "params",
    metadata,
    sa.Column("run_id", sa.String(_RUN_ID), _run_fk(), primary_key=True),
    sa.Column("key", _str(_KEY), primary_key=True),
    sa.Column("value", _text(), nullable=False),
    sqlite_with_rowid=False,
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_id", sa.String(_RUN_ID), _run_fk(), primary_key=True),
    sa.Column("key", _str(_KEY), primary_key=True),
    sa.Column("value", _text(), nullable=False),
    sqlite_with_rowid=False,
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("run_key", sa.Integer, sa.ForeignKey("runs.run_key", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", _str(_KEY), primary_key=True),
    sa.Column("timestamp", sa.BigInteger, primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("value", _DOUBLE, primary_key=True),
    sa.Column("is_nan", sa.Boolean, primary_key=True),
    sqlite_with_rowid=False,
)

latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column("run_id", sa.String(_RUN_ID), _run_fk(), primary_key=True),
    sa.Column("key", _str(_KEY), primary_key=True),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("value", _DOUBLE, nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Index(None, "key", "value"),
    sqlite_with_rowid=False,
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("dataset_uuid", sa.String(_RUN_ID), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", _str(500), nullable=False),
    sa.Column("digest", _str(36), nullable=False),
    sa.Column("source_type", _str(36), nullable=False),
    sa.Column("source", _text(), nullable=False),
    sa.Column("schema", _long_text(), nullable=True),
    sa.Column("profile", _long_text(), nullable=True),
    sa.UniqueConstraint("experiment_id", "name", "digest"),
)

inputs = sa.Table(
    "inputs",
    metadata,
    sa.Column("input_uuid", sa.String(_RUN_ID), primary_key=True),
    sa.Column(
        "dataset_uuid",
        sa.String(_RUN_ID),
        sa.ForeignKey("datasets.dataset_uuid", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("run_id", sa.String(_RUN_ID), _run_fk(), nullable=False),
    sa.UniqueConstraint("run_id", "dataset_uuid"),
    sa.Index(None, "dataset_uuid"),
)

input_tags = sa.Table(
    "input_tags",
    metadata,
    sa.Column(
        "input_uuid",
        sa.String(_RUN_ID),
        sa.ForeignKey("inputs.input_uuid", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", _str(255), primary_key=True),
    sa.Column("value", _str(500), nullable=False),
)

model_inputs = sa.Table(
    "model_inputs",
    metadata,
    sa.Column("run_id", sa.String(_RUN_ID), _run_fk(), primary_key=True),
    sa.Column("model_id", sa.String(64), primary_key=True),
)

model_outputs = sa.Table(
    "model_outputs",
    metadata,
    sa.Column("run_id", sa.String(_RUN_ID), _run_fk(), primary_key=True),
    sa.Column("model_id", sa.String(64), primary_key=True),
    sa.Column("step", sa.BigInteger, nullable=False),
)
