"""``TalkSettings``: where a room's call finds a route (STUN/TURN), and signalling limits.

TURN credentials follow the "TURN REST API" convention coturn implements with
``use-auth-secret`` / ``static-auth-secret``: the user name is ``<expiry>:<hub user>`` and the
password is ``base64(HMAC-SHA1(secret, user name))``. The service hands each member
credentials that expire, so the secret never leaves the service and a copied credential stops
working (docs/how-to/turn-server.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from traitlets import Enum, Float, Integer, List, TraitError, Unicode, validate
from traitlets.config import LoggingConfigurable


class TalkSettings(LoggingConfigurable):
    """The room chat and call: STUN/TURN servers, signalling limits, the chat file."""

    stun_urls = List(
        Unicode(),
        [],
        help="""STUN servers the browsers of a call ask for their public address, e.g.
        ["stun:turn.example.edu:3478"] (a campus coturn answers STUN on its TURN port). Empty
        (the default): host candidates only, enough when both students are on one network
        (a campus, a VPN, loopback). Never a public service unless your institution allows
        it: the students' addresses are sent there.""",
    ).tag(config=True)

    turn_urls = List(
        Unicode(),
        [],
        help="""TURN servers that relay a call's media when no direct route exists (strict
        NATs, firewalls that allow only 443), e.g. ["turn:turn.example.edu:3478?transport=udp",
        "turns:turn.example.edu:443?transport=tcp"]. Needs ``turn_secret``. Media then passes
        through that TURN server, never through the hub.""",
    ).tag(config=True)

    turn_secret = Unicode(
        "",
        help="""The coturn ``static-auth-secret`` (with ``use-auth-secret``) shared with the
        TURN servers in ``turn_urls``. The service derives a short-lived credential per member
        from it; the secret itself never reaches a browser or a pair server.""",
    ).tag(config=True)

    turn_credential_seconds = Integer(
        4 * 3600,
        help="Seconds a TURN credential handed to a member stays valid (a session's length).",
    ).tag(config=True)

    ice_transport_policy = Enum(
        ["all", "relay"],
        "all",
        help="""WebRTC ``iceTransportPolicy``: "all" tries direct routes first; "relay"
        forces every call through ``turn_urls`` (hides the students' addresses from each
        other, costs TURN bandwidth).""",
    ).tag(config=True)

    signal_wait_seconds = Float(
        15.0,
        help="""Seconds a member's signalling read waits for a message from the partner
        before answering empty (a long poll; the browser asks again at once).""",
    ).tag(config=True)

    signal_poll_seconds = Float(
        0.25,
        help="""Seconds between two database checks of a waiting signalling read, when the
        message comes through another service replica (one replica wakes its readers at
        once).""",
    ).tag(config=True)

    max_pending_signals = Integer(
        500,
        help="""Signalling messages one member may have waiting unread for the partner; more
        is refused with 429 (a stuck or hostile page cannot fill the database).""",
    ).tag(config=True)

    max_signal_bytes = Integer(
        32 * 1024,
        help="Largest signalling message in bytes (an SDP offer is a few kilobytes).",
    ).tag(config=True)

    chat_file = Unicode(
        "question.chat",
        help="""File name of a room's chat document (jupyterlab-chat), created beside the
        question notebook. Its transcript is saved with the attempt.""",
    ).tag(config=True)

    @validate("turn_urls")
    def _validate_turn_urls(self, proposal: dict[str, Any]) -> list[str]:
        urls: list[str] = proposal["value"]
        bad = [u for u in urls if not u.startswith(("turn:", "turns:"))]
        if bad:
            raise TraitError(
                f"TalkSettings.turn_urls must start with turn: or turns:, got {bad}; "
                "STUN servers go in TalkSettings.stun_urls."
            )
        return urls

    @validate("stun_urls")
    def _validate_stun_urls(self, proposal: dict[str, Any]) -> list[str]:
        urls: list[str] = proposal["value"]
        bad = [u for u in urls if not u.startswith(("stun:", "stuns:"))]
        if bad:
            raise TraitError(
                f"TalkSettings.stun_urls must start with stun: or stuns:, got {bad}; "
                "TURN servers go in TalkSettings.turn_urls."
            )
        return urls

    def turn_credential(self, username: str, now: float | None = None) -> tuple[str, str]:
        """(user name, password) for ``username`` under coturn's ``use-auth-secret``."""
        expiry = int((now if now is not None else time.time()) + self.turn_credential_seconds)
        user = f"{expiry}:{username}"
        digest = hmac.new(self.turn_secret.encode(), user.encode(), hashlib.sha1).digest()
        return user, base64.b64encode(digest).decode()

    def rtc_configuration(self, username: str) -> dict[str, Any]:
        """The ``RTCConfiguration`` a member's browser builds its peer connection with."""
        servers: list[dict[str, Any]] = []
        if self.stun_urls:
            servers.append({"urls": list(self.stun_urls)})
        if self.turn_urls and self.turn_secret:
            user, password = self.turn_credential(username)
            servers.append({"urls": list(self.turn_urls), "username": user, "credential": password})
        elif self.turn_urls:
            self.log.warning("Talk: turn_urls set without turn_secret; TURN is not offered")
        return {"iceServers": servers, "iceTransportPolicy": self.ice_transport_policy}


def talk_settings(service: Any) -> TalkSettings:
    """The service's ``TalkSettings`` (made once, configured from the service's config)."""
    settings: TalkSettings | None = getattr(service, "_talk_settings", None)
    if settings is None:
        settings = TalkSettings(parent=service)
        service._talk_settings = settings
    return settings
