"""Record a few real sessions with a real Prometheus, and draw the dashboard from them.

    .venv/bin/python monitoring/demo_session.py [--sessions 6] [OUT.png]

Starts the embedded-default hub (as ``benchmarks/rooms.py`` does, warm pool of 1), a
Prometheus (Debian package ``prometheus``) scraping the service and the hub every 2 s with
the alert rules loaded, then plays ``--sessions`` sessions of two students: match, Run,
Submit (one of them wrong), end; a third student waits alone for a while. Then it draws every
panel of the dashboard from that Prometheus (``render.py``) into
``docs/images/monitoring/dashboard.png`` and stops everything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "questions"))
sys.path.insert(0, str(HERE))

import render  # noqa: E402
import rooms  # noqa: E402
from question_notebooks import SOLUTION  # noqa: E402

from jupyter_peerprep.pytest_plugin import find_free_port  # noqa: E402
from jupyter_peerprep.testing.rooms import new_student  # noqa: E402

OUT = ROOT / "docs" / "images" / "monitoring" / "dashboard.png"
WRONG = "def pair_sum(nums, target):\n    return [0, 1]\n"


def prometheus_config(hub_url: str, token: str, alerts: Path) -> str:
    target = urlparse(hub_url).netloc
    return f"""
global: {{scrape_interval: 2s, evaluation_interval: 2s}}
rule_files: [{str(alerts)!r}]
scrape_configs:
  - job_name: peerprep
    metrics_path: /services/peerprep/metrics
    static_configs: [{{targets: [{target!r}]}}]
  - job_name: jupyterhub
    metrics_path: /hub/metrics
    authorization: {{credentials: {token!r}}}
    static_configs: [{{targets: [{target!r}]}}]
"""


def start_prometheus(workdir: Path, config: str) -> tuple[subprocess.Popen[bytes], str]:
    (workdir / "prometheus.yml").write_text(config)
    port = find_free_port()
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    rooms.wait(lambda: _ready(url), 60, "prometheus ready", interval=0.5)
    return proc, url


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def session(hub: Any, a: Any, b: Any, wrong: bool) -> None:
    _seconds, room = rooms.one_match(hub, a, b)
    runs = [(a, "run", SOLUTION), (b, "submit", WRONG if wrong else SOLUTION)]
    for user, kind, source in runs:
        response = user.peerprep(
            "POST", f"rooms/{room['id']}/runs", json={"kind": kind, "source": source}
        )
        assert response.status_code == 201, response.text
    time.sleep(5)
    rooms.end(a, room)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("out", type=Path, nargs="?", default=OUT)
    args = parser.parse_args()
    token = uuid.uuid4().hex
    os.environ["PEERPREP_HUB_METRICS_TOKEN"] = token  # LocalHub passes it to the hub
    with tempfile.TemporaryDirectory(prefix="peerprep-demo-") as tmp:
        workdir = Path(tmp)
        hub = rooms.start_hub(workdir / "hub", pool=1)
        prometheus = None
        try:
            prometheus, url = start_prometheus(
                workdir, prometheus_config(hub.url, token, HERE / "alerts.yaml")
            )
            a, b = rooms.students(hub)
            loner = new_student(hub.url, "lee")
            start = time.time() - 30
            for i in range(args.sessions):
                if i == 1:  # someone waits for a partner who never comes, for a while
                    body = {"difficulty": "hard", "topics": ["graphs"], "language": "python"}
                    loner.peerprep("POST", "match", json={**body, "idempotency_key": "lee"})
                session(hub, a, b, wrong=i % 3 == 2)
                print(f"  session {i + 1} done", flush=True)
                time.sleep(10)
            time.sleep(15)
            out = render.render(url, start, time.time(), args.out, rate_interval="30s")
            print(f"wrote {out.relative_to(ROOT)}")
        finally:
            if prometheus is not None:
                prometheus.terminate()
                prometheus.wait(30)
            hub.stop()


if __name__ == "__main__":
    main()
