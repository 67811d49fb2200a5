"""Class view: profiles.email (from an LMS or single sign-on log-in) and room_observers
(instructors who opened a live room from the class view).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(255), nullable=False, server_default=""))
    op.create_table(
        "room_observers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "room_id", sa.String(32), sa.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("opened", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("room_id", "username"),
    )
    op.create_index("ix_room_observers_room_id", "room_observers", ["room_id"])


def downgrade() -> None:
    op.drop_index("ix_room_observers_room_id", table_name="room_observers")
    op.drop_table("room_observers")
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("email")
