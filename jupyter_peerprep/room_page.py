"""What a pair server's JupyterLab page may run: PeerPrep's own code and JupyterLab's, nothing a
student wrote.

Both students of a room use one server, so one origin: script one of them gets into the page
would run with the other's session on that server. The policy, installed by the server
extension on pair servers only (docs/explanation/security.md, "The room page"):

- a ``Content-Security-Policy`` on every response, added to jupyter_server's own: scripts only
  from the server's static bundle and its installed lab extensions (paths, not the whole
  origin: ``/files/`` serves whatever the room wrote), no inline script, no event handler
  attributes, no ``javascript:`` URLs, no plugins, no ``<base>`` elsewhere. ``eval`` stays
  allowed (JupyterLab compiles its settings schemas with it);
- the page config without the visitor's hub token (JupyterHub puts it there for JupyterLab's
  API calls; JupyterLab falls back to the session cookie and ``_xsrf``), and with the lab
  plugins that would evaluate what an output holds disabled (the ``application/javascript``
  renderer, Vega's expression compiler).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.web import OutputTransform

PageConfigHook = Callable[[Any, dict[str, Any]], dict[str, Any]]


class RoomPagePolicy:
    """The policy of one pair server (its base URL, the script paths and plugins it allows)."""

    def __init__(
        self,
        base_url: str,
        script_paths: Iterable[str],
        disabled_extensions: Iterable[str],
        extra_directives: str = "",
    ) -> None:
        self.base_url = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
        self.script_paths = [p.lstrip("/") for p in script_paths]
        self.disabled_extensions = list(disabled_extensions)
        self.extra_directives = extra_directives

    def content_security_policy(self, request: HTTPServerRequest) -> str:
        # Path-restricted sources need the origin: the one the browser asked for.
        origin = f"{request.protocol}://{request.host}"
        sources = " ".join(f"{origin}{self.base_url}{path}" for path in self.script_paths)
        directives = [
            # JupyterLab compiles its settings schemas with new Function (ajv): it needs eval.
            # So the plugins that would eval what an output holds are disabled on the page.
            f"script-src {sources} 'unsafe-eval'",
            "object-src 'none'",
            "base-uri 'self'",
        ]
        if self.extra_directives:
            directives.append(self.extra_directives)
        return "; ".join(directives)

    def page_config(self, page_config: dict[str, Any]) -> dict[str, Any]:
        page_config["token"] = ""
        disabled = page_config.get("disabledExtensions") or []
        if isinstance(disabled, dict):
            disabled = [name for name, off in disabled.items() if off]
        page_config["disabledExtensions"] = sorted({*disabled, *self.disabled_extensions})
        return page_config

    def wrap_hook(self, hook: PageConfigHook | None) -> PageConfigHook:
        if getattr(hook, "peerprep_room_policy", None) is self:
            return hook  # type: ignore[return-value]

        def room_page_config(handler: Any, page_config: dict[str, Any]) -> dict[str, Any]:
            if hook is not None:
                page_config = hook(handler, page_config)
            return self.page_config(page_config)

        room_page_config.peerprep_room_policy = self  # type: ignore[attr-defined]
        return room_page_config


class RoomPageTransform(OutputTransform):
    """Adds the room's policy to every response: a second ``Content-Security-Policy`` header,
    enforced together with jupyter_server's (frame-ancestors, the sandbox of ``/files/``)."""

    def __init__(self, request: HTTPServerRequest, policy: RoomPagePolicy) -> None:
        super().__init__(request)
        self.request = request
        self.policy = policy

    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        headers.add("Content-Security-Policy", self.policy.content_security_policy(self.request))
        return status_code, headers, chunk


def install(serverapp: Any, policy: RoomPagePolicy) -> None:
    """Apply ``policy`` to ``serverapp``'s responses and JupyterLab page config.

    JupyterHub's single-user extension sets the page-config hook to its identity provider's
    ``page_config_hook``, possibly after this runs: wrap both the hook in place now and the
    identity provider's method, so the policy holds whichever comes last.
    """
    web_app = serverapp.web_app
    web_app.transforms.append(functools.partial(RoomPageTransform, policy=policy))
    web_app.settings["page_config_hook"] = policy.wrap_hook(
        web_app.settings.get("page_config_hook")
    )
    provider = serverapp.identity_provider
    hook = getattr(provider, "page_config_hook", None)
    if hook is not None:
        provider.page_config_hook = policy.wrap_hook(hook)
