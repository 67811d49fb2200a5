"""The PeerPrep service database, on the ground floor: ``hub/`` and ``questions/`` both use it.

- ``engine.py``: engines (SQLite or PostgreSQL), sessions, transactions, migrations.
- ``models.py``: the SQLAlchemy tables.
- ``migrations/``: the Alembic migrations that build them (never ``create_all``).

Why SQLite runs the way it does: ``docs/explanation/database.md``.
"""

from __future__ import annotations

from .engine import (
    MIGRATIONS_DIR,
    DatabaseError,
    WalCheckpointer,
    alembic_config,
    configured_url,
    current_revision,
    database_trouble,
    default_url,
    make_engine,
    mask_url,
    normalize_url,
    ping,
    session_factory,
    transaction,
    upgrade,
)

__all__ = [
    "MIGRATIONS_DIR",
    "DatabaseError",
    "WalCheckpointer",
    "alembic_config",
    "configured_url",
    "current_revision",
    "database_trouble",
    "default_url",
    "make_engine",
    "mask_url",
    "normalize_url",
    "ping",
    "session_factory",
    "transaction",
    "upgrade",
]
