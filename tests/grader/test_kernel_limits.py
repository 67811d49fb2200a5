"""The pair servers' kernel spec: a real kernel starts, and its limits hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

KERNELS = Path(__file__).resolve().parents[2] / "kernels"


@pytest.fixture
async def kernel():
    specs = KernelSpecManager(kernel_dirs=[str(KERNELS)], ensure_native_kernel=False)
    manager = AsyncKernelManager(kernel_name="peerprep-python", kernel_spec_manager=specs)
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def run(client, code: str) -> tuple[dict, str]:
    output: list[str] = []

    def hook(msg: dict) -> None:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            output.append(content["text"])
        elif msg["msg_type"] == "error":
            output.append(content["ename"])

    reply = await client.execute_interactive(code, timeout=60, output_hook=hook)
    return reply["content"], "".join(output)


@pytest.mark.slow
async def test_kernel_runs_with_limits(kernel):
    _, out = await run(
        kernel,
        "import json, os, resource\n"
        "print(json.dumps([resource.getrlimit(resource.RLIMIT_AS)[0], os.nice(0)]))",
    )
    memory, niceness = json.loads(out)
    assert memory == 1024 * 1024 * 1024
    assert niceness >= 5


@pytest.mark.slow
async def test_a_runaway_allocation_fails_in_the_cell_not_the_machine(kernel):
    reply, out = await run(kernel, "hog = bytearray(4 * 1024**3)")
    assert reply["status"] == "error" and "MemoryError" in out
    # The kernel survives and keeps working.
    reply, out = await run(kernel, "print(6 * 7)")
    assert reply["status"] == "ok" and out.strip() == "42"


def test_spec_is_installed_with_the_package():
    spec = json.loads((KERNELS / "peerprep-python" / "kernel.json").read_text())
    assert spec["argv"][1] == "{resource_dir}/limited_kernel.py"
    assert spec["language"] == "python"
