"""Single sign-on with OpenID Connect, against a real hub started with PEERPREP_AUTH=oidc and a
fake identity provider run by the test on 127.0.0.1 (jupyter_peerprep.testing.oidc)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.oidc import FakeIdentityProvider

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeIdentityProvider]:
    provider = FakeIdentityProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def oidc_hub(make_hub: Any, idp: FakeIdentityProvider) -> Any:
    return make_hub(extra_env=idp.hub_env())


def service(session: requests.Session, hub: Any, user: HubUser, path: str) -> Any:
    response = session.get(
        f"{hub.url}/services/peerprep/api/{path}",
        headers={"Authorization": f"token {user.token()}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("name", "groups", "instructor"),
    [("lin", ["students"], False), ("prof-kim", ["staff", "instructors"], True)],
)
def test_sign_on_sets_role_name_and_email(oidc_hub, idp, name, groups, instructor):
    session = requests.Session()
    response = idp.log_in(
        session,
        oidc_hub.url,
        preferred_username=name,
        name=f"{name.title()} Example",
        email=f"{name}@uni.example",
        groups=groups,
    )
    assert response.status_code == 302, response.text[:500]
    user = HubUser(oidc_hub.url, name, session=session)
    model = user.hub_api("GET", f"users/{name}").json()
    assert ("instructors" in model["groups"]) is instructor
    assert service(session, oidc_hub, user, "me")["is_instructor"] is instructor
    profile = service(session, oidc_hub, user, "profile")
    assert profile["display_name"] == f"{name.title()} Example"
    assert profile["email"] == f"{name}@uni.example"


def test_code_not_issued_by_the_provider_is_refused(oidc_hub, idp):
    session = requests.Session()
    start = session.get(f"{oidc_hub.url}/hub/oauth_login", allow_redirects=False)
    state = start.headers["Location"].split("state=")[1].split("&")[0]
    response = session.get(
        f"{oidc_hub.url}/hub/oauth_callback",
        params={"code": "made-up", "state": state},
        allow_redirects=False,
    )
    assert response.status_code >= 400
    assert session.get(f"{oidc_hub.url}/hub/api/user", timeout=10).status_code == 403
