"""Talk in the room: talk_signals (WebRTC signalling between the two members of a room) and
talk_transcripts (the room's chat, saved with the attempt).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "talk_signals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "room_id", sa.String(32), sa.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        # Ids never reused (SQLite reuses the largest free rowid without AUTOINCREMENT): a
        # reader asks for messages after the last id it saw (hub/talk/signals.py).
        sqlite_autoincrement=True,
    )
    op.create_index("ix_talk_signals_room_id", "talk_signals", ["room_id"])
    op.create_table(
        "talk_transcripts",
        sa.Column(
            "room_id",
            sa.String(32),
            sa.ForeignKey("rooms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("talk_transcripts")
    op.drop_index("ix_talk_signals_room_id", table_name="talk_signals")
    op.drop_table("talk_signals")
