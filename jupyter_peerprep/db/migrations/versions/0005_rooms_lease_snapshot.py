"""Rooms: a lease (which service replica prepares or ends the room now) and snapshot_at.

``lease_owner`` / ``lease_expires`` make one replica at a time work on a room, so two replicas
never both prepare it (two pair servers, a second notebook write) or both end it.
``snapshot_at`` says when ``final_notebook`` was last copied from the running room, so a room
whose server dies is ended with the newest notebook the service holds.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lease_owner", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("lease_expires", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("snapshot_at")
        batch_op.drop_column("lease_expires")
        batch_op.drop_column("lease_owner")
