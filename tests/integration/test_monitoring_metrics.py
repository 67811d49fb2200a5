"""Every metric the operator dashboard and the alert rules read is exported by the real
service and hub, after a short session: two students match, Run, Submit and end the room.

The names come from the dashboard and the rules themselves (monitoring/dashboard.py), so a
panel or alert on a metric that does not exist fails here, not on an operator's screen.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from jupyter_peerprep.testing.rooms import match_pair, new_student

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "monitoring"))
import dashboard

pytestmark = pytest.mark.slow


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return sum(
        v for got, v in found.get(name, []) if all(got.get(k) == x for k, x in labels.items())
    )


@pytest.fixture(scope="module")
def after_a_session(room_hub, demo_solution, hub_metrics_token):
    """Scrapes of the service's and the hub's /metrics after match, Run, Submit, end."""
    a, b = new_student(room_hub.url, "mona"), new_student(room_hub.url, "mark")
    room = match_pair(a, b)
    for user, kind in ((a, "run"), (b, "submit")):
        response = user.peerprep(
            "POST", f"rooms/{room['id']}/runs", json={"kind": kind, "source": demo_solution}
        )
        assert response.status_code == 201, response.text
        assert response.json()["verdict"] == "passed"
    assert a.peerprep("POST", f"rooms/{room['id']}/end").status_code == 200
    deadline = time.monotonic() + 60
    while a.peerprep("GET", f"rooms/{room['id']}").json()["state"] != "ended":
        assert time.monotonic() < deadline, "room did not end"
        time.sleep(0.3)
    service = requests.get(f"{room_hub.url}/services/peerprep/metrics", timeout=30)
    assert service.status_code == 200, service.text
    hub = requests.get(
        f"{room_hub.url}/hub/metrics",
        headers={"Authorization": f"Bearer {hub_metrics_token}"},
        timeout=30,
    )
    assert hub.status_code == 200, hub.text
    return samples(service.text), samples(hub.text)


def test_every_metric_of_the_dashboard_and_alerts_is_exported(after_a_session):
    service, hub = after_a_session
    used = dashboard.metric_names()
    assert {n for n in used if n.startswith("jupyterhub_")} <= set(hub), sorted(
        n for n in used if n.startswith("jupyterhub_") and n not in hub
    )
    missing = sorted(n for n in used if n.startswith("peerprep_") and n not in service)
    assert not missing, f"used by the dashboard or the alerts but not exported: {missing}"


def test_the_session_shows_on_the_metrics(after_a_session):
    service, hub = after_a_session
    assert value(service, "peerprep_match_latency_seconds_count") >= 1
    assert value(service, "peerprep_runs_total", kind="run", verdict="passed") >= 1
    assert value(service, "peerprep_runs_total", kind="submit", verdict="passed") >= 1
    assert value(service, "peerprep_room_ready_seconds_count") >= 1
    # Run: the cases; Submit: cases and the complexity measurement.
    assert value(service, "peerprep_grader_run_seconds_count") >= 3
    assert value(service, "peerprep_grader_slots") >= 1
    assert value(service, "peerprep_grader_running") == 0
    assert value(service, "peerprep_grader_queue_length") == 0
    assert value(service, "peerprep_warm_pool_target") == 1
    assert value(service, "peerprep_database_up") == 1
    assert value(service, "peerprep_rooms_oldest_seconds", state="ending") == 0
    assert value(hub, "jupyterhub_running_servers") >= 2
