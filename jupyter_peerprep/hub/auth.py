"""Who is calling the PeerPrep service.

Callers authenticate with the Hub: a hub API token in ``Authorization`` (the relay in the
student's or pair server, a script) or the service's OAuth cookie (a browser on a service page).
``HubOAuthenticated`` resolves either to the token's owner.

A relay on a *pair* server also names the student it acts for in ``X-PeerPrep-User``. The
service believes that header only when the token belongs to the room's pair user and the named
student is a member of that room; on any other token the header must name the token's owner.
A name in a request body is never believed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Room, RoomMember, RoomState

ACTING_USER_HEADER = "X-PeerPrep-User"
PAIR_USER_PREFIX = "pair-"


@dataclass(frozen=True)
class Identity:
    """The student (or instructor, or admin) a request acts for."""

    name: str
    groups: list[str] = field(default_factory=list)
    admin: bool = False
    instructor: bool = False
    # The pair user whose server relayed the request, when it came from a room.
    via_pair: str | None = None

    def to_json(self) -> dict[str, Any]:
        roles = ["user"]
        if self.instructor:
            roles.append("instructor")
        if self.admin:
            roles.append("admin")
        return {
            "name": self.name,
            "groups": self.groups,
            "roles": roles,
            "is_instructor": self.instructor,
            "is_admin": self.admin,
            "via_pair": self.via_pair,
        }


class IdentityError(Exception):
    """The request's claimed identity is not acceptable; the message says why."""


def is_pair_user(name: str) -> bool:
    return name.startswith(PAIR_USER_PREFIX)


def resolve_acting_user(
    token_owner: str, claimed: str | None, session_factory: Callable[[], Session]
) -> tuple[str, str | None]:
    """Return (acting user, pair user or None) for a request made with ``token_owner``'s token.

    Raises IdentityError if ``claimed`` names someone the token may not act for.
    """
    if not claimed or claimed == token_owner:
        return token_owner, None
    if not is_pair_user(token_owner):
        raise IdentityError(
            f"{ACTING_USER_HEADER} names {claimed!r} but the token belongs to {token_owner!r}"
        )
    with session_factory() as session:
        member = session.scalar(
            select(RoomMember)
            .join(Room)
            .where(
                Room.pair_user == token_owner,
                RoomMember.username == claimed,
                Room.state.in_([RoomState.starting.value, RoomState.active.value]),
            )
        )
    if member is None:
        raise IdentityError(f"{claimed!r} is not a member of the room served by {token_owner!r}")
    return claimed, token_owner
