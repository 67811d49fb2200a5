"""The embedded-default hub, for real: sign-up and log-in through the hub's forms, a spawned
JupyterLab with the PeerPrep extension, the service reached through the relay, and real-time
collaboration through the Node proxy."""

from __future__ import annotations

import asyncio

import pytest
import requests

from jupyter_peerprep.testing.ydoc import YClient

pytestmark = pytest.mark.slow


def test_signup_login_and_me_through_relay(hub_user):
    alice = hub_user("alice")
    alice.start_server()
    response = alice.peerprep("GET", "me")
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["name"] == alice.name
    assert me["roles"] == ["user"] and me["is_instructor"] is False


def test_lab_page_loads_peerprep_extension(hub_user):
    bob = hub_user("bob")
    bob.start_server()
    lab = bob.server("GET", "lab")
    assert lab.status_code == 200
    assert "jupyter-peerprep" in lab.text  # the federated extension is listed in page config


def test_unauthenticated_calls_are_refused_with_json(peerprep_hub):
    response = requests.get(f"{peerprep_hub.url}/services/peerprep/api/me", timeout=10)
    assert response.status_code == 403
    body = response.json()
    assert body["status"] == 403 and "Not authenticated" in body["message"]
    health = requests.get(f"{peerprep_hub.url}/services/peerprep/api/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_relay_refuses_a_user_without_access(hub_user):
    """Carol's token gets nothing from Dave's server (403 from the hub's auth)."""
    carol = hub_user("carol")
    dave = hub_user("dave")
    dave.start_server()
    response = carol.server("GET", "peerprep/api/me", owner=dave.name)
    assert response.status_code == 403


def test_admin_is_instructor(make_hub):
    """The documented first account: signing up as 'admin' makes you admin and instructor."""
    from jupyter_peerprep.testing.hubclient import HubUser

    hub = make_hub()
    admin = HubUser(hub.url, "admin")
    admin.signup()
    admin.login()
    admin.start_server()
    me = admin.peerprep("GET", "me").json()
    assert me["is_admin"] is True and me["is_instructor"] is True
    assert "instructors" in me["groups"]


async def test_two_yjs_clients_see_each_others_edits_through_proxy(hub_user):
    erin = hub_user("erin")
    await asyncio.to_thread(erin.start_server)
    token = await asyncio.to_thread(erin.token)
    nb = {
        "type": "notebook",
        "content": {
            "cells": [
                {
                    "cell_type": "code",
                    "source": "x = 1",
                    "metadata": {},
                    "outputs": [],
                    "execution_count": None,
                }
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
    }
    created = await asyncio.to_thread(erin.server, "PUT", "api/contents/shared.ipynb", json=nb)
    assert created.status_code in (200, 201), created.text

    async with (
        YClient.connect(erin.server_url, "shared.ipynb", token) as one,
        YClient.connect(erin.server_url, "shared.ipynb", token) as two,
    ):
        assert one.cell_sources() == ["x = 1"] == two.cell_sources()
        one.append_to_cell(0, "\ny = 2")
        await two.wait_for(lambda c: c.cell_sources() == ["x = 1\ny = 2"])
        two.append_to_cell(0, "\nz = 3")
        await one.wait_for(lambda c: c.cell_sources() == ["x = 1\ny = 2\nz = 3"])


def test_hub_home_sends_students_to_their_lobby(hub_user):
    """A student who opens the hub's home page is sent on to their JupyterLab (the lobby)."""
    fay = hub_user("fay")
    page = fay.session.get(f"{fay.hub_url}/hub/home")
    assert page.status_code == 200
    assert "PeerPrep" in page.text and "peerprep-open-lobby" in page.text
    assert "window.location.replace" in page.text
    # To the server, or (not running yet) to the spawn page that starts it and then goes there.
    assert f"/user/{fay.name}/" in page.text or f"/hub/spawn/{fay.name}" in page.text
