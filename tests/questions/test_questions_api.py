"""The question API on a real service: roles, versions, failed uploads, the student view."""

from __future__ import annotations

import json

import pytest
from question_notebooks import SOLUTION, build_notebook

pytestmark = pytest.mark.slow


@pytest.fixture
async def api(make_service, fake_hub):
    fake_hub.groups["ines"] = ["instructors"]
    service, client = await make_service()
    return service, client


async def upload(client, nb, *, user="ines", method="POST", path="api/questions", **kw):
    response = await client.fetch(path, user=user, method=method, raw_body=json.dumps(nb), **kw)
    return response.code, json.loads(response.body)


async def test_instructor_publishes_student_sees_it(api):
    _, client = api
    code, body = await upload(client, build_notebook())
    assert code == 201, body
    assert body["id"] == "pair-sum-demo" and body["version"] == 1 and body["action"] == "created"

    listing = await client.json("api/questions", user="alice")
    assert [q["id"] for q in listing["questions"]] == ["pair-sum-demo"]
    assert listing["counts"]["difficulty"] == {"easy": 1, "medium": 0, "hard": 0}
    assert listing["counts"]["topic"]["hash-maps"] == 1
    assert listing["counts"]["topic"]["graphs"] == 0

    view = await client.json("api/questions/pair-sum-demo", user="alice")
    assert view["starter"].startswith("def pair_sum")
    assert [c["name"] for c in view["public_tests"]] == ["example", "first two", "negatives"]
    assert view["hidden_test_count"] == 4
    text = json.dumps(view)
    assert "seen_positions" not in text and "7391" not in text and "solution" not in view

    nb = await client.json("api/questions/pair-sum-demo/student-notebook", user="alice")
    assert nb["nbformat"] == 4
    assert [c["metadata"]["tags"] for c in nb["cells"]] == [
        ["prompt"],
        ["starter"],
        ["public-tests"],
    ]
    assert "seen_positions" not in json.dumps(nb) and "7391" not in json.dumps(nb)
    # A Python-only question: asking it in JavaScript is a 400 naming the languages it has.
    for path in ("api/questions/pair-sum-demo", "api/questions/pair-sum-demo/student-notebook"):
        response = await client.fetch(f"{path}?language=javascript", user="alice")
        assert response.code == 400
        message = json.loads(response.body)["message"]
        assert "must be one of python (the languages" in message and "'javascript'" in message


async def test_republishing_same_notebook_is_a_no_op(api):
    _, client = api
    assert (await upload(client, build_notebook()))[0] == 201
    nb = build_notebook()
    nb["cells"][0]["source"] = "Edited instructor notes: not part of the question."
    code, body = await upload(client, nb)
    assert code == 200 and body["action"] == "unchanged" and body["version"] == 1


async def test_replace_adds_version_and_failed_replace_keeps_it(api):
    _, client = api
    await upload(client, build_notebook())
    first = await client.json("api/questions/pair-sum-demo", user="alice")
    assert first["version"] == 1
    changed = build_notebook({"title": "Pair Sum, revised"})
    code, body = await upload(client, changed, method="PUT", path="api/questions/pair-sum-demo")
    assert code == 201 and body["version"] == 2 and body["action"] == "updated"

    broken = build_notebook(
        {"title": "Pair Sum, broken"},
        solution=SOLUTION.replace("[seen_positions[target - value], index]", "[0, index]"),
    )
    code, body = await upload(client, broken, method="PUT", path="api/questions/pair-sum-demo")
    assert code == 400
    assert body["status"] == 400
    assert "reference solution fails its own test" in body["message"]
    assert any(p["field"].startswith("public-tests[") for p in body["problems"])

    full = await client.json("api/questions/pair-sum-demo?view=full", user="ines")
    assert full["version"] == 2 and full["versions"] == [1, 2]
    assert full["spec"]["title"] == "Pair Sum, revised"
    # The large generated case was resolved at publish time: literal args and expected.
    large = full["spec"]["hidden_tests"][-1]
    assert large["name"] == "large" and len(large["args"][0]) == 50000
    assert large["expected"] == [49998, 49999]
    # Students see the new version at once (views are cached per version, never stale).
    current = await client.json("api/questions/pair-sum-demo", user="alice")
    assert current["title"] == "Pair Sum, revised" and current["version"] == 2
    # Version 1 is still there for the rooms that used it.
    old = await client.json("api/questions/pair-sum-demo?version=1", user="alice")
    assert old["title"] == "Pair Sum (demo)" and old["version"] == 1


