"""The service application: start-up, configuration errors, health and identity."""

from __future__ import annotations

import json

import pytest
from traitlets import TraitError
from traitlets.config import Config

from jupyter_peerprep import db
from jupyter_peerprep.hub.app import PeerPrepService


async def test_health_reports_ok_and_backend(make_service):
    _, client = await make_service()
    response = await client.fetch("api/health", user=None)
    assert response.code == 200
    body = json.loads(response.body)
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}


async def test_me_without_login_is_403_json(make_service):
    _, client = await make_service()
    response = await client.fetch("api/me", user=None)
    assert response.code == 403
    body = json.loads(response.body)
    assert body["status"] == 403
    assert "Not authenticated" in body["message"]
    assert "Traceback" not in response.body.decode()


async def test_me_names_user_and_roles(make_service, fake_hub):
    fake_hub.groups["ines"] = ["instructors"]
    fake_hub.admins.add("root")
    _, client = await make_service()
    alice = await client.json("api/me", user="alice")
    assert alice["name"] == "alice"
    assert alice["roles"] == ["user"]
    ines = await client.json("api/me", user="ines")
    assert ines["is_instructor"] is True and ines["groups"] == ["instructors"]
    root = await client.json("api/me", user="root")
    assert root["is_admin"] is True


async def test_acting_user_header_is_ignored(make_service):
    """A request acts for its token's owner; X-PeerPrep-User (the old relay's header) names
    nobody."""
    _, client = await make_service()
    response = await client.fetch("api/me", user="mallory", headers={"X-PeerPrep-User": "alice"})
    assert response.code == 200
    assert json.loads(response.body)["name"] == "mallory"


async def test_pair_user_token_acts_for_no_student(make_service):
    _, client = await make_service()
    for headers in ({}, {"X-PeerPrep-User": "alice"}):
        response = await client.fetch("api/me", user="pair-0123456789ab", headers=headers)
        assert response.code == 403
        message = json.loads(response.body)["message"]
        assert "pair user 'pair-0123456789ab'" in message and "own hub login" in message


def test_unknown_setting_fails_naming_it(tmp_path):
    config = Config()
    config.PeerPrepService.db_url = f"sqlite:///{tmp_path}/x.sqlite"
    config.PeerPrepService.config_file = ""
    config.PeerPrepService.matchign_timeout = 5
    service = PeerPrepService(config=config)
    with pytest.raises(SystemExit):
        service.initialize([])


def test_check_unknown_config_message(tmp_path):
    config = Config()
    config.PeerPrepService.instructor_grup = "x"
    service = PeerPrepService(config=config)
    with pytest.raises(TraitError, match=r"PeerPrepService.instructor_grup.*accepts:.*db_url"):
        service.check_unknown_config()


def test_bad_db_scheme_names_trait():
    with pytest.raises(TraitError, match=r"PeerPrepService.db_url must be a sqlite"):
        PeerPrepService(db_url="mysql://u:secret@h/db")


def test_unreachable_database_fails_fast_with_masked_url():
    url = "postgresql+psycopg://peerprep:hunter2@127.0.0.1:1/peerprep"
    with pytest.raises(db.DatabaseError) as info:
        db.make_engine(url, connect_timeout=2)
    message = str(info.value)
    assert "127.0.0.1:1" in message
    assert "hunter2" not in message and "***" in message
