"""An LMS as far as an LTI 1.3 launch goes, run by a test on localhost.

``TestPlatform`` holds an RSA key generated in the test, serves its public half as a JWKS on
127.0.0.1, and signs id_tokens with it, so a real hub configured with
``PEERPREP_AUTH=lti13`` verifies launches exactly as it would a real Canvas or Moodle's.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .localhttp import JSONRequestHandler, LocalHTTPServer

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class LaunchStart:
    """What the hub answered to a login initiation: where to post the id_token, and with what."""

    redirect_uri: str
    state: str
    nonce: str


class TestPlatform(LocalHTTPServer):
    """A test's LTI 1.3 platform: key, JWKS endpoint, signed launches."""

    __test__ = False  # not a pytest test class

    def __init__(self, issuer: str = "https://lms.example.edu", client_id: str = "peerprep-tool"):
        self.issuer = issuer
        self.client_id = client_id
        self.deployment_id = "1:deployment"
        self.key = new_rsa_key()
        self.kid = uuid.uuid4().hex
        # While set, the JWKS endpoint answers only once this event is set (a slow LMS).
        self.hold_jwks: threading.Event | None = None
        self.jwks_requested = threading.Event()

    # -- the JWKS endpoint -------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [public]}

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(JSONRequestHandler):
            def do_GET(self) -> None:
                platform.jwks_requested.set()
                if platform.hold_jwks is not None:
                    platform.hold_jwks.wait(120)
                self.answer(200, platform.jwks())

        return Handler

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks.json"

    @property
    def authorize_url(self) -> str:
        # The hub redirects the browser here; the test reads the redirect instead of following.
        return f"{self.issuer}/api/lti/authorize_redirect"

    def hub_env(self) -> dict[str, str]:
        """The environment that configures a hub for this platform."""
        return {
            "PEERPREP_AUTH": "lti13",
            "PEERPREP_LTI_ISSUER": self.issuer,
            "PEERPREP_LTI_CLIENT_ID": self.client_id,
            "PEERPREP_LTI_AUTHORIZE_URL": self.authorize_url,
            "PEERPREP_LTI_JWKS_URL": self.jwks_url,
        }

    # -- a launch ----------------------------------------------------------------------------

    def begin(self, session: requests.Session, hub_url: str) -> LaunchStart:
        """Step 1, the platform's login initiation: the hub sets its state and nonce cookies
        and redirects to the platform's authorization endpoint."""
        response = session.get(
            f"{hub_url}/hub/lti13/oauth_login",
            params={
                "iss": self.issuer,
                "login_hint": "hint",
                "target_link_uri": f"{hub_url}/hub/",
                "client_id": self.client_id,
                "lti_deployment_id": self.deployment_id,
            },
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise AssertionError(f"login initiation: {response.status_code} {response.text[:300]}")
        query = parse_qs(urlparse(response.headers["Location"]).query)
        return LaunchStart(query["redirect_uri"][0], query["state"][0], query["nonce"][0])

    def id_token(
        self,
        nonce: str,
        *,
        email: str,
        name: str,
        roles: list[str],
        context_id: str = "cs101-2026",
        key: rsa.RSAPrivateKey | None = None,
        audience: str | None = None,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": audience or self.client_id,
            "sub": uuid.uuid4().hex,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": email,
            "name": name,
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": self.deployment_id,
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": "https://hub/",
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "peerprep-link"},
            "https://purl.imsglobal.org/spec/lti/claim/roles": roles,
            "https://purl.imsglobal.org/spec/lti/claim/context": {
                "id": context_id,
                "label": "CS101",
                "title": "Programming 1",
            },
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def launch(
        self, session: requests.Session, hub_url: str, **claims: Any
    ) -> tuple[requests.Response, dict[str, str]]:
        """A whole launch; the hub's answer to the id_token post and the form that was posted."""
        start = self.begin(session, hub_url)
        form = {"id_token": self.id_token(start.nonce, **claims), "state": start.state}
        return session.post(start.redirect_uri, data=form, allow_redirects=False), form
