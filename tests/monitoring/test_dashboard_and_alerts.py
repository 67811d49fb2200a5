"""The operator's dashboard and alert rules (monitoring/), as the deployments ship them.

promtool (Debian package prometheus, in the Makefile's SYSTEM_PACKAGES) checks the rule file
and runs its unit tests (monitoring/alerts.test.yaml: each alert fires on its condition and
stays quiet on a healthy service). The committed dashboard JSON and Kubernetes manifests must
be what monitoring/dashboard.py writes today, and the dashboard must have a panel for each
thing an operator watches. That every metric used exists is checked against the real service
in tests/integration/test_monitoring_metrics.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"
sys.path.insert(0, str(MONITORING))

import dashboard  # noqa: E402

KUBERNETES_VERSION = "1.33.0"  # as tests/deployment/test_kubernetes.py


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args], capture_output=True, text=True, cwd=MONITORING, timeout=120
    )


def alerts() -> dict[str, dict]:
    rules = yaml.safe_load(dashboard.ALERTS.read_text())
    return {r["alert"]: r for group in rules["groups"] for r in group["rules"]}


def test_promtool_accepts_the_rules_and_the_compose_prometheus_config():
    checked = promtool("check", "rules", "alerts.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in checked.stdout
    config = promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_each_alert_fires_on_its_condition_and_not_on_a_healthy_service():
    tested = promtool("test", "rules", "alerts.test.yaml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # Every alert has a case where it fires.
    cases = yaml.safe_load((MONITORING / "alerts.test.yaml").read_text())["tests"]
    firing = {t["alertname"] for case in cases for t in case["alert_rule_test"] if t["exp_alerts"]}
    assert firing == set(alerts())


def test_the_alerts_an_operator_needs_exist_with_an_explanation():
    rules = alerts()
    needed = {
        "PeerPrepServiceDown": "up{",
        "PeerPrepEventLoopLagHigh": "peerprep_event_loop_lag_seconds",
        "PeerPrepRoomStuckStarting": 'state="starting"',
        "PeerPrepRoomStuckEnding": 'state="ending"',
        "PeerPrepGraderSaturated": "peerprep_grader_queue_length",
        "PeerPrepWarmPoolEmpty": 'peerprep_pair_servers{state="ready"}',
        "PeerPrepDatabaseErrors": "peerprep_database_errors_total",
        "PeerPrepDatabaseUnreadable": "peerprep_database_up",
    }
    for name, uses in needed.items():
        assert uses in rules[name]["expr"], name
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name


def test_committed_dashboard_and_manifests_are_what_the_code_writes():
    for path, text in dashboard.outputs().items():
        assert path.read_text() == text, f"{path} is stale: run `make dashboard`"


def test_the_dashboard_has_a_panel_for_everything_the_operator_watches():
    board = json.loads(dashboard.DASHBOARD_JSON.read_text())
    assert board["uid"] == dashboard.UID
    assert board["templating"]["list"][0]["type"] == "datasource"
    panels = [p for p in board["panels"] if p["type"] != "row"]
    exprs = {p["title"]: " ".join(t["expr"] for t in p["targets"]) for p in panels}
    watched = {
        "Students waiting, by difficulty": "peerprep_queue_length",
        "Students matched per minute": "peerprep_match_latency_seconds_count",
        "Time to match": "peerprep_match_latency_seconds_bucket",
        "Rooms by state": "peerprep_rooms",
        "Room readiness": "peerprep_room_ready_seconds_bucket",
        "Runs and verdicts per minute": "peerprep_runs_total",
        "Grader queue": "peerprep_grader_queue_length",
        "Grader run time": "peerprep_grader_run_seconds_bucket",
        "Event-loop lag": "peerprep_event_loop_lag_seconds",
        "Failed rooms, by reason": "peerprep_rooms_failed_total",
        "Hub requests": "jupyterhub_request_duration_seconds_bucket",
    }
    for title, metric in watched.items():
        assert metric in exprs[title], title
    # Panels lie on Grafana's 24-column grid without overlapping, each with a description.
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
    for panel in panels:
        assert panel["description"], panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])


def test_kubernetes_gets_the_dashboard_rules_and_scrape_jobs():
    config_map = yaml.safe_load(dashboard.K8S_DASHBOARD.read_text())
    kubernetes_validate.validate(config_map, KUBERNETES_VERSION, strict=True)
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["peerprep.json"])["uid"] == dashboard.UID
    objects = list(yaml.safe_load_all(dashboard.K8S_MONITORING.read_text()))
    rule = next(o for o in objects if o["kind"] == "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(dashboard.ALERTS.read_text())
    jobs = {
        o["spec"]["endpoints"][0]["relabelings"][0]["replacement"]: o["spec"]["endpoints"][0]
        for o in objects
        if o["kind"] == "ServiceMonitor"
    }
    assert jobs["peerprep"]["path"] == "/services/peerprep/metrics"
    assert jobs["jupyterhub"]["path"] == "/hub/metrics"
    # The service's monitor finds the Service of hub_config/kubernetes/peerprep-service.yaml.
    service = next(
        o
        for o in yaml.safe_load_all(
            (REPO / "hub_config/kubernetes/peerprep-service.yaml").read_text()
        )
        if o and o["kind"] == "Service" and o["metadata"]["name"] == "peerprep"
    )
    monitor = next(
        o
        for o in objects
        if o["kind"] == "ServiceMonitor" and o["metadata"]["name"] == "peerprep-service"
    )
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert any(p["name"] == jobs["peerprep"]["port"] for p in service["spec"]["ports"])


def test_compose_monitoring_uses_the_same_files():
    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    prometheus, grafana = compose["services"]["prometheus"], compose["services"]["grafana"]
    assert prometheus["profiles"] == ["monitoring"] == grafana["profiles"]
    assert "../monitoring/alerts.yaml:/etc/prometheus/alerts.yaml:ro" in prometheus["volumes"]
    assert (
        "../monitoring/grafana/peerprep.json:/var/lib/grafana/dashboards/peerprep.json:ro"
        in grafana["volumes"]
    )
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert "/etc/prometheus/alerts.yaml" in config["rule_files"]
    assert {j["job_name"] for j in config["scrape_configs"]} == {"peerprep", "jupyterhub"}
    # Grafana listens on the host's loopback only.
    assert all(p.startswith("127.0.0.1:") for p in grafana["ports"])


def test_the_how_to_explains_every_alert_and_metric():
    page = (REPO / "docs" / "how-to" / "monitor.md").read_text()
    for name in alerts():
        assert f"| `{name}` |" in page, f"docs/how-to/monitor.md does not explain {name}"
    for sample in dashboard.metric_names():
        base = sample.removesuffix("_bucket").removesuffix("_count").removesuffix("_total")
        assert base in page, f"docs/how-to/monitor.md does not list {sample}"
