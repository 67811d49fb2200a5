"""Session record: record_batches (a room's Yjs updates with author and time, compact).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_batches",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "room_id", sa.String(32), sa.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("received", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("room_id", "batch", name="uq_record_batches_batch"),
    )
    op.create_index("ix_record_batches_room_id", "record_batches", ["room_id"])


def downgrade() -> None:
    op.drop_index("ix_record_batches_room_id", table_name="record_batches")
    op.drop_table("record_batches")
