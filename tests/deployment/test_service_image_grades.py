"""The cluster tier grades as shipped: the service image, run as the Kubernetes pod runs it.

``hub_config/kubernetes/peerprep-service.yaml`` runs the service from the hub image with
``Grader.backend = "bwrap"``. Here that image (``docker/build-images.sh hub``) is started on the
project's podman engine with the pod's constraints: its uid and gid (10101, non-root), every
capability dropped, no privilege escalation, a read-only root with a tmpfs ``/tmp``, the
shipped seccomp profile (``hub_config/kubernetes/seccomp/peerprep-bwrap.json``) and the pod's
``procMount: Unmasked``; the service's ConfigMap is mounted where the pod mounts it. Inside, the
grader configured by that file grades a Submit, and a few attacks of the hostile suite are
contained.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "hub_config" / "kubernetes" / "peerprep-service.yaml"
SECCOMP = ROOT / "hub_config" / "kubernetes" / "seccomp" / "peerprep-bwrap.json"
PROBE = Path(__file__).with_name("service_image_probe.py")
HUB_IMAGE = os.environ.get("PEERPREP_HUB_IMAGE", "localhost/peerprep-hub:latest")
SECRET = "PEERPREP-SECRET-token-0123456789abcdef0123456789abcdef"


def manifest_objects() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc]


def service_pod() -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod securityContext, container securityContext) of the service Deployment."""
    deployment = next(
        d
        for d in manifest_objects()
        if d["kind"] == "Deployment" and d["metadata"]["name"] == "peerprep-service"
    )
    spec = deployment["spec"]["template"]["spec"]
    return spec["securityContext"], spec["containers"][0]["securityContext"]


@pytest.fixture(scope="module")
def service_image(docker_host: str) -> str:
    build = subprocess.run(
        ["bash", str(ROOT / "docker" / "build-images.sh"), "hub"],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "DOCKER_HOST": docker_host},
    )
    assert build.returncode == 0, f"docker/build-images.sh hub failed:\n{build.stderr[-4000:]}"
    return HUB_IMAGE


@pytest.fixture(scope="module")
def graded(service_image: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pod, container = service_pod()
    config = next(d for d in manifest_objects() if d["kind"] == "ConfigMap")
    etc = tmp_path_factory.mktemp("etc-peerprep")
    (etc / "peerprep_config.py").write_text(config["data"]["peerprep_config.py"])
    etc.chmod(0o755)
    (etc / "peerprep_config.py").chmod(0o644)
    # The pod's constraints, read from the manifest so that the test follows it.
    assert pod["runAsNonRoot"] is True and pod["seccompProfile"]["type"] == "Localhost"
    assert container["capabilities"]["drop"] == ["ALL"]
    assert "add" not in container["capabilities"]
    cmd = [
        "podman", "run", "--rm", "--network", "podman",
        "--user", f"{pod['runAsUser']}:{pod['runAsGroup']}",
        "--cap-drop", "all",
        "--security-opt", f"seccomp={SECCOMP}",
        "--memory", "2g",
        "-e", f"PEERPREP_TEST_SECRET={SECRET}",
        "-v", f"{etc}:/etc/peerprep:ro",
        "-v", f"{PROBE}:/probe/service_image_probe.py:ro",
    ]  # fmt: skip
    if container.get("allowPrivilegeEscalation") is False:
        cmd += ["--security-opt", "no-new-privileges"]
    if container.get("readOnlyRootFilesystem"):
        cmd += ["--read-only", "--tmpfs", "/tmp"]
    if container.get("procMount") == "Unmasked":
        cmd += ["--security-opt", "unmask=/proc/*"]
    cmd += [service_image, "python3", "/probe/service_image_probe.py"]
    cmd += ["/etc/peerprep/peerprep_config.py"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"the probe failed in the service image:\n{run.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def test_the_service_image_grades_a_submit_as_a_non_root_pod(graded):
    assert graded["backend"] == "BwrapSandbox" and graded["uid"] == 10101
    assert graded["submit"]["verdict"] == "passed", graded["submit"]
    assert (graded["submit"]["passed"], graded["submit"]["total"]) == (3, 3)
    assert graded["wrong"]["verdict"] == "failed"
    assert graded["wrong"]["passed"] == 1  # only the first hidden case is [0, 1]


@pytest.mark.parametrize(
    ("attack", "reasons"),
    [
        ("fork bomb", {"error", "time limit"}),
        ("memory bomb", {"memory limit"}),
        ("busy loop", {"time limit"}),
    ],
)
def test_resource_attacks_are_contained_in_the_pod(graded, attack, reasons):
    report = graded["attacks"][attack]
    assert report["passed"] == 0, report
    assert {case["reason"] for case in report["cases"]} <= reasons, report


def test_a_run_sees_nothing_of_the_service_pod(graded):
    case = graded["attacks"]["snoop"]["cases"][0]
    seen = case["got"]
    assert isinstance(seen, list), case
    text = json.dumps(seen)
    assert SECRET not in text and "PEERPREP_TEST_SECRET" not in text
    # Its pid 1 is the sandbox's own init, with the sandbox's clean environment.
    environ = next(item for item in seen if item.startswith("/proc/1/environ"))
    assert "PEERPREP" not in environ and "JUPYTERHUB" not in environ, environ
    assert "/etc/peerprep/peerprep_config.py: FileNotFoundError" in text
    assert "question_bank: FileNotFoundError" in text
    assert "connected" not in text and "network: OSError" in text
