"""Profiles: GET/PUT of one's own profile, validation, identity from the hub only, the rating
earned from submits, and the admin listing."""

from __future__ import annotations

import json
from datetime import timedelta

from matching_support import add_question
from sqlalchemy import select

from jupyter_peerprep import db
from jupyter_peerprep.db.models import Profile, Room, RoomMember, Run, utcnow


async def put(client, user, body):
    response = await client.fetch("api/profile", user=user, method="PUT", body=body)
    return response.code, json.loads(response.body)


async def test_new_profile_has_defaults_and_put_updates_it(make_service):
    _, client = await make_service()
    alice = await client.json("api/profile", user="alice")
    assert alice["name"] == "alice"
    assert alice["display_name"] == "alice"
    assert alice["proficiency"] == "beginner"
    assert alice["language"] == "python"
    assert alice["topics"] == [] and alice["rating"] == 1000.0
    code, updated = await put(
        client,
        "alice",
        {
            "display_name": "  Alice   Liddell ",
            "proficiency": "advanced",
            "topics": ["graphs", "arrays", "graphs"],
        },
    )
    assert code == 200
    assert updated["display_name"] == "Alice Liddell"
    assert updated["proficiency"] == "advanced"
    assert updated["topics"] == ["arrays", "graphs"]
    again = await client.json("api/profile", user="alice")
    assert again["display_name"] == "Alice Liddell" and again["topics"] == ["arrays", "graphs"]
    # Partial update keeps the rest.
    code, partial = await put(client, "alice", {"proficiency": "intermediate"})
    assert code == 200 and partial["display_name"] == "Alice Liddell"


async def test_bad_profile_updates_are_clear_400s_and_change_nothing(make_service):
    service, client = await make_service()
    await put(client, "alice", {"display_name": "Alice"})
    cases = [
        ({"proficiency": "wizard"}, "Unknown proficiency 'wizard'"),
        ({"language": "cobol"}, "Unsupported language 'cobol'"),
        ({"topics": ["cooking"]}, "Unknown topic(s) 'cooking'"),
        ({"topics": "arrays"}, "topics must be a list"),
        ({"display_name": 42}, "display_name must be a string"),
        ({"display_name": "x" * 101}, "at most 100 characters"),
        ({"rating": 3000}, "rating is earned from submitted attempts"),
        ({"username": "mallory"}, "comes from your hub log-in"),
        ({"name": "mallory"}, "comes from your hub log-in"),
        ({"favourite_colour": "blue"}, "Unknown field(s) favourite_colour"),
        # A valid field next to a bad one: nothing of it is stored.
        ({"display_name": "Changed", "proficiency": "wizard"}, "Unknown proficiency"),
    ]
    for body, expected in cases:
        code, answer = await put(client, "alice", body)
        assert code == 400, body
        assert answer["status"] == 400 and expected in answer["message"], (body, answer)
    for raw in ("{nope", "[1, 2]", ""):
        response = await client.fetch("api/profile", user="alice", method="PUT", raw_body=raw)
        assert response.code == 400
    with service.session_factory() as s:
        profile = s.get(Profile, "alice")
        assert profile is not None and profile.display_name == "Alice"
        assert profile.proficiency == "beginner"
        assert s.get(Profile, "mallory") is None
    response = await client.fetch("api/profile", user=None)
    assert response.code == 403


async def test_rating_follows_submitted_attempts(make_service):
    service, client = await make_service()
    now = utcnow()
    add_question(service.session_factory, "q-hard", "Hard One", "hard", ["graphs"])
    add_question(service.session_factory, "q-easy", "Easy One", "easy", ["arrays"])
    with db.transaction(service.session_factory) as s:
        for i, (qid, difficulty, verdicts) in enumerate(
            [("q-hard", "hard", ["failed", "passed"]), ("q-easy", "easy", ["failed"])]
        ):
            room = Room(
                id=f"{i:032d}",
                pair_user=f"pair-{i:012d}",
                question_id=qid,
                question_version=1,
                difficulty=difficulty,
                state="ended",
                created=now,
            )
            s.add(room)
            s.flush()
            s.add(RoomMember(room_id=room.id, username="alice", active=False))
            for j, verdict in enumerate(verdicts):
                s.add(
                    Run(
                        room_id=room.id,
                        username="alice",
                        kind="submit",
                        source="",
                        verdict=verdict,
                        created=now + timedelta(seconds=10 * i + j),
                    )
                )
    alice = await client.json("api/profile", user="alice")
    # Won against a hard question (+ about 27), lost against an easy one (- about 20).
    assert 1000 < alice["rating"] < 1030
    code, _ = await put(client, "alice", {"rating": alice["rating"]})
    assert code == 200, "sending the rating back unchanged is harmless"
    bob = await client.json("api/profile", user="bob")
    assert bob["rating"] == 1000.0


async def test_only_admins_list_profiles(make_service, fake_hub):
    fake_hub.admins.add("root")
    service, client = await make_service()
    await client.json("api/profile", user="alice")
    await put(client, "bob", {"display_name": "Bob"})
    response = await client.fetch("api/profiles", user="alice")
    assert response.code == 403
    assert "admins" in json.loads(response.body)["message"]
    listing = await client.json("api/profiles", user="root")
    names = [p["name"] for p in listing["profiles"]]
    assert names == ["alice", "bob"]
    with service.session_factory() as s:
        assert len(s.scalars(select(Profile)).all()) == 2
