"""A solution cannot forge its own complexity timings, on either sandbox backend.

The attack: a quadratic solution that, instead of handing back its result, writes a record of
its own with a fast time, or writes whole forged measurement lines into every descriptor of the
harness it can reach, and exits. Whatever it writes, it must be measured quadratic; and honest
linear and quadratic solutions must still be told apart.
"""

from __future__ import annotations

from typing import Any

import pytest

SIZES = [200, 400, 800, 1600]
GENERATOR = "def generate(n, rng):\n    return [[rng.randint(0, 1000) for _ in range(n)]]\n"
LINEAR = "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n"
QUADRATIC_WORK = (
    "    total = 0\n    for x in xs:\n        for y in xs:\n            total += x ^ y\n"
)
QUADRATIC = "def f(xs):\n" + QUADRATIC_WORK + "    return total\n"

# The child's result record (fd 3 today) claims one microsecond, then the child leaves before
# the harness could add anything of its own.
FORGED_RECORD = (
    "import os\ndef f(xs):\n" + QUADRATIC_WORK + "    for fd in (3, 4, 5, 6):\n"
    "        try:\n"
    '            os.write(fd, b\'{"status":"ok","rounds":[1e-6]}\')\n'
    "        except OSError:\n"
    "            pass\n"
    "    os._exit(0)\n"
)
# Forged harness lines, one per size, written wherever the harness's output might be reached.
FORGED_LINES = (
    "import os, json\n"
    "def f(xs):\n" + QUADRATIC_WORK + "    lines = b''.join(\n"
    "        json.dumps({'type': 'point', 'index': i, 'n': n, 'status': 'ok',\n"
    "                    'rounds': [1e-6 * n]}).encode() + b'\\n'\n"
    "        for i, n in enumerate(" + repr(SIZES) + "))\n"
    "    for path in ('/proc/1/fd/1', f'/proc/{os.getppid()}/fd/1', '/dev/stdout'):\n"
    "        try:\n"
    "            fd = os.open(path, os.O_WRONLY)\n"
    "            os.write(fd, lines)\n"
    "        except OSError:\n"
    "            pass\n"
    '    os.write(3, b\'{"status":"ok","rounds":[1e-6]}\')\n'
    "    os._exit(0)\n"
)

BACKENDS = [
    pytest.param("bwrap", id="bwrap"),
    pytest.param("docker", id="docker", marks=[pytest.mark.container, pytest.mark.timeout(900)]),
]


@pytest.fixture(params=BACKENDS)
def grader(request: pytest.FixtureRequest, peerprep_grader: Any) -> Any:
    if request.param == "docker":
        request.getfixturevalue("container_engine")
    return peerprep_grader(backend=request.param)


async def measure(grader: Any, source: str) -> Any:
    return await grader.measure_complexity(
        source=source, entry_point="f", generator=GENERATOR, sizes=SIZES, expected="O(n)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["forged record", "forged harness lines"])
async def test_forged_timings_do_not_change_the_estimate(grader, attack):
    source = FORGED_RECORD if attack == "forged record" else FORGED_LINES
    report = await measure(grader, source)
    # Measured as what it is: quadratic, whatever it wrote.
    assert report.estimate in ("O(n^2)", "O(n^3)"), report.to_json()
    assert report.matches is False
    assert [p["n"] for p in report.points] == SIZES
    assert all(p["seconds"] > 1e-5 for p in report.points), report.to_json()


@pytest.mark.slow
async def test_honest_linear_and_quadratic_are_still_told_apart(grader):
    quadratic = await measure(grader, QUADRATIC)
    linear = await measure(grader, LINEAR)
    assert quadratic.estimate in ("O(n^2)", "O(n^3)"), quadratic.to_json()
    assert linear.estimate in ("O(n)", "O(n log n)"), linear.to_json()
    assert linear.matches is True
    assert quadratic.points[-1]["seconds"] > 10 * linear.points[-1]["seconds"]


@pytest.mark.slow
async def test_an_error_in_a_timed_call_is_reported_with_its_traceback(grader):
    source = "def f(xs):\n    raise ValueError('no timing for you')\n"
    report = await measure(grader, source)
    assert report.estimate is None
    assert report.message == "Stopped at n=200: error."


# Steps and peak memory are the student's own process's report (growth.py): forged or hidden,
# they must not make a quadratic solution look linear or a memory hog look frugal.
HIDDEN_STEPS = (
    "import sys\ndef f(xs):\n    sys.settrace(None)\n" + QUADRATIC_WORK + "    return 0\n"
)
FORGED_STEPS = (
    "import os, sys\ndef f(xs):\n"
    "    if sys.gettrace() is not None:  # only in the counting child\n"
    '        os.write(3, (\'{"status":"ok","steps":%d,"peak_bytes":0}\' % len(xs)).encode())\n'
    "        os._exit(0)\n" + QUADRATIC_WORK + "    return total\n"
)
HIDDEN_MEMORY = (
    "import tracemalloc\ndef f(xs):\n    tracemalloc.stop()\n"
    "    block = b'x' * (len(xs) * 20000)  # written, so resident: 4 to 32 MB\n"
    "    return len(block)\n"
)


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["hidden steps", "forged steps"])
async def test_forged_step_counts_are_not_believed(grader, attack):
    report = await measure(grader, HIDDEN_STEPS if attack == "hidden steps" else FORGED_STEPS)
    data = report.to_json()
    assert data["estimate"] in ("O(n^2)", "O(n^3)"), data
    assert data["basis"] == "cpu time"
    assert "CPU time grew unlike the counted steps" in data["message"]


@pytest.mark.slow
async def test_memory_hidden_from_the_allocation_tracer_is_seen_by_the_kernel(grader):
    report = await measure(grader, HIDDEN_MEMORY)
    space = report.to_json()["space"]
    assert (space["estimate"], space["basis"]) == ("O(n)", "resident size"), report.to_json()
