"""Nothing in a room, a grader run or a single-user image can read a hidden test or a solution.

Each test runs ``jupyter_peerprep.testing.bankscan``'s scanner *inside* the place under test: it
reads every readable file there and looks for the hidden tests (names with their inputs, whole
cases as the database stores them) and the reference-solution lines of every question of the
shipped bank and of the test hub's own published question. It must read many files and find
none of them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep.questions.loader import load_path
from jupyter_peerprep.sandbox.base import SandboxLimits
from jupyter_peerprep.testing import bankscan
from jupyter_peerprep.testing.kernel import run_code
from jupyter_peerprep.testing.rooms import match_pair, new_student

ROOT = Path(__file__).resolve().parents[2]
# Reading all of /usr on a busy two-core machine takes a minute or two.
SCAN_TIMEOUT_S = 420
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def needles(small_question_bank: Path) -> list[str]:
    specs = bankscan.shipped_specs(ROOT / "question_bank")
    specs += [load_path(p) for p in sorted(small_question_bank.glob("*.ipynb"))]
    assert len(specs) > 10
    found = bankscan.needles(specs)
    assert len(found) > 100
    return found


def verdict(output: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def test_a_room_kernel_reads_no_hidden_test_or_solution(security_hub, needles):
    a, b = new_student(security_hub.url, "scan"), new_student(security_hub.url, "scan")
    room = match_pair(a, b)
    server = f"{security_hub.url}/user/{room['pair_user']}"
    execution = asyncio.run(
        run_code(server, a.token(), bankscan.scan_program(needles), timeout=SCAN_TIMEOUT_S)
    )
    assert execution.ok, execution.error
    result = verdict(execution.stdout)
    # It did read the environment the server runs from (JupyterLab, PeerPrep, /usr) ...
    assert result["files"] > 5000, result
    # ... and found nothing of the bank, the service database or another user's state there.
    assert result["hits"] == [], f"a room's kernel can read hidden tests: {result['hits'][:20]}"
    a.peerprep("POST", f"rooms/{room['id']}/end")


@pytest.mark.parametrize(
    "backend",
    ["bwrap", pytest.param("docker", marks=pytest.mark.container)],
)
async def test_a_grader_run_reads_no_hidden_test_or_solution(backend, needles, request):
    from jupyter_peerprep.grader import Grader

    if backend == "docker":
        request.getfixturevalue("container_engine")
    # The grader as the service builds it, and its sandbox as every Run and Submit gets it.
    sandbox = Grader(backend=backend).get_sandbox()
    limits = SandboxLimits(
        wall_s=SCAN_TIMEOUT_S, cpu_s=SCAN_TIMEOUT_S, memory_mb=512, pids=16, tmp_mb=16
    )
    result = await sandbox.run_python(
        ["-c", bankscan.scan_program(), bankscan.encode(needles)], limits=limits
    )
    assert result.exit_code == 0, result.stderr.decode(errors="replace")[-2000:]
    found = verdict(result.stdout.decode())
    assert found["files"] > 100, found
    assert found["hits"] == [], f"a grader run can read hidden tests: {found['hits'][:20]}"


@pytest.mark.container
def test_the_single_user_image_holds_no_hidden_test_or_solution(docker_client, app_images, needles):
    """A container of the single-user image, started the way DockerSpawner starts a room
    (the image's own user, no network needed), reads nothing of the bank."""
    container = docker_client.containers.run(
        app_images["singleuser"],
        ["python3", "-c", bankscan.scan_program(), bankscan.encode(needles)],
        network_mode="none",
        detach=True,
        mem_limit="512m",
    )
    try:
        status = container.wait(timeout=SCAN_TIMEOUT_S)
        output = container.logs(stdout=True, stderr=False).decode()
        assert status["StatusCode"] == 0, container.logs().decode()[-3000:]
    finally:
        container.remove(force=True)
    found = verdict(output)
    assert found["files"] > 5000, found
    assert found["hits"] == [], f"the single-user image holds hidden tests: {found['hits'][:20]}"
