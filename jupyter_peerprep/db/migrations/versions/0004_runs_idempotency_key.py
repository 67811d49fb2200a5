"""Runs: an idempotency key, so that a retried Run or Submit is graded once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 19:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing runs keep a null key; NULLs never collide in a unique constraint.
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(
            "uq_runs_idempotency", ["room_id", "username", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_constraint("uq_runs_idempotency", type_="unique")
        batch_op.drop_column("idempotency_key")
