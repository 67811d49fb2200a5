"""Rooms: grading_since, the database-wide "a run is being graded in this room" mark.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:46:35.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: a plain ALTER TABLE ADD COLUMN on SQLite and PostgreSQL alike.
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grading_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # SQLite before 3.35 cannot drop a column; batch mode copies the table there.
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("grading_since")
