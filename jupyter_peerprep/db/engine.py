"""Database engine, sessions and migrations for the PeerPrep service.

SQLite (a file in the state directory) is the embedded default; PostgreSQL is selected by URL
(``postgresql+psycopg://...``). The schema is only ever created by Alembic migrations. Why
SQLite transactions begin ``IMMEDIATE``, run in WAL mode and checkpoint from a thread:
``docs/explanation/database.md``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)

# With background checkpoints, SQLite still checkpoints inside a commit once the WAL reaches
# this many pages (about 40 MB), so a stalled checkpointer cannot let the WAL grow forever.
WAL_BACKSTOP_PAGES = 10_000


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says which URL (password masked) and why."""


def mask_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, safe for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for bare ``postgresql://`` URLs (SQLAlchemy picks psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def default_url(state_dir: str | None = None) -> str:
    """The service's database URL when none is configured: ``$PEERPREP_DB_URL``, else a SQLite
    file in ``state_dir`` (default ``$PEERPREP_STATE_DIR``, else ``./.peerprep``)."""
    env = os.environ.get("PEERPREP_DB_URL")
    if env:
        return env
    state = state_dir or os.environ.get("PEERPREP_STATE_DIR", os.path.abspath(".peerprep"))
    return f"sqlite:///{Path(state) / 'peerprep.sqlite'}"


def configured_url(config: Mapping[str, Any]) -> str:
    """The URL the service would use under traitlets ``config`` (``PeerPrepService.db_url``,
    else ``default_url(PeerPrepService.state_dir)``), for command-line tools that share the
    service's database without importing the service."""
    section = config.get("PeerPrepService") or {}
    url = section.get("db_url") if isinstance(section, Mapping) else None
    if url:
        return str(url)
    state_dir = section.get("state_dir") if isinstance(section, Mapping) else None
    return default_url(str(state_dir) if state_dir else None)


def make_engine(
    url: str,
    *,
    echo: bool = False,
    connect_timeout: int = 5,
    sqlite_checkpoint_interval: float | None = None,
    lock_timeout: float = 30.0,
) -> Engine:
    """Create an engine for ``url`` and check it can be reached now, failing fast if not.

    ``sqlite_checkpoint_interval``: for a SQLite file, checkpoint its WAL every this many
    seconds from a background thread instead of inside commits (see ``WalCheckpointer``);
    None leaves checkpoints to SQLite (short-lived tools, tests).

    ``lock_timeout``: seconds a statement waits for a lock before it fails (SQLite's busy
    timeout, PostgreSQL's ``lock_timeout``). The service runs its database calls on its event
    loop, so it keeps this short: a wait stalls every request, a failure is answered 503 and
    retried (by the client, or by the next pass of a background loop).
    """
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise DatabaseError(f"Database URL {url!r} is not a valid SQLAlchemy URL: {e}") from None
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": lock_timeout}
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {
            "connect_timeout": connect_timeout,
            "options": f"-c lock_timeout={int(lock_timeout * 1000)}",
        }
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 20
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        background = sqlite_checkpoint_interval is not None and parsed.database not in (
            None,
            "",
            ":memory:",
        )
        _configure_sqlite(engine, background_checkpoints=background, lock_timeout=lock_timeout)
        if background:
            assert parsed.database and sqlite_checkpoint_interval
            checkpointer = WalCheckpointer(parsed.database, sqlite_checkpoint_interval)
            event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())
            checkpointer.start()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as e:
        reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
        raise DatabaseError(f"Cannot reach the database at {mask_url(url)}: {reason}") from None
    return engine


def _configure_sqlite(
    engine: Engine, *, background_checkpoints: bool = False, lock_timeout: float = 30.0
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if background_checkpoints:
            # The checkpointer thread does the work; this is only a backstop should it stall
            # (SQLite's default is 1000 pages).
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class WalCheckpointer:
    """Checkpoints a SQLite database's WAL every ``interval`` seconds from a daemon thread.

    ``PASSIVE`` checkpoints never wait for (or block) readers and writers; the thread has its
    own connection, and Python's sqlite3 releases the GIL while SQLite copies and syncs, so
    the event loop keeps serving meanwhile.
    """

    def __init__(self, path: str, interval: float) -> None:
        self.path = path
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"sqlite-checkpoint:{Path(path).name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            while not self._stopped.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as e:
                    log.warning("Checkpoint of %s failed (will retry): %s", self.path, e)
        finally:
            conn.close()


def ping(engine: Engine) -> None:
    """Check the database answers, without taking SQLite's write lock (every session here
    begins with ``BEGIN IMMEDIATE``): a health check must not wait behind a writer. Raises
    ``DatabaseError`` saying why not."""
    try:
        connection = engine.raw_connection()
    except Exception as e:  # the driver's own error class (sqlite3, psycopg), unwrapped
        raise DatabaseError(f"Cannot reach the database at {mask_url(str(engine.url))}: {e}") from e
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchall()
        cursor.close()
    except Exception as e:
        raise DatabaseError(
            f"The database at {mask_url(str(engine.url))} did not answer: {e}"
        ) from e
    finally:
        connection.close()


def database_trouble(error: Exception) -> str:
    """What to tell a student whose request met a database problem (no internals)."""
    text_ = str(getattr(error, "orig", None) or error).lower()
    if "full" in text_ or "no space" in text_:
        what = "PeerPrep cannot save anything right now (its database disk is full)"
    elif "locked" in text_ or "lock timeout" in text_ or "canceling statement" in text_:
        what = "PeerPrep's database is busy"
    else:
        what = "PeerPrep cannot reach its database right now"
    return f"{what}; nothing of yours was lost. Try again in a few seconds."


def alembic_config(url: str) -> AlembicConfig:
    """An Alembic config pointing at the packaged migrations and at ``url``."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``, using ``engine``'s connection."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, future=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any exception."""
    with factory() as session, session.begin():
        yield session
