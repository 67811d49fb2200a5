"""The ``jupyter_peerprep`` Jupyter server extension, loaded in student and pair servers.

It relays the lab extension's requests (``<server>/peerprep/api/*``) to the PeerPrep hub
service (``/services/peerprep/api/*``). Why a relay and not the browser talking to the service
directly: JupyterHub (4.1 and later) requires a service-specific XSRF token on every
cookie-authenticated ``fetch``, and the service's OAuth log-in cannot complete inside a
``fetch``. Through the relay, the browser stays on its Jupyter server's origin with
JupyterLab's own authentication and XSRF, and the relay forwards the visitor's own hub token
(never the server's), which the service checks with the hub.

Neighbours: ``relay.py`` (the handlers); the service side of the handshake is
``hub/auth.py``.
"""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Integer, List, Unicode, default

from ._version import __version__
from .credentials import withhold_from_children
from .hub.auth import is_pair_user
from .record_hook import RecordingExtension
from .relay import RelayHandler, StatusHandler
from .room_page import RoomPagePolicy, install
from .room_talk import ChatContentHandler, RoomChat


class PeerPrepExtension(RecordingExtension, ExtensionApp):
    """Relays PeerPrep API calls from JupyterLab to the PeerPrep hub service."""

    name = "jupyter_peerprep"
    version = __version__
    load_other_extensions = True

    service_url = Unicode(
        help="""Base URL of the PeerPrep hub service as this server reaches it, ending in
        ``/services/peerprep/``. Defaults to $PEERPREP_SERVICE_URL, which the PeerPrep hub
        configuration sets for every spawned server. Empty disables the relay (the panel then
        says the service is not configured).""",
    ).tag(config=True)

    @default("service_url")
    def _default_service_url(self) -> str:
        return os.environ.get("PEERPREP_SERVICE_URL", "")

    request_timeout = Float(
        60.0,
        help="Seconds a relayed request (a grading run included) may take before it fails.",
    ).tag(config=True)

    stream_timeout = Float(
        3600.0,
        help="Seconds a relayed event stream (the matching status stream) may stay open.",
    ).tag(config=True)

    server_user = Unicode(
        help="""The hub user whose server this is. Defaults to $JUPYTERHUB_USER, which the hub
        sets for every spawned server; a ``pair-`` user's server is a room.""",
    ).tag(config=True)

    @default("server_user")
    def _default_server_user(self) -> str:
        return os.environ.get("JUPYTERHUB_USER", "")

    room_actions_only = Bool(
        help="""Relay only the room's own actions (the room, its runs, Submit, End, for the
        room of this server) and refuse the rest with a 403. On by default on pair servers:
        script in a room's page shares the partner's session there. Turning it off lets such
        script read the partner's history, edit their profile and, for an instructor partner,
        open hidden tests.""",
    ).tag(config=True)

    @default("room_actions_only")
    def _default_room_actions_only(self) -> bool:
        return is_pair_user(self.server_user)

    room_page_policy = Bool(
        help="""Apply the room page policy (room_page.py): a Content-Security-Policy that
        allows scripts only from JupyterLab's static files and installed lab extensions, no
        hub token in the page, and the plugins in ``room_disabled_extensions`` off. On by
        default on pair servers, where two students share one origin.""",
    ).tag(config=True)

    @default("room_page_policy")
    def _default_room_page_policy(self) -> bool:
        return is_pair_user(self.server_user)

    room_script_paths = List(
        Unicode(),
        ["static/lab/", "lab/extensions/"],
        help="""Paths under the server's base URL the room page may load scripts from: the
        JupyterLab bundle and the installed lab extensions. Never a path serving the room's
        files (``files/``).""",
    ).tag(config=True)

    room_disabled_extensions = List(
        Unicode(),
        ["@jupyterlab/javascript-extension", "@jupyterlab/vega5-extension"],
        help="""JupyterLab plugins disabled on a room's page: those that evaluate what an
        output holds (the ``application/javascript`` renderer; Vega, which compiles a chart's
        expressions to functions). JupyterLab needs ``eval`` for itself, so the page's policy
        cannot refuse it: one student's output would run in the partner's page.""",
    ).tag(config=True)

    room_csp_extra = Unicode(
        "",
        help="""More Content-Security-Policy directives for the room page (e.g.
        "connect-src 'self'"), appended to the policy's own.""",
    ).tag(config=True)

    room_chat_file = Unicode(
        "question.chat",
        help="""The room's chat document (jupyterlab-chat), where this server writes the
        system messages: a partner joined or left, Run/Submit verdicts, time reminders, the
        session ending. The same name as the service's ``TalkSettings.chat_file``.""",
    ).tag(config=True)

    room_reminder_minutes = List(
        Integer(),
        [15, 30, 45, 60],
        help="Minutes into a session at which the room chat says how long it has run.",
    ).tag(config=True)

    room_id: str | None = None
    room_chat: RoomChat | None = None

    def initialize_settings(self) -> None:
        self.settings["peerprep"] = self
        self._withhold_hub_credentials()
        if self.room_page_policy:
            assert self.serverapp is not None
            policy = RoomPagePolicy(
                self.serverapp.base_url,
                self.room_script_paths,
                self.room_disabled_extensions,
                self.room_csp_extra,
            )
            install(self.serverapp, policy)
            self.log.info("PeerPrep: room page policy on (%s)", policy.script_paths)
        self.init_recorder(self.settings, self.service_url, self.serverapp)
        if self.room_actions_only:
            self.room_chat = RoomChat(
                self.serverapp, self.room_chat_file, list(self.room_reminder_minutes)
            )
        if not self.service_url:
            self.log.warning(
                "PeerPrep: no service URL (set $PEERPREP_SERVICE_URL or "
                "PeerPrepExtension.service_url); the PeerPrep panel will say so."
            )

    async def stop_extension(self) -> None:
        await self.stop_recorder()

    def initialize_handlers(self) -> None:
        self.handlers.extend(
            [
                (r"/peerprep/status", StatusHandler),
                (r"/peerprep/api/(.*)", RelayHandler),
                (r"/peerprep/chat", ChatContentHandler),
            ]
        )

    def _withhold_hub_credentials(self) -> None:
        """Kernels and terminals started by this server get no hub credentials
        (``credentials.py``); only the server's own HubAuth objects keep them."""
        server = self.serverapp
        assert server is not None  # settings are initialized by a running server
        hub_auths = [getattr(server.identity_provider, "hub_auth", None)]
        for apps in server.extension_manager.extension_apps.values():
            hub_auths += [getattr(app, "hub_auth", None) for app in apps]
        removed = withhold_from_children(auth for auth in hub_auths if auth is not None)
        if removed:
            self.log.info("PeerPrep: %s kept from kernels and terminals", ", ".join(removed))
