"""Model registry: registered models, versions, their tags, aliases and the alias history.

Revision ID: 0003_registry
Revises: 0002_logged_models
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

revision = "0003_registry"
down_revision = "0002_logged_models"
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


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name"],
        ["registered_models.name"],
        name=f"fk_{table}_name_registered_models",
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


def upgrade() -> None:
    """Create the registry tables."""
    op.create_table(
        "registered_models",
        sa.Column("name", _str(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("description", _long_text(), nullable=True),
        sa.Column("user_id", _str(256), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_registered_models"),
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("name", _str(256), nullable=False),
        sa.Column("key", _str(250), nullable=False),
        sa.Column("value", _long_text(), nullable=False),
        sa.PrimaryKeyConstraint("name", "key", name="pk_registered_model_tags"),
        _model_fk("registered_model_tags"),
    )
    op.create_table(
        "model_versions",
        sa.Column("name", _str(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
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
        sa.PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
        _model_fk("model_versions"),
    )
    op.create_index(
        "ix_model_versions_current_stage_last_updated_time",
        "model_versions",
        ["current_stage", "last_updated_time"],
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        sa.Column("name", _str(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("key", _str(250), nullable=False),
        sa.Column("value", _long_text(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", "key", name="pk_model_version_tags"),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            name="fk_model_version_tags_name_model_versions",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("name", _str(256), nullable=False),
        sa.Column("alias", _str(255), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", "alias", name="pk_registered_model_aliases"),
        _model_fk("registered_model_aliases"),
    )
    op.create_table(
        "model_alias_events",
        sa.Column("event_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", _str(256), nullable=False),
        sa.Column("alias", _str(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_version", sa.Integer, nullable=True),
        sa.Column("to_version", sa.Integer, nullable=True),
        sa.Column("user_id", _str(256), nullable=True),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("reason", _text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name="pk_model_alias_events"),
        _model_fk("model_alias_events"),
    )
    op.create_index(
        "ix_model_alias_events_name_alias_event_id", "model_alias_events", ["name", "alias", "event_id"]
    )


def downgrade() -> None:
    """Drop the registry tables, children first."""
    for table in (
        "model_alias_events",
        "registered_model_aliases",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(table)
