"""Faults in the container tier (a real hub with DockerSpawner on podman, ``docker_hub`` of
tests/conftest.py, shared with the other container tests): a pair server's container killed
with ``kill -9`` mid-session, and the hub killed while a room runs (last: it restarts the hub).

The service there runs with the RoomManager defaults (docker_hub's config sets no room
timings), so a lost server ends its room within ``server_lost_after`` plus a check.
"""

from __future__ import annotations

from typing import Any

import pytest
from fault_support import (
    assert_in_both_histories,
    assert_kept_answering,
    wait_for_questions_of,
    wait_snapshot_holds,
)

from jupyter_peerprep.hub.rooms import RoomManager
from jupyter_peerprep.testing.containers import container_of
from jupyter_peerprep.testing.faults import (
    Prober,
    ServiceCaller,
    hub_student,
    kill_hub,
    notebook_text,
    save_code,
    wait_state,
)
from jupyter_peerprep.testing.rooms import match_pair

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(1800)]

TRAITS = RoomManager.class_traits()
# A killed server is noticed at the next check and declared lost server_lost_after later
# (sooner when the hub already reports it stopped); then the End itself, also generous.
LOST_WITHIN = (
    TRAITS["server_lost_after"].default_value + 2 * TRAITS["snapshot_interval"].default_value + 60
)

LOST_CODE = "def pair_sum(nums, target):\n    return [0, 1]  # saved-before-the-kill\n"
KEPT_CODE = "def pair_sum(nums, target):\n    return [1, 0]  # kept-across-the-hub-restart\n"
LATER_CODE = "def pair_sum(nums, target):\n    return [1, 0]  # written-after-the-restart\n"


@pytest.fixture(scope="module")
def people(docker_hub: Any) -> dict[str, ServiceCaller]:
    people = {name: hub_student(docker_hub.url, name) for name in ("ann", "ben", "bystander")}
    wait_for_questions_of(people["ann"])
    return people


def open_room(people: dict[str, ServiceCaller]) -> dict[str, Any]:
    return match_pair(people["ann"], people["ben"], room_timeout=240)  # type: ignore[arg-type]


def test_pair_container_killed_ends_the_room_with_the_saved_code(docker_hub, docker_client, people):
    room = open_room(people)
    save_code(people["ann"], room["pair_user"], LOST_CODE)
    wait_snapshot_holds(people["ann"], room["id"], "saved-before-the-kill")
    with Prober(docker_hub.url, people["bystander"]) as prober:
        container_of(docker_client, room["pair_user"]).kill()  # SIGKILL, as the OOM killer
        ended = wait_state(people["ben"], room["id"], {"ended"}, timeout=LOST_WITHIN)
    assert_kept_answering(prober)
    assert ended["end_reason"] == "server lost", ended
    item = assert_in_both_histories(people, room["id"], reason="server lost")
    assert "saved-before-the-kill" in notebook_text(item["final_notebook"])
    for name in ("ann", "ben"):  # both may ask for a partner again
        assert people[name]("GET", "rooms/current").json()["room"] is None


def test_hub_killed_keeps_the_pair_container_and_the_room_goes_on(
    docker_hub, docker_client, people
):
    """Last in this module: ``kill -9`` of the hub, its proxy and the service (the engine keeps
    the containers), then the hub started again on the same state: the room's container is
    the same one, still running, and the room is still usable, then ends normally."""
    room = open_room(people)
    pair = room["pair_user"]
    save_code(people["ann"], pair, KEPT_CODE)
    wait_snapshot_holds(people["ann"], room["id"], "kept-across-the-hub-restart")
    before = container_of(docker_client, pair)

    kill_hub(docker_hub)
    before.reload()
    assert before.status == "running"  # nobody stopped it while the hub was down
    docker_hub.start(timeout=180)

    after = container_of(docker_client, pair)
    assert after.id == before.id and after.status == "running"
    assert wait_state(people["ben"], room["id"], {"active"}, timeout=60)["state"] == "active"
    # The room answers through the new proxy, with what was saved before the crash.
    saved = people["ben"].user.server("GET", "api/contents/question.ipynb", owner=pair)
    assert saved.status_code == 200, saved.text
    assert "kept-across-the-hub-restart" in notebook_text(saved.json()["content"])
    save_code(people["ben"], pair, LATER_CODE)
    # A few checks of the room by the new service later, it still runs (not "server lost").
    wait_snapshot_holds(people["ben"], room["id"], "written-after-the-restart")
    assert people["ann"]("GET", f"rooms/{room['id']}").json()["state"] == "active"

    ended = people["ann"]("POST", f"rooms/{room['id']}/end")
    assert ended.status_code == 200, ended.text
    final = wait_state(people["ben"], room["id"], {"ended"}, timeout=120)
    assert final["ended_by"] == people["ann"].user.name
    item = assert_in_both_histories(people, room["id"])
    assert "written-after-the-restart" in notebook_text(item["final_notebook"])
