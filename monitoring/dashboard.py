"""The PeerPrep operator dashboard for Grafana, built with grafanalib.

    .venv/bin/python monitoring/dashboard.py          (make dashboard)
    .venv/bin/python monitoring/dashboard.py --metrics   (the metric names it and the alerts use)

writes the dashboard JSON (importable in Grafana: Dashboards > New > Import) and the files
the deployments ship it in, all from this one description:

- ``monitoring/grafana/peerprep.json``: the dashboard; docker/compose.yaml provisions it;
- ``hub_config/kubernetes/grafana-dashboard.yaml``: a ConfigMap labelled
  ``grafana_dashboard: "1"``, which the Grafana sidecar of kube-prometheus-stack loads;
- ``hub_config/kubernetes/monitoring.yaml``: for the Prometheus Operator (kube-prometheus-stack),
  ``monitoring/alerts.yaml`` as a PrometheusRule, and ServiceMonitors that scrape the service
  and the hub as the jobs ``peerprep`` and ``jupyterhub`` the alerts expect.

Each panel says what an operator watches it for. Queries aggregate the gauges the service
computes from its database with ``max`` (every replica reports the same database) and the
counters and histograms each replica keeps with ``sum``. ``tests/monitoring`` checks that the
committed files are what this module writes and that every metric used here is exported.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import grafanalib.core as g
import yaml
from grafanalib._gen import DashboardEncoder

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_JSON = ROOT / "monitoring" / "grafana" / "peerprep.json"
ALERTS = ROOT / "monitoring" / "alerts.yaml"
K8S_DASHBOARD = ROOT / "hub_config" / "kubernetes" / "grafana-dashboard.yaml"
K8S_MONITORING = ROOT / "hub_config" / "kubernetes" / "monitoring.yaml"

UID = "peerprep-operator"
DATASOURCE = "${datasource}"
RATE = "$__rate_interval"
WIDTH = 24  # Grafana's grid is 24 columns wide
HEIGHT = 8


def target(expr: str, legend: str, ref: str) -> g.Target:
    return g.Target(expr=expr, legendFormat=legend, refId=ref, datasource=DATASOURCE)


def quantiles(metric: str, what: str, where: str = "") -> list[g.Target]:
    """p50 and p95 of a histogram, summed over the replicas."""
    selector = f"{metric}_bucket{{{where}}}" if where else f"{metric}_bucket"
    return [
        target(
            f"histogram_quantile({q}, sum by (le) (rate({selector}[{RATE}])))",
            f"{what} p{int(q * 100)}",
            ref,
        )
        for q, ref in ((0.5, "A"), (0.95, "B"))
    ]


def series(title: str, description: str, targets: list[g.Target], unit: str = "short") -> Any:
    return g.TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=targets,
        unit=unit,
        legendDisplayMode="list",
        legendPlacement="bottom",
    )


def stat(title: str, description: str, expr: str, unit: str = "short") -> Any:
    return g.Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(expr, title, "A")],
        format=unit,
        reduceCalc="lastNotNull",
        graphMode="area",
        thresholds=[g.Threshold("green", 0, 0.0)],
    )


# (row title, panels); each row's panels share its width equally.
ROWS: list[tuple[str, list[Any]]] = [
    (
        "Now",
        [
            stat(
                "Students waiting",
                "Tickets waiting for a partner, all categories.",
                "sum(max by (difficulty, language) (peerprep_queue_length))",
            ),
            stat(
                "Active rooms",
                "Rooms both students can work in now.",
                "max(peerprep_active_rooms)",
            ),
            stat(
                "Warm servers ready",
                "Started, unassigned pair servers: a match gets its room in well under a second "
                "while this is above 0.",
                'max(peerprep_pair_servers{state="ready"})',
            ),
            stat(
                "Service replicas up",
                "PeerPrep service replicas Prometheus can scrape (job peerprep).",
                'sum(up{job="peerprep"})',
            ),
            stat(
                "Hub: running servers",
                "Single-user and pair servers the hub has running (the hub's own metric).",
                "max(jupyterhub_running_servers)",
            ),
        ],
    ),
    (
        "Matching",
        [
            series(
                "Students waiting, by difficulty",
                "Waiting tickets per difficulty. A queue that grows while matches per minute "
                "stay flat means students ask for combinations nobody else picks: the "
                "relaxation settings (Matchmaker.*_relax_after) decide how long they wait.",
                [target("max by (difficulty) (peerprep_queue_length)", "{{difficulty}}", "A")],
            ),
            series(
                "Students matched per minute",
                "Matches per minute (each match pairs two students), by difficulty.",
                [
                    target(
                        "sum by (difficulty) "
                        f"(rate(peerprep_match_latency_seconds_count[{RATE}])) * 60",
                        "{{difficulty}}",
                        "A",
                    )
                ],
            ),
            series(
                "Time to match",
                "From a ticket's creation to its match (p50, p95), and the oldest ticket "
                "waiting now. Tickets time out after Matchmaker.timeout_after.",
                [
                    *quantiles("peerprep_match_latency_seconds", "time to match"),
                    target("max(peerprep_queue_oldest_wait_seconds)", "oldest waiting now", "C"),
                ],
                unit="s",
            ),
        ],
    ),
    (
        "Rooms",
        [
            series(
                "Rooms by state",
                "Rooms holding a pair server. Starting and ending should come back to 0 "
                "within seconds; see the alerts PeerPrepRoomStuckStarting/Ending.",
                [target("max by (state) (peerprep_rooms)", "{{state}}", "A")],
            ),
            series(
                "Room readiness",
                "From a match to the room being active (p50, p95): well under a second from "
                "the warm pool, seconds for a cold spawn. The hub's spawn time (p95) is what "
                "a cold room waits for.",
                [
                    *quantiles("peerprep_room_ready_seconds", "match to room"),
                    target(
                        "histogram_quantile(0.95, sum by (le) (rate("
                        f'jupyterhub_server_spawn_duration_seconds_bucket{{status="success"}}'
                        f"[{RATE}])))",
                        "hub spawn p95",
                        "C",
                    ),
                ],
                unit="s",
            ),
            series(
                "Warm pool",
                "Pair servers by state, against the pool size configured "
                "(RoomManager.warm_pool_size). Ready at 0 while students wait means cold "
                "rooms: raise the pool size or find why servers do not start.",
                [
                    target("max by (state) (peerprep_pair_servers)", "{{state}}", "A"),
                    target("max(peerprep_warm_pool_target)", "pool size configured", "B"),
                ],
            ),
            series(
                "Failed rooms, by reason",
                "Rooms that could not start or broke, per reason (increase over the "
                "interval). Any is worth a look in the service log (room id in each line).",
                [
                    target(
                        f"sum by (reason) (increase(peerprep_rooms_failed_total[{RATE}]))",
                        "{{reason}}",
                        "A",
                    )
                ],
            ),
        ],
    ),
    (
        "Grader",
        [
            series(
                "Runs and verdicts per minute",
                "Run (public tests) and Submit (hidden tests) results per minute, by kind and "
                "verdict. A rise of 'error' means the grader sandbox itself fails.",
                [
                    target(
                        f"sum by (kind, verdict) (rate(peerprep_runs_total[{RATE}])) * 60",
                        "{{kind}} {{verdict}}",
                        "A",
                    )
                ],
            ),
            series(
                "Grader queue",
                "Sandbox runs waiting for a free slot and running, against the slots "
                "(Grader.max_concurrent, summed over replicas). Waiting runs for minutes: "
                "add replicas or slots.",
                [
                    target("sum(peerprep_grader_queue_length)", "waiting", "A"),
                    target("sum(peerprep_grader_running)", "running", "B"),
                    target("sum(peerprep_grader_slots)", "slots", "C"),
                ],
            ),
            series(
                "Grader run time",
                "Seconds a sandbox run holds its slot (p50, p95) and waits for one (p95).",
                [
                    *quantiles("peerprep_grader_run_seconds", "run"),
                    target(
                        "histogram_quantile(0.95, sum by (le) "
                        f"(rate(peerprep_grader_wait_seconds_bucket[{RATE}])))",
                        "wait p95",
                        "C",
                    ),
                ],
                unit="s",
            ),
        ],
    ),
    (
        "Service health",
        [
            series(
                "Event-loop lag",
                "How late the service's event loop ran its timers (p99 per replica). Above a "
                "few hundred milliseconds every request and event stream of that replica "
                "waits: something blocks the loop.",
                [
                    target(
                        "histogram_quantile(0.99, sum by (instance, le) "
                        f"(rate(peerprep_event_loop_lag_seconds_bucket[{RATE}])))",
                        "{{instance}} p99",
                        "A",
                    )
                ],
                unit="s",
            ),
            series(
                "Database",
                "Errors the database driver raised per second, by kind, and whether the "
                "last scrape could read the database (1 = yes).",
                [
                    target(
                        f"sum by (kind) (rate(peerprep_database_errors_total[{RATE}]))",
                        "{{kind}} errors/s",
                        "A",
                    ),
                    target("min(peerprep_database_up)", "database readable", "B"),
                ],
            ),
            series(
                "Hub requests",
                "The hub's own request latency (p50, p95) and its active users: the hub "
                "serves every login, spawn and share PeerPrep makes.",
                [
                    *quantiles("jupyterhub_request_duration_seconds", "hub request"),
                ],
                unit="s",
            ),
        ],
    ),
]


def layout(rows: list[tuple[str, list[Any]]]) -> list[Any]:
    """Row headers and panels with their grid positions: each row's panels side by side."""
    panels: list[Any] = []
    y = 0
    for title, row in rows:
        panels.append(g.RowPanel(title=title, gridPos=g.GridPos(h=1, w=WIDTH, x=0, y=y)))
        y += 1
        # Equal shares of the 24 columns; the first panels take the remainder.
        widths = [WIDTH // len(row) + (i < WIDTH % len(row)) for i in range(len(row))]
        height = 4 if title == "Now" else HEIGHT
        x = 0
        for panel, width in zip(row, widths, strict=True):
            panel.gridPos = g.GridPos(h=height, w=width, x=x, y=y)
            panels.append(panel)
            x += width
        y += height
    return panels


def dashboard() -> dict[str, Any]:
    """The dashboard as Grafana's JSON model."""
    board = g.Dashboard(
        title="PeerPrep",
        uid=UID,
        description="PeerPrep for operators: students waiting and matched, rooms, grader, "
        "service health. From the PeerPrep service's and JupyterHub's Prometheus metrics.",
        tags=["peerprep", "jupyterhub"],
        timezone="browser",
        refresh="30s",
        time=g.Time("now-6h", "now"),
        templating=g.Templating(
            list=[
                g.Template(
                    name="datasource",
                    label="Prometheus",
                    type="datasource",
                    query="prometheus",
                    default="Prometheus",
                )
            ]
        ),
        panels=layout(ROWS),
    ).auto_panel_ids()
    data: dict[str, Any] = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    return data


def dashboard_json() -> str:
    return json.dumps(dashboard(), indent=2, sort_keys=True) + "\n"


def k8s_dashboard(text: str) -> str:
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "peerprep-grafana-dashboard",
            "labels": {"grafana_dashboard": "1", "app.kubernetes.io/part-of": "peerprep"},
        },
        "data": {"peerprep.json": text},
    }
    return HEADER + yaml.safe_dump(config_map, sort_keys=False, width=100)


