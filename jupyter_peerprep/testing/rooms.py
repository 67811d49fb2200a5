"""Getting two students into a room at a real hub, for tests and benchmarks.

``new_student`` signs a user up, logs in and starts their own server; ``new_admin`` does the
same for the hub's first admin (an instructor) and waits for the question bank;
``wait_for_questions`` waits until the service lists a question; ``match_pair`` makes two
students ask for the same thing and returns their room once it is active.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from .hubclient import HubClientError, HubUser


def new_student(
    hub_url: str, prefix: str, *, spawn_timeout: float = 180.0, subdomains: bool = False
) -> HubUser:
    user = HubUser(hub_url, f"{prefix}{uuid.uuid4().hex[:6]}", subdomains=subdomains)
    user.signup()
    user.login()
    user.start_server(timeout=spawn_timeout)
    return user


def new_admin(hub_url: str, name: str = "admin", *, subdomains: bool = False) -> HubUser:
    """The hub's admin (``PEERPREP_ADMIN``, an instructor), signed up, logged in, with a running
    server, once the service lists a question."""
    admin = HubUser(hub_url, name, subdomains=subdomains)
    admin.signup()
    admin.login()
    admin.start_server()
    wait_for_questions(admin)
    return admin


def wait_for_questions(user: HubUser, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    listing: dict[str, Any] = {}
    while time.monotonic() < deadline:
        listing = user.peerprep("GET", "questions").json()
        if listing.get("questions"):
            return
        time.sleep(0.5)
    raise HubClientError(f"question bank not loaded after {timeout:.0f}s: {listing}")


def match_pair(
    a: HubUser,
    b: HubUser,
    *,
    difficulty: str = "easy",
    topics: tuple[str, ...] = ("arrays",),
    room_timeout: float = 120.0,
    wait_active: bool = True,
    language: str = "python",
) -> dict[str, Any]:
    """Both students enqueue the same choice; return their room once it is active (or at
    once, still starting, with ``wait_active=False``). ``a`` and ``b`` may be ``HubUser``s or
    anything with their ``name`` and ``peerprep()`` (``testing.faults.ServiceCaller``)."""
    tickets = {}
    for user in (a, b):
        response = user.peerprep(
            "POST",
            "match",
            json={
                "difficulty": difficulty,
                "topics": list(topics),
                "language": language,
                "idempotency_key": uuid.uuid4().hex,
            },
        )
        if response.status_code not in (200, 201):
            raise HubClientError(f"enqueue of {user.name}: {response.status_code} {response.text}")
        tickets[user.name] = response.json()["id"]
    ticket: dict[str, Any] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ticket = a.peerprep("GET", f"match/{tickets[a.name]}").json()
        if ticket["state"] == "matched":
            break
        time.sleep(0.2)
    if ticket.get("state") != "matched":
        raise HubClientError(f"not matched: {ticket}")
    room_id = ticket["room"]["id"]
    room: dict[str, Any] = {}
    if not wait_active:
        return dict(a.peerprep("GET", f"rooms/{room_id}").json())
    deadline = time.monotonic() + room_timeout
    while time.monotonic() < deadline:
        room = a.peerprep("GET", f"rooms/{room_id}").json()
        if room["state"] in ("active", "failed"):
            break
        time.sleep(0.3)
    if room.get("state") != "active":
        raise HubClientError(f"room not active: {room}")
    return room
