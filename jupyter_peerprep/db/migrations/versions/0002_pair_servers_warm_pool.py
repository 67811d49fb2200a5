"""Pair servers: the hub users hosting rooms, and the warm pool of started ones.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:36:33.359681
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "pair_servers",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("pair_servers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pair_servers_state"), ["state"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("pair_servers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pair_servers_state"))

    op.drop_table("pair_servers")
