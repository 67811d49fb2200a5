"""JupyterLab sees the service's limits through the relay: 413, 429 and ``Retry-After``.

A real hub; a student calls the PeerPrep API the way the lab extension does, through the relay
of their own server (``/user/<name>/peerprep/api/...``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_peerprep.testing.rooms import new_student

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def student(make_hub: Any, tmp_path_factory: Any) -> Any:
    config = tmp_path_factory.mktemp("svc") / "peerprep_config.py"
    config.write_text(
        "c.QuestionBank.load_on_start = False\n"
        "c.RateLimiter.event_streams_per_minute = 1\n"
        "c.PeerPrepService.max_body_bytes = 64 * 1024\n"
    )
    hub = make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})
    return new_student(hub.url, "relay")


@pytest.mark.parametrize("accept", ["application/json", "text/event-stream"])
def test_rate_limit_and_retry_after_reach_the_browser(student, accept):
    path = f"match/{'0' * 32}/events"
    first = student.peerprep("GET", path, headers={"Accept": accept}, timeout=30)
    second = student.peerprep("GET", path, headers={"Accept": accept}, timeout=30)
    assert first.status_code in (404, 429)  # the one stream a minute may be used up already
    assert second.status_code == 429, second.text
    assert int(second.headers["Retry-After"]) >= 1
    assert second.headers["Content-Type"].startswith("application/json")
    assert "Too many match event streams" in json.loads(second.text)["message"]


def test_a_large_body_is_refused_with_413_through_the_relay(student):
    response = student.peerprep(
        "POST", f"rooms/{'0' * 32}/runs", json={"kind": "run", "source": "#" * 200_000}
    )
    assert response.status_code == 413, response.text
    assert "64 KB" in json.loads(response.text)["message"]
