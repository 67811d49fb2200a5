"""GET api/vocabulary: the fixed words the lab extension reads once (lobby, profile, room)."""

from __future__ import annotations

import json

from jupyter_peerprep.questions.vocabulary import DIFFICULTIES, LANGUAGES, TOPICS


async def test_vocabulary_gives_the_lobby_choices_and_the_terminal_states(make_service):
    _service, client = await make_service()
    answer = await client.json("api/vocabulary", user="alice")
    assert answer["difficulties"] == list(DIFFICULTIES)
    assert answer["topics"] == list(TOPICS)
    assert answer["languages"] == list(LANGUAGES)
    assert answer["proficiencies"] == ["beginner", "intermediate", "advanced"]
    assert sorted(answer["ticket_states"]["terminal"]) == ["cancelled", "matched", "timed_out"]
    assert "relaxed" in answer["ticket_states"]["all"]
    assert sorted(answer["room_states"]["terminal"]) == ["ended", "failed"]
    assert "ending" in answer["room_states"]["over"]
    assert answer["run_kinds"] == ["run", "submit"]


async def test_vocabulary_needs_a_hub_identity(make_service):
    _service, client = await make_service()
    response = await client.fetch("api/vocabulary", user=None)
    assert response.code == 403
    assert json.loads(response.body)["status"] == 403
