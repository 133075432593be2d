"""Table metadata of the model registry, registered on the shared tracking ``metadata``.

Versions, tags and aliases refer to their registered model by name with ``ON UPDATE CASCADE``,
so a rename is one statement; deleting a registered model cascades to everything below it.
Deleted versions stay as rows (stage ``Deleted_Internal``) so their numbers are never reused.
``model_alias_events`` is mltrail's alias history: one row per alias move.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

from mltrail.db.schema import metadata

__all__ = [
    "model_alias_events",
    "model_version_tags",
    "model_versions",
    "registered_model_aliases",
    "registered_model_tags",
    "registered_models",
]

_NAME = 256
_KEY = 250
_ALIAS = 255


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


def _model_fk() -> sa.ForeignKey:
    return sa.ForeignKey("registered_models.name", ondelete="CASCADE", onupdate="CASCADE")


registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("name", _str(_NAME), primary_key=True),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("description", _long_text(), nullable=True),
    sa.Column("user_id", _str(256), nullable=True),
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    sa.Column("name", _str(_NAME), _model_fk(), primary_key=True),
    sa.Column("key", _str(_KEY), primary_key=True),
    sa.Column("value", _long_text(), nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("name", _str(_NAME), _model_fk(), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("description", _long_text(), nullable=True),
    sa.Column("user_id", _str(256), nullable=True),
    sa.Column("current_stage", sa.String(20), nullable=False),
    sa.Column("source", _text(), nullable=False),
    sa.Column("storage_location", _text(), nullable=True),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("run_link", _text(), nullable=True),
    sa.Column("model_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("status_message", _text(), nullable=True),
    sa.Index(None, "current_stage", "last_updated_time"),
    sa.Index(None, "run_id"),
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column("name", _str(_NAME), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key", _str(_KEY), primary_key=True),
    sa.Column("value", _long_text(), nullable=False),
    sa.ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

registered_model_aliases = sa.Table(
    "registered_model_aliases",
    metadata,
    sa.Column("name", _str(_NAME), _model_fk(), primary_key=True),
    sa.Column("alias", _str(_ALIAS), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

model_alias_events = sa.Table(
    "model_alias_events",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", _str(_NAME), _model_fk(), nullable=False),
    sa.Column("alias", _str(_ALIAS), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_version", sa.Integer, nullable=True),
    sa.Column("to_version", sa.Integer, nullable=True),
    sa.Column("user_id", _str(256), nullable=True),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("reason", _text(), nullable=True),
    sa.Index(None, "name", "alias", "event_id"),
)
