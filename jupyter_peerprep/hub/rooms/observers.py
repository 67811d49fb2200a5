"""An instructor opens a live room of their class from the class view (an *observer*).

The room's server is shared with the instructor (Hub Shares API) and the visit recorded
(``RoomObserver``), which the room panel shows the students, so nobody is watched unawares.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError
from tornado import web

from ... import db
from ...db.models import Room, RoomObserver, RoomState
from ..hubapi import HubAPIError
from .manager import RoomManager


async def open_for_observer(
    rooms: RoomManager, room_id: str, username: str, students: Collection[str] | None
) -> tuple[str, list[str]]:
    """Share live room ``room_id`` of the class ``students`` (None: every student) with
    instructor ``username``; (the room's URL, its members). 404 for a room not in the class,
    409 for one not live, 502 when the hub does not share it."""
    with rooms.session_factory() as s:
        room = s.get(Room, room_id)
        names = {m.username for m in room.members} if room else set()
        if room is None or (students is not None and not names & set(students)):
            raise web.HTTPError(404, f"No live room {room_id!r} in your class.")
        if room.state != RoomState.active.value:
            raise web.HTTPError(
                409, f"Room {room_id} is {room.state}, not live; refresh the class view."
            )
        pair_user = room.pair_user
        url = rooms.room_url(room)
    try:
        await rooms.api.request("POST", f"shares/{quote(pair_user)}/", {"user": username})
    except HubAPIError as e:
        raise web.HTTPError(502, f"The hub did not share the room with you ({e}).") from None
    try:
        with db.transaction(rooms.session_factory) as s:
            s.add(RoomObserver(room_id=room_id, username=username))
    except IntegrityError:
        pass  # opened before: the students were told then
    return url, sorted(names)
