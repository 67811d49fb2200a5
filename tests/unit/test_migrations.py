"""Alembic migrations build the schema on empty SQLite and PostgreSQL databases."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from jupyter_peerprep import db
from jupyter_peerprep.db.models import Base

EXPECTED_TABLES = {t.name for t in Base.metadata.sorted_tables}


def _check_upgrade(url: str) -> None:
    engine = db.make_engine(url)
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert tables >= EXPECTED_TABLES
    head = db.current_revision(engine)
    assert head is not None
    db.upgrade(engine)  # idempotent
    assert db.current_revision(engine) == head
    engine.dispose()


def test_upgrade_empty_sqlite(sqlite_url):
    _check_upgrade(sqlite_url)


@pytest.mark.postgres
def test_upgrade_empty_postgres(postgres_url):
    _check_upgrade(postgres_url)


def test_models_match_migrations(sqlite_url):
    """The models and the migrations describe the same schema (no forgotten migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
