"""Who is calling the PeerPrep service: the owner of the hub token, and nobody else.

Callers authenticate with the Hub: a hub token in ``Authorization`` (the relay in a student's
or pair server forwards the *visiting student's own* token; a script sends its user's token)
or the service's OAuth cookie (a browser on a service page). ``HubOAuthenticated`` resolves
either to the token's owner, and that owner is the identity. No header, body field or server
may name someone else (docs/explanation/security.md).

Pair users (``pair-<hex>``) own rooms' servers, not students' data: a request made with a pair
user's token is refused on the student API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAIR_USER_PREFIX = "pair-"


@dataclass(frozen=True)
class Identity:
    """The student (or instructor, or admin) a request acts for."""

    name: str
    groups: list[str] = field(default_factory=list)
    admin: bool = False
    instructor: bool = False
    # What an LMS or single sign-on log-in said about the person (auth_state["peerprep"]).
    display_name: str = ""
    email: str = ""

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
        }


class IdentityError(Exception):
    """The token's owner may not use the student API; the message says why and what to do."""


def is_pair_user(name: str) -> bool:
    return name.lower().startswith(PAIR_USER_PREFIX)


def check_token_owner(token_owner: str) -> str:
    """Return the identity a request made with ``token_owner``'s token acts for: the owner.

    Raises IdentityError for a pair user's token, which belongs to a room's server (and so, in
    reach of both students' code) and acts for no student.
    """
    if is_pair_user(token_owner):
        raise IdentityError(
            f"The token belongs to the pair user {token_owner!r} (a room's server), which "
            "cannot act for a student: call the PeerPrep API with your own hub login, through "
            "the PeerPrep panel or your own hub token."
        )
    return token_owner
