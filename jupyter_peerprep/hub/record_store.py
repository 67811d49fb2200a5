"""The session record's reads and writes in the service database (no handlers here: the
room loop imports this too)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..db.models import utcnow
from ..db.record_models import RecordBatch
from ..record import codec


def load_entries(s: Session, room_id: str) -> list[codec.Entry]:
    rows = s.scalars(
        select(RecordBatch.data).where(RecordBatch.room_id == room_id).order_by(RecordBatch.id)
    ).all()
    return [entry for data in rows for entry in codec.decode(data)]


def record_snapshots_live(factory: sessionmaker[Session], room_id: str, seconds: float) -> bool:
    """Whether the room's pair server sent its notebook in the last ``seconds``: then the room
    loop's copy of the saved file (older: the file is saved after a pause in typing) must not
    replace it."""
    since = utcnow() - timedelta(seconds=seconds)
    with factory() as s:
        found = s.scalar(
            select(RecordBatch.id)
            .where(
                RecordBatch.room_id == room_id,
                RecordBatch.snapshot.is_(True),
                RecordBatch.received > since,
            )
            .limit(1)
        )
    return found is not None
