"""The session record's table: batches of a room's Yjs updates, in the compact stored form
(``jupyter_peerprep/record/codec.py``). One row per batch a pair server sent; the batch id
makes a resent batch a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, utcnow


class RecordBatch(Base):
    __tablename__ = "record_batches"
    __table_args__ = (UniqueConstraint("room_id", "batch", name="uq_record_batches_batch"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    batch: Mapped[str] = mapped_column(String(64))
    received: Mapped[datetime] = mapped_column(default=utcnow)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    # The batch carried the notebook (then the room's snapshot, fresher than its saved file).
    snapshot: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
