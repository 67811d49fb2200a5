"""Profiles: email, carried from an LMS or single sign-on log-in (auth_state["peerprep"]).

Revision ID: 0004_profiles_email
Revises: 0003
Create Date: 2026-12-04 19:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_profiles_email"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(255), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("email")
