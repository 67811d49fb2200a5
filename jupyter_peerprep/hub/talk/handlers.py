"""Talk endpoints of a room: ``/api/rooms/{id}/talk`` and ``/api/rooms/{id}/signal``.

- ``GET talk``: what the caller's browser needs for the call: the ``RTCConfiguration``
  (STUN/TURN with the caller's own short-lived TURN credential), who the partner is, the chat
  file's name;
- ``POST signal`` ``{"payload": {"type": "offer" | "answer" | "candidate" | "bye" | ...}}``:
  a WebRTC signalling message to the partner (201);
- ``GET signal?after=<id>``: the caller's unread messages (a long poll; reading ``after`` an id
  acknowledges everything up to it).

Exactly the two members of the room may call them (403 for anyone else: the call is refused,
whoever asks), only while the room is active (409 once it is ending: the call is over). The
caller is the owner of the hub token (the relay forwards the visiting student's own token), and
cookie-authenticated POSTs carry the XSRF token (HubOAuth), like every other state change.
Media never passes through here: only the few kilobytes that set a call up.
"""

from __future__ import annotations

from tornado import web

from ...db.models import Room, RoomState
from ..handlers.base import APIHandler, authenticated
from .roomhooks import mailbox
from .settings import TalkSettings, talk_settings
from .signals import MailboxFull

SIGNAL_TYPES = ("offer", "answer", "candidate", "bye", "hello", "media")


class TalkHandlerBase(APIHandler):
    @property
    def talk(self) -> TalkSettings:
        return talk_settings(self.service)

    def partner_of(self, room_id: str) -> str:
        """The other member of the caller's active room; 403 / 409 otherwise."""
        with self.db() as s:
            room = s.get(Room, room_id)
            members = [m.username for m in room.members] if room is not None else []
            state = room.state if room is not None else ""
        if self.identity.name not in members:
            raise web.HTTPError(
                403,
                f"You are not a member of room {room_id}: only its two students can call in it.",
            )
        if state != RoomState.active.value:
            raise web.HTTPError(409, "This session is not active; its call is over.")
        others = [m for m in members if m != self.identity.name]
        if not others:
            raise web.HTTPError(409, "This room has no partner to call.")
        return others[0]


class TalkHandler(TalkHandlerBase):
    @authenticated
    async def get(self, room_id: str) -> None:
        partner = self.partner_of(room_id)
        self.write_json(
            {
                "rtc": self.talk.rtc_configuration(self.identity.name),
                "me": self.identity.name,
                "partner": partner,
                "chat_path": self.talk.chat_file,
            }
        )


class SignalHandler(TalkHandlerBase):
    @authenticated
    async def post(self, room_id: str) -> None:
        partner = self.partner_of(room_id)
        if len(self.request_body) > self.talk.max_signal_bytes:
            raise web.HTTPError(
                413,
                f"A signalling message may be at most {self.talk.max_signal_bytes} bytes.",
            )
        body = self.get_json_object()
        payload = body.get("payload")
        if not isinstance(payload, dict) or payload.get("type") not in SIGNAL_TYPES:
            raise web.HTTPError(
                400,
                f'"payload" must be an object whose "type" is one of {", ".join(SIGNAL_TYPES)}.',
            )
        try:
            message_id = mailbox(self.service).post(
                room_id, self.identity.name, partner, payload, self.talk.max_pending_signals
            )
        except MailboxFull as e:
            self.set_header("Retry-After", "2")
            raise web.HTTPError(429, str(e)) from None
        self.write_json({"id": message_id}, status=201)

    @authenticated
    async def get(self, room_id: str) -> None:
        self.partner_of(room_id)
        raw = self.get_query_argument("after", "0")
        if not raw.isdigit():
            raise web.HTTPError(400, f"after must be a message id (a whole number), not {raw!r}.")
        wait = self.get_query_argument("wait", "1") != "0"
        box = mailbox(self.service)
        if wait:
            messages = await box.wait(
                room_id,
                self.identity.name,
                int(raw),
                self.talk.signal_wait_seconds,
                self.talk.signal_poll_seconds,
            )
        else:
            messages = box.unread(room_id, self.identity.name, int(raw))
        self.write_json({"messages": messages})


ROOM_ID = r"([0-9a-f]{32})"
talk_handlers: list[tuple[str, type]] = [
    (rf"api/rooms/{ROOM_ID}/talk", TalkHandler),
    (rf"api/rooms/{ROOM_ID}/signal", SignalHandler),
]
