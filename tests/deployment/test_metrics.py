"""Prometheus metrics at /services/peerprep/metrics and structured (JSON) logs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families
from traitlets import TraitError

from jupyter_peerprep import db
from jupyter_peerprep.db.models import Question, Room, RoomMember, Ticket
from jupyter_peerprep.hub import metrics
from jupyter_peerprep.hub.app import PeerPrepService


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def seed(service: PeerPrepService) -> None:
    now = datetime.now(timezone.utc)
    lease = now + timedelta(minutes=5)
    with db.transaction(service.session_factory) as session:
        session.add(Question(id="two-sum"))
        session.flush()
        for i, (difficulty, topics) in enumerate(
            [("easy", ["arrays"]), ("easy", ["arrays", "hash-maps"]), ("hard", [])]
        ):
            session.add(
                Ticket(
                    username=f"waiting{i}",
                    idempotency_key=f"k{i}",
                    difficulty=difficulty,
                    topics=topics,
                    created=now - timedelta(seconds=30 * (i + 1)),
                    lease_expires=lease,
                )
            )
        session.add(
            Ticket(
                username="gone",
                idempotency_key="k",
                difficulty="medium",
                topics=[],
                state="cancelled",
                lease_expires=lease,
            )
        )
        for i, state in enumerate(["active", "active", "starting", "ended"]):
            room = Room(
                pair_user=f"pair-{i:012d}",
                question_id="two-sum",
                question_version=1,
                difficulty="easy",
                state=state,
            )
            session.add(room)
            session.flush()
            session.add(
                RoomMember(room_id=room.id, username=f"student{i}", active=state != "ended")
            )


async def test_metrics_report_queue_rooms_and_counters(make_service):
    service, client = await make_service()
    seed(service)
    metrics.observe_match(3.5, difficulty="medium")
    metrics.count_run(kind="submit", verdict="passed")
    metrics.count_run(kind="submit", verdict="passed")

    response = await client.fetch("metrics", user=None)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    found = samples(response.body.decode())

    queue = "peerprep_queue_length"
    assert found[(queue, (("difficulty", "easy"), ("language", "python")))] == 2
    assert found[(queue, (("difficulty", "hard"), ("language", "python")))] == 1
    # A cancelled ticket is not in the queue; an empty category still has a series.
    assert found[(queue, (("difficulty", "medium"), ("language", "python")))] == 0
    by_topic = "peerprep_queue_length_by_topic"
    assert found[(by_topic, (("topic", "arrays"),))] == 2
    assert found[(by_topic, (("topic", "hash-maps"),))] == 1
    assert found[(by_topic, (("topic", "any"),))] == 1
    oldest = found[("peerprep_queue_oldest_wait_seconds", (("difficulty", "hard"),))]
    assert 85 <= oldest <= 200
    assert found[("peerprep_active_rooms", ())] == 2
    # Background room work may move the "starting" room on; the gauge follows the database.
    with service.session_factory() as session:
        for state in ("starting", "active", "ending"):
            count = session.query(Room).filter(Room.state == state).count()
            assert found[("peerprep_rooms", (("state", state),))] == count
    assert found[("peerprep_database_up", ())] == 1
    assert found[("peerprep_runs_total", (("kind", "submit"), ("verdict", "passed")))] >= 2
    count = found[("peerprep_match_latency_seconds_count", (("difficulty", "medium"),))]
    assert count >= 1
    bucket = ("peerprep_match_latency_seconds_bucket", (("difficulty", "medium"), ("le", "5.0")))
    assert found[bucket] >= 1


async def test_metrics_reflect_changes_at_scrape_time(make_service):
    service, client = await make_service()
    before = samples((await client.fetch("metrics", user=None)).body.decode())
    assert before[("peerprep_active_rooms", ())] == 0
    seed(service)
    after = samples((await client.fetch("metrics", user=None)).body.decode())
    assert after[("peerprep_active_rooms", ())] == 2


async def test_metrics_token_required_when_configured(make_service):
    _, client = await make_service(metrics_token="s3cret-scrape")
    denied = await client.fetch("metrics", user=None)
    assert denied.code == 403
    assert "Bearer" in json.loads(denied.body)["message"]
    wrong = await client.fetch("metrics", user=None, headers={"Authorization": "Bearer nope"})
    assert wrong.code == 403
    ok = await client.fetch("metrics", user=None, headers={"Authorization": "Bearer s3cret-scrape"})
    assert ok.code == 200
    assert b"peerprep_queue_length" in ok.body


async def test_metrics_say_when_database_is_down(make_service):
    service, client = await make_service()
    service.engine.dispose()
    with service.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE tickets")
    response = await client.fetch("metrics", user=None)
    assert response.code == 200
    found = samples(response.body.decode())
    assert found[("peerprep_database_up", ())] == 0
    assert ("peerprep_queue_length", (("difficulty", "easy"), ("language", "python"))) not in found


def test_json_log_style_writes_one_json_object_per_line(capsys, tmp_path):
    service = PeerPrepService(log_style="json", log_level="INFO")
    service.log.info("room %s is active", "r1", extra={"room": "r1"})
    try:
        raise ValueError("boom")
    except ValueError:
        service.log.exception("grading failed for run %s", "x9")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    first, second = (json.loads(line) for line in lines[-2:])
    assert first["message"] == "room r1 is active"
    assert first["level"] == "INFO" and first["room"] == "r1"
    assert first["logger"] == "PeerPrepService" and first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]
    PeerPrepService(log_style="text").log.info("restore the shared logger's text formatter")


def test_log_style_from_environment_and_rejects_unknown(monkeypatch, capsys):
    monkeypatch.setenv("PEERPREP_LOG_STYLE", "json")
    service = PeerPrepService(log_level="INFO")
    service.log.info("ticket %s waiting", "t1")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["message"] == "ticket t1 waiting"
    monkeypatch.delenv("PEERPREP_LOG_STYLE")
    with pytest.raises(TraitError, match="log_style"):
        PeerPrepService(log_style="xml")
    PeerPrepService(log_style="text").log.info("restore the shared logger's text formatter")


async def test_replicas_sharing_a_cookie_secret_accept_each_others_cookies(make_service):
    secret = "ab" * 32
    first, _ = await make_service(cookie_secret=secret)
    second, _ = await make_service(cookie_secret=secret)
    other, _ = await make_service()
    signed = first.tornado_app.settings["cookie_secret"]
    assert signed == bytes.fromhex(secret) == second.tornado_app.settings["cookie_secret"]
    assert other.tornado_app.settings["cookie_secret"] != signed
    with pytest.raises(TraitError, match="at least 32 hex"):
        PeerPrepService(cookie_secret="abcd")
    with pytest.raises(TraitError, match="at least 32 hex"):
        PeerPrepService(cookie_secret="not hex at all")


async def test_match_requests_are_counted_per_database_transaction(make_service):
    _service, client = await make_service()
    key = ("peerprep_match_batch_requests_sum", ())
    before = samples((await client.fetch("metrics", user=None)).body.decode()).get(key, 0.0)
    for user in ("alice", "bob"):
        body = {"difficulty": "easy", "topics": ["arrays"], "idempotency_key": f"k-{user}"}
        response = await client.fetch("api/match", user=user, method="POST", body=body)
        assert response.code == 201
    after = samples((await client.fetch("metrics", user=None)).body.decode())
    assert after[key] == before + 2
    assert after[("peerprep_match_batch_seconds_count", ())] >= 2
