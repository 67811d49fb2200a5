"""The rooms' Deno kernel spec (JavaScript/TypeScript): a real kernel starts, with its limits."""

from __future__ import annotations

import asyncio
import contextlib
import queue
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from jupyter_peerprep.questions.student import student_notebook

KERNELS = Path(__file__).resolve().parents[2] / "kernels"


@pytest.fixture
async def kernel():
    specs = KernelSpecManager(kernel_dirs=[str(KERNELS)], ensure_native_kernel=False)
    manager = AsyncKernelManager(kernel_name="peerprep-deno", kernel_spec_manager=specs)
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def run(client, code: str, lines: int) -> tuple[dict, list[str]]:
    """Execute ``code``; its first ``lines`` lines of output. Deno's kernel may send a cell's
    output after it reports the cell done, so the output is read on until it is all there."""
    output: list[str] = []

    def hook(msg: dict) -> None:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            output.append(content["text"])
        elif msg["msg_type"] == "error":
            output.append(content["ename"] + ": " + content["evalue"] + "\n")

    reply = await client.execute_interactive(code, timeout=60, output_hook=hook)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while "".join(output).count("\n") < lines and loop.time() < deadline:
        with contextlib.suppress(queue.Empty):
            hook(await client.get_iopub_msg(timeout=1))
    return reply["content"], "".join(output).splitlines()


@pytest.mark.slow
async def test_typescript_runs_with_the_room_limits(kernel):
    reply, out = await run(
        kernel,
        "function twice(n: number): number { return 2 * n; }\n"
        "console.log(twice(21));\n"
        "console.log(Deno.env.get('DENO_V8_FLAGS'));\n"
        "console.log(Deno.readTextFileSync('/proc/self/limits').split('\\n')"
        ".filter((l) => l.startsWith('Max file size'))[0]);\n",
        lines=3,
    )
    assert reply["status"] == "ok", out
    answer, v8_flags, file_size = out[:3]
    assert answer == "42"
    assert "--max-old-space-size=1024" in v8_flags
    assert file_size.split()[3] == str(256 * 1024 * 1024)
    # A second cell sees the first one's function, as students expect of a notebook.
    reply, out = await run(kernel, "console.log(twice(2))", lines=1)
    assert out == ["4"]


@pytest.mark.slow
async def test_the_public_tests_cell_of_a_typescript_room_checks_the_students_function(kernel):
    spec = {
        "id": "add",
        "title": "Add",
        "difficulty": "easy",
        "topics": ["math"],
        "entry_point": "add",
        "language": "python",
        "limits": {"time_s": 1, "memory_mb": 256},
        "checker": "unordered",
        "prompt": "Example: add(1, 2) is [3].",
        "starter": "def add(a, b):\n    pass\n",
        "public_tests": [
            {"name": "small", "args": [1, 2], "expected": [3, 0]},
            {"name": "zero", "args": [0, 0], "expected": [1, 1]},
        ],
        "hidden_tests": [],
        "languages": {
            "typescript": {
                "starter": "function add(a: number, b: number): number[] { return [0, a + b]; }",
                "solution": "",
            }
        },
    }
    notebook = student_notebook(spec, version=1, language="typescript")
    starter, tests = ("".join(c["source"]) for c in notebook["cells"][1:])
    await run(kernel, starter, lines=0)
    _, out = await run(kernel, tests, lines=2)
    assert out[:2] == ["PASS   small", "FAIL   zero: expected [1,1], got [0,0]"]
    _, again = await run(kernel, tests, lines=2)  # declares nothing twice
    assert again[:2] == out[:2]
