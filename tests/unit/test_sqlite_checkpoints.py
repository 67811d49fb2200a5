"""The service checkpoints its SQLite write-ahead log from a background thread (``db/engine.py``):
committed pages reach the database file without any commit paying for it, and disposing of
the engine stops the thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from jupyter_peerprep import db


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("sqlite-checkpoint:")]


def write_rows(engine, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)"))
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": "x" * 2000 + str(i)})


def test_background_checkpoints_move_commits_into_the_database_file(tmp_path: Path):
    path = tmp_path / "service.sqlite"
    engine = db.make_engine(f"sqlite:///{path}", sqlite_checkpoint_interval=0.05)
    before = len(checkpoint_threads())
    assert before >= 1
    write_rows(engine, 200)  # ~100 pages: far below the in-commit backstop of 10,000
    deadline = time.monotonic() + 10
    while path.stat().st_size < 200 * 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size >= 200 * 2000, "committed pages never reached the database file"
    engine.dispose()
    deadline = time.monotonic() + 5
    while len(checkpoint_threads()) >= before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(checkpoint_threads()) == before - 1, "disposing of the engine stops its thread"


def test_without_background_checkpoints_no_thread_is_started(tmp_path: Path):
    before = len(checkpoint_threads())
    engine = db.make_engine(f"sqlite:///{tmp_path / 'tool.sqlite'}")
    write_rows(engine, 5)
    assert len(checkpoint_threads()) == before
    engine.dispose()
