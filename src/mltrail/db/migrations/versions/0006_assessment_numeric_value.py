"""Assessments keep their numeric value in a column, for ``feedback.<name> > 0.5`` searches.

``assessments`` gains ``value_number`` (double precision): the value of a feedback or expectation
whose value is a JSON number (booleans and numeric strings are not), else NULL. Existing rows are
filled from their stored payload.

Revision ID: 0006_assessment_numeric_value
Revises: 0005_trace_tag_search
Create Date: 2026-11-27
"""

from __future__ import annotations

import json
import math
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006_assessment_numeric_value"
down_revision = "0005_trace_tag_search"
branch_labels = None
depends_on = None

_BATCH = 1000


def _number(payload: str) -> float | None:
    # Frozen copy of the store's rule: a migration must keep producing what it produced when it
    # was written, whatever later code does.
    try:
        value: Any = json.loads(payload).get("value")
    except (ValueError, AttributeError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _fill(conn: sa.Connection) -> None:
    rows_of = sa.table("assessments", sa.column("assessment_id"), sa.column("payload"))
    target = sa.table("assessments", sa.column("assessment_id"), sa.column("value_number"))
    update = (
        sa.update(target)
        .where(target.c.assessment_id == sa.bindparam("b_id"))
        .values(value_number=sa.bindparam("b_number"))
    )
    after = ""
    while True:
        # Keyset over the primary key: every batch starts where the previous one ended.
        rows = conn.execute(
            sa.select(rows_of.c.assessment_id, rows_of.c.payload)
            .where(rows_of.c.assessment_id > after)
            .order_by(rows_of.c.assessment_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        numbers = [{"b_id": i, "b_number": n} for i, p in rows if (n := _number(p)) is not None]
        if numbers:
            conn.execute(update, numbers)
        after = rows[-1][0]


def upgrade() -> None:
    """Add and fill ``assessments.value_number``."""
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("value_number", sa.Double, nullable=True))
    _fill(op.get_bind())


def downgrade() -> None:
    """Drop ``assessments.value_number``."""
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("value_number")