# kube-prometheus-stack selects rules and monitors by its release label; set yours.
OPERATOR_LABELS = {"release": "kube-prometheus-stack", "app.kubernetes.io/part-of": "peerprep"}


def service_monitor(name: str, job: str, selector: dict[str, str], endpoint: dict[str, Any]) -> Any:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "labels": OPERATOR_LABELS},
        "spec": {
            "selector": {"matchLabels": selector},
            "endpoints": [
                {
                    **endpoint,
                    "interval": "30s",
                    # The job name the alert rules and dashboard use.
                    "relabelings": [{"targetLabel": "job", "replacement": job}],
                }
            ],
        },
    }


def k8s_monitoring(alerts: str) -> str:
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "peerprep-alerts", "labels": OPERATOR_LABELS},
        "spec": yaml.safe_load(alerts),
    }
    service = service_monitor(
        "peerprep-service",
        "peerprep",
        {"app.kubernetes.io/name": "peerprep-service"},
        {
            "port": "http",
            "path": "/services/peerprep/metrics",
            # PeerPrepService.metrics_token (the peerprep-metrics Secret the service reads).
            "authorization": {"credentials": {"name": "peerprep-metrics", "key": "token"}},
        },
    )
    hub = service_monitor(
        "jupyterhub",
        "jupyterhub",
        # The Zero to JupyterHub chart's hub Service.
        {"app": "jupyterhub", "component": "hub"},
        {
            "port": "hub",
            "path": "/hub/metrics",
            # A hub API token with the read:metrics scope (docs/how-to/monitor.md).
            "authorization": {"credentials": {"name": "peerprep-hub-metrics", "key": "token"}},
        },
    )
    docs = [yaml.safe_dump(d, sort_keys=False, width=100) for d in (rule, service, hub)]
    return HEADER + "---\n".join(docs)


