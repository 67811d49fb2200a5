"""Alembic environment for the PeerPrep service database.

Run through ``jupyter_peerprep.db.upgrade`` (which passes a live connection) or
``jupyter peerprep db upgrade``; ``alembic`` on the command line works too with
``-x url=...``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from jupyter_peerprep.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    if not url:
        raise SystemExit("No database URL: pass -x url=... to alembic")
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