async def test_students_cannot_upload_replace_retire_or_read_full_view(api):
    _, client = api
    await upload(client, build_notebook())
    attempts = [
        ("POST", "api/questions", build_notebook({"title": "Hijacked"})),
        ("PUT", "api/questions/pair-sum-demo", build_notebook({"title": "Hijacked"})),
        ("DELETE", "api/questions/pair-sum-demo", None),
        ("POST", "api/questions/pair-sum-demo/retire", None),
        ("GET", "api/questions/pair-sum-demo?view=full", None),
        ("GET", "api/questions?include_retired=1", None),
    ]
    for method, path, nb in attempts:
        response = await client.fetch(
            path, user="alice", method=method, raw_body=json.dumps(nb) if nb else None
        )
        assert response.code == 403, (method, path)
        body = json.loads(response.body)
        assert body["status"] == 403 and "instructors" in body["message"]
        assert "seen_positions" not in response.body.decode()
    view = await client.json("api/questions/pair-sum-demo", user="alice")
    assert view["title"] == "Pair Sum (demo)" and view["retired"] is False


async def test_retire_hides_from_list_but_keeps_versions(api):
    _, client = api
    await upload(client, build_notebook())
    response = await client.fetch("api/questions/pair-sum-demo", user="ines", method="DELETE")
    assert response.code == 200 and json.loads(response.body)["retired"] is True
    listing = await client.json("api/questions", user="alice")
    assert listing["questions"] == [] and listing["counts"]["total"] == 0
    everything = await client.json("api/questions?include_retired=1", user="ines")
    assert everything["questions"][0]["retired"] is True
    # Publishing the same notebook again brings it back, without a new version.
    code, body = await upload(client, build_notebook())
    assert code == 200 and body["action"] == "unchanged" and body["retired"] is False


async def test_bad_uploads_are_400_with_precise_messages(api):
    _, client = api
    response = await client.fetch(
        "api/questions?filename=broken.ipynb", user="ines", method="POST", raw_body='{"cells": ['
    )
    body = json.loads(response.body)
    assert response.code == 400
    assert "broken.ipynb" in body["message"] and "line 1, column" in body["message"]

    nb = build_notebook({"difficulty": "tricky"})
    code, body = await upload(client, nb)
    assert code == 400
    assert body["problems"][0]["field"] == "peerprep.difficulty"
    assert "'tricky'" in body["message"]

    code, body = await upload(client, build_notebook(), method="PUT", path="api/questions/other")
    assert code == 400 and "'pair-sum-demo'" in body["message"]

    code, body = await upload(
        client, build_notebook(), method="PUT", path="api/questions/pair-sum-demo"
    )
    assert code == 404 and "upload it first" in body["message"]

    listing = await client.json("api/questions", user="alice")
    assert listing["total"] == 0


async def test_create_over_existing_question_is_409(api):
    _, client = api
    await upload(client, build_notebook())
    code, body = await upload(client, build_notebook({"title": "Other"}))
    assert code == 409 and "PUT" in body["message"]


async def test_dry_run_validates_without_publishing(api):
    _, client = api
    nb = build_notebook(starter=SOLUTION.replace("seen_positions", "seen"))
    code, body = await upload(client, nb, path="api/questions?dry_run=1")
    assert code == 200 and body["ok"] is False
    assert any("starter passes every hidden test" in p["message"] for p in body["problems"])
    code, body = await upload(client, build_notebook(), path="api/questions?dry_run=1")
    assert code == 200 and body["ok"] is True and body["hidden"] == 4
    assert (await client.json("api/questions", user="alice"))["total"] == 0


async def test_list_filters_and_paging(api):
    _, client = api
    for i, (difficulty, topics) in enumerate(
        [("easy", ["arrays"]), ("medium", ["strings"]), ("medium", ["arrays", "sorting"])]
    ):
        nb = build_notebook(
            {
                "id": f"demo-{i}",
                "title": f"Demo {i} words",
                "difficulty": difficulty,
                "topics": topics,
            }
        )
        assert (await upload(client, nb))[0] == 201
    medium = await client.json("api/questions?difficulty=medium", user="alice")
    assert [q["id"] for q in medium["questions"]] == ["demo-1", "demo-2"]
    arrays = await client.json("api/questions?topic=arrays", user="alice")
    assert [q["id"] for q in arrays["questions"]] == ["demo-0", "demo-2"]
    found = await client.json("api/questions?q=DEMO%201", user="alice")
    assert [q["id"] for q in found["questions"]] == ["demo-1"]
    page = await client.json("api/questions?offset=1&limit=1", user="alice")
    assert page["total"] == 3 and [q["id"] for q in page["questions"]] == ["demo-1"]
    assert page["counts"]["difficulty"] == {"easy": 1, "medium": 2, "hard": 0}
    bad = await client.fetch("api/questions?topic=cooking", user="alice")
    assert bad.code == 400 and "cooking" in json.loads(bad.body)["message"]
    bad = await client.fetch("api/questions?limit=0", user="alice")
    assert bad.code == 400