# Series names in PromQL: PeerPrep's and the hub's own metrics (``up`` is Prometheus's).
METRIC = re.compile(r"\b(?:peerprep|jupyterhub)_[a-z0-9_]+\b")


def queries() -> list[str]:
    """Every PromQL expression of the dashboard and of the alert rules."""
    exprs = [
        t["expr"] for panel in dashboard()["panels"] for t in panel.get("targets", []) if t["expr"]
    ]
    rules = yaml.safe_load(ALERTS.read_text())
    exprs += [r["expr"] for group in rules["groups"] for r in group["rules"]]
    return exprs


def metric_names() -> set[str]:
    """The sample names (as in the /metrics text: ``_total``, ``_bucket``, ``_count``) that
    the dashboard and the alert rules read."""
    return {name for expr in queries() for name in METRIC.findall(expr)}


HEADER = "# Generated by monitoring/dashboard.py (make dashboard); do not edit by hand.\n"


def outputs() -> dict[Path, str]:
    """Every file this module writes, with its content."""
    text = dashboard_json()
    return {
        DASHBOARD_JSON: text,
        K8S_DASHBOARD: k8s_dashboard(text),
        K8S_MONITORING: k8s_monitoring(ALERTS.read_text()),
    }


def main() -> None:
    if sys.argv[1:] == ["--metrics"]:
        print("\n".join(sorted(metric_names())))
        return
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
