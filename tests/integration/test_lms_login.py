"""Log-in through an LMS with LTI 1.3, against a real hub started with PEERPREP_AUTH=lti13.

The platform is the test's own (jupyter_peerprep.testing.lti.TestPlatform): an RSA key generated
here, its JWKS served on 127.0.0.1, id_tokens signed with it. A student and an instructor log
in; a token signed with another key, one for another tool (audience) and a replayed launch are
refused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.lti import (
    INSTRUCTOR,
    LEARNER,
    TEACHING_ASSISTANT,
    TestPlatform,
    new_rsa_key,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def platform() -> Iterator[TestPlatform]:
    platform = TestPlatform()
    platform.start()
    yield platform
    platform.stop()


@pytest.fixture(scope="module")
def lti_hub(make_hub: Any, platform: TestPlatform) -> Any:
    return make_hub(extra_env=platform.hub_env())


def logged_in_user(lti_hub: Any, session: requests.Session, name: str) -> HubUser:
    user = HubUser(lti_hub.url, name, session=session)
    model = user.hub_api("GET", f"users/{quote(name)}")
    assert model.status_code == 200, f"{name} is not logged in: {model.status_code}"
    return user


def test_student_launch_logs_in_with_name_and_email(lti_hub, platform):
    session = requests.Session()
    response, _ = platform.launch(
        session, lti_hub.url, email="ada@uni.example", name="Ada Lovelace", roles=[LEARNER]
    )
    assert response.status_code == 302, response.text[:500]
    ada = logged_in_user(lti_hub, session, "ada@uni.example")
    model = ada.hub_api("GET", "users/ada@uni.example").json()
    assert sorted(model["groups"]) == ["course-cs101-2026"]
    # The PeerPrep service sees the student, not an instructor, with the LMS's name and email.
    headers = {"Authorization": f"token {ada.token()}"}
    me = session.get(f"{lti_hub.url}/services/peerprep/api/me", headers=headers, timeout=30)
    assert me.status_code == 200, me.text
    assert me.json()["is_instructor"] is False
    profile = session.get(
        f"{lti_hub.url}/services/peerprep/api/profile", headers=headers, timeout=30
    ).json()
    assert profile["display_name"] == "Ada Lovelace"
    assert profile["email"] == "ada@uni.example"


def test_courses_add_up_and_the_role_is_per_launch(lti_hub, platform):
    """A TA in one course who is a student in another: both courses' groups; instructor rights
    only while the last launch said so."""
    session = requests.Session()
    name = "sam@uni.example"
    first, _ = platform.launch(
        session, lti_hub.url, email=name, name="Sam", roles=[TEACHING_ASSISTANT], context_id="a1"
    )
    assert first.status_code == 302, first.text[:300]
    second, _ = platform.launch(
        session, lti_hub.url, email=name, name="Sam", roles=[LEARNER], context_id="b2"
    )
    assert second.status_code == 302, second.text[:300]
    sam = logged_in_user(lti_hub, session, name)
    assert sorted(sam.hub_api("GET", f"users/{name}").json()["groups"]) == [
        "course-a1",
        "course-b2",
    ]


@pytest.mark.parametrize("role", [INSTRUCTOR, TEACHING_ASSISTANT])
def test_instructor_and_ta_launch_joins_instructors(lti_hub, platform, role):
    name = "grace@uni.example" if role == INSTRUCTOR else "ta@uni.example"
    session = requests.Session()
    response, _ = platform.launch(
        session, lti_hub.url, email=name, name="Grace Hopper", roles=[role, LEARNER]
    )
    assert response.status_code == 302, response.text[:500]
    teacher = logged_in_user(lti_hub, session, name)
    assert "instructors" in teacher.hub_api("GET", f"users/{quote(name)}").json()["groups"]
    me = session.get(
        f"{lti_hub.url}/services/peerprep/api/me",
        headers={"Authorization": f"token {teacher.token()}"},
        timeout=30,
    ).json()
    assert me["is_instructor"] is True


def refused(response: requests.Response, lti_hub: Any, session: requests.Session, name: str):
    assert response.status_code in (400, 401, 403), response.status_code
    user = HubUser(lti_hub.url, name, session=session)
    assert user.hub_api("GET", f"users/{quote(name)}").status_code == 403


def test_token_signed_with_another_key_is_refused(lti_hub, platform):
    session = requests.Session()
    start = platform.begin(session, lti_hub.url)
    forged = platform.id_token(
        start.nonce, email="mallory@uni.example", name="M", roles=[INSTRUCTOR], key=new_rsa_key()
    )
    response = session.post(start.redirect_uri, data={"id_token": forged, "state": start.state})
    refused(response, lti_hub, session, "mallory@uni.example")


def test_token_for_another_tool_is_refused(lti_hub, platform):
    session = requests.Session()
    start = platform.begin(session, lti_hub.url)
    other = platform.id_token(
        start.nonce, email="eve@uni.example", name="E", roles=[LEARNER], audience="another-tool"
    )
    response = session.post(start.redirect_uri, data={"id_token": other, "state": start.state})
    refused(response, lti_hub, session, "eve@uni.example")


def test_replayed_launch_is_refused(lti_hub, platform):
    """A launch captured whole (its form and the browser's cookies) and posted again later."""
    victim = requests.Session()
    start = platform.begin(victim, lti_hub.url)
    captured_cookies = victim.cookies.copy()
    form = {
        "id_token": platform.id_token(
            start.nonce, email="bob@uni.example", name="Bob", roles=[INSTRUCTOR]
        ),
        "state": start.state,
    }
    first = victim.post(start.redirect_uri, data=form, allow_redirects=False)
    assert first.status_code == 302, first.text[:500]

    attacker = requests.Session()
    attacker.cookies.update(captured_cookies)
    replay = attacker.post(start.redirect_uri, data=form, allow_redirects=False)
    assert replay.status_code == 400, replay.status_code
    assert "already used" in replay.text
    user = HubUser(lti_hub.url, "bob@uni.example", session=attacker)
    assert user.hub_api("GET", "users/bob@uni.example").status_code == 403


def test_a_slow_lms_key_set_does_not_stall_the_hub(lti_hub, platform):
    """While the hub fetches the platform's JWKS for a launch, it keeps serving everyone else.

    The key set answers only after the hub has answered another request: a hub that fetched
    the key set on its event loop could not answer, and the health request would time out."""
    release = threading.Event()
    platform.hold_jwks = release
    platform.jwks_requested.clear()
    results: list[requests.Response] = []
    session = requests.Session()
    start = platform.begin(session, lti_hub.url)
    form = {
        "id_token": platform.id_token(
            start.nonce, email="slow@uni.example", name="S", roles=[LEARNER]
        ),
        "state": start.state,
    }
    launch = threading.Thread(
        target=lambda: results.append(
            session.post(start.redirect_uri, data=form, allow_redirects=False, timeout=180)
        )
    )
    launch.start()
    try:
        assert platform.jwks_requested.wait(60), "the hub never asked for the key set"
        health = requests.get(f"{lti_hub.url}/hub/api/", timeout=30)
        assert health.status_code == 200
        assert results == [], "the launch should still be waiting for the key set"
    finally:
        release.set()
        platform.hold_jwks = None
        launch.join(180)
    assert results and results[0].status_code == 302
