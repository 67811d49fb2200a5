"""The call's signalling mailbox on a real database: a message posted after the partner read
(and so deleted) every earlier one still reaches them.

The partner's browser asks for messages ``after`` the last id it saw. SQLite hands out the
largest remaining id + 1 unless the table says AUTOINCREMENT, so once every row had been read
and deleted (a call set up, nothing pending) the next message, a partner's Mute say, got an
id the reader had already passed and was never delivered.
"""

from __future__ import annotations

from types import SimpleNamespace

from jupyter_peerprep import db
from jupyter_peerprep.hub.talk.signals import Mailbox
from jupyter_peerprep.testing.seed import add_room

SPEC = {"id": "two-sum", "title": "Two Sum", "difficulty": "easy", "topics": ["arrays"]}


def test_a_message_after_everything_was_read_is_delivered(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    factory = db.session_factory(engine)
    try:
        room = add_room(SimpleNamespace(session_factory=factory), SPEC, members=("ann", "ben"))
        box = Mailbox(factory)
        # Setting up the call: messages both ways, each read by its recipient.
        for n in range(3):
            box.post(room, "ann", "ben", {"type": "candidate", "n": n}, limit=100)
            box.post(room, "ben", "ann", {"type": "candidate", "n": n}, limit=100)
        ben_after = max(m["id"] for m in box.unread(room, "ben", 0))
        ann_after = max(m["id"] for m in box.unread(room, "ann", 0))
        # The next polls acknowledge them: every row is deleted.
        assert box.unread(room, "ben", ben_after) == []
        assert box.unread(room, "ann", ann_after) == []

        # Ann mutes: Ben's next poll (after the last id he saw) gets it.
        box.post(room, "ann", "ben", {"type": "media", "muted": True}, limit=100)
        got = box.unread(room, "ben", ben_after)
        assert [m["payload"] for m in got] == [{"type": "media", "muted": True}]
    finally:
        engine.dispose()
