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
from traitlets import Float, Unicode, default

from ._version import __version__
from .credentials import withhold_from_children
from .relay import RelayHandler, StatusHandler


class PeerPrepExtension(ExtensionApp):
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

    def initialize_settings(self) -> None:
        self.settings["peerprep"] = self
        self._withhold_hub_credentials()
        if not self.service_url:
            self.log.warning(
                "PeerPrep: no service URL (set $PEERPREP_SERVICE_URL or "
                "PeerPrepExtension.service_url); the PeerPrep panel will say so."
            )

    def initialize_handlers(self) -> None:
        self.handlers.extend(
            [
                (r"/peerprep/status", StatusHandler),
                (r"/peerprep/api/(.*)", RelayHandler),
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
