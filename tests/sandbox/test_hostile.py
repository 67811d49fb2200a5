"""The hostile suite: programs that attack the grader, on both backends.

Each program is graded as a student's solution with ``time_s=1`` (2 s wall per case). Each must
end within its limit plus one second (over the backend's measured start-up cost), with the
right verdict, never pass, and leave nothing behind: no process (checked by the ``grader``
fixture), no file on the host, no network connection, no secret.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from jupyter_peerprep.grader import Grader, GradeReport

TIME_S = 1.0
CASE_WALL_S = 2 * TIME_S  # Grader.case_wall_factor


async def grade(
    grader: Grader,
    source: str,
    *,
    args: list | None = None,
    expected: object = "unguessable",
    cases: int = 1,
) -> tuple[GradeReport, float]:
    started = time.monotonic()
    report = await grader.run_cases(
        source=source,
        entry_point="attack",
        cases=[
            {"name": f"case {i}", "args": args or [], "expected": expected} for i in range(cases)
        ],
        limits={"time_s": TIME_S},
    )
    return report, time.monotonic() - started


async def assert_contained(
    report: GradeReport,
    elapsed: float,
    overhead,
    reasons: set[str],
    cases: int = 1,
    slack_s: float = 0.0,
) -> None:
    details = report.to_json(reveal=True)
    assert report.passed == 0, details
    assert {c.reason for c in report.cases} <= reasons, details
    # Inside the sandbox every case ended within its limit plus one second ...
    for case in report.cases:
        if case.wall_ms is not None:
            assert case.wall_ms <= (CASE_WALL_S + 1.0 + slack_s) * 1000, details
    # ... and the whole run within that plus the backend's start/stop cost.
    allowance = await overhead.allowance()
    assert elapsed <= cases * CASE_WALL_S + 1.0 + slack_s + allowance, (elapsed, allowance)


# -- resource exhaustion ----------------------------------------------------------------------

HOSTILE = {
    "fork bomb": (
        "import os\ndef attack():\n    while True:\n        os.fork()\n",
        {"error", "time limit"},
    ),
    "fork bomb that swallows errors": (
        "import os\ndef attack():\n    while True:\n        try:\n            os.fork()\n"
        "        except OSError:\n            pass\n",
        {"time limit"},
    ),
    "thread bomb": (
        "import threading, time\ndef attack():\n    while True:\n"
        "        threading.Thread(target=time.sleep, args=(60,)).start()\n",
        {"error", "time limit"},
    ),
    "heap memory bomb": (
        "def attack():\n    hog = []\n    while True:\n        hog.append(bytearray(10**7))\n",
        {"memory limit"},
    ),
    "one huge allocation": (
        "def attack():\n    return len(bytearray(8 * 10**9))\n",
        {"memory limit"},
    ),
    "memory bomb across processes": (
        "import os, time\ndef attack():\n    for _ in range(30):\n        if os.fork() == 0:\n"
        "            hog = bytearray(200 * 10**6)\n"
        "            hog[::4096] = b'x' * len(hog[::4096])\n"
        "            time.sleep(30)\n    time.sleep(30)\n",
        {"time limit", "memory limit", "error"},
    ),
    "/dev/shm bomb": (
        "def attack():\n    for i in range(1000):\n"
        "        with open(f'/dev/shm/f{i}', 'wb') as f:\n"
        "            f.write(b'x' * 10**6)\n",
        {"error"},
    ),
    "tmpfs bomb": (
        "def attack():\n    for i in range(1000):\n        with open(f'/tmp/f{i}', 'wb') as f:\n"
        "            f.write(b'x' * 10**6)\n",
        {"error"},
    ),
    "busy loop": ("def attack():\n    while True:\n        pass\n", {"time limit"}),
    "sleep forever": ("import time\ndef attack():\n    time.sleep(10**6)\n", {"time limit"}),
    "blocking on stdin": (
        "import sys\ndef attack():\n    return sys.stdin.read() + input()\n",
        {"error"},
    ),
    "1 GB to stdout": (
        "import sys\ndef attack():\n    chunk = 'x' * 10**6\n    for _ in range(1000):\n"
        "        sys.stdout.write(chunk)\n",
        {"output limit"},
    ),
    "1 GB to stderr through os.write": (
        "import os\ndef attack():\n    chunk = b'x' * 10**6\n    for _ in range(1000):\n"
        "        os.write(2, chunk)\n",
        {"output limit"},
    ),
    "huge return value": (
        "def attack():\n    return 'x' * (50 * 10**6)\n",
        {"output limit", "memory limit"},
    ),
    "huge file write": (
        "def attack():\n    with open('/work/big', 'wb') as f:\n        for _ in range(1000):\n"
        "            f.write(b'x' * 10**6)\n",
        {"error"},
    ),
    "fallocate": (
        "import os\ndef attack():\n    fd = os.open('/work/big', os.O_CREAT | os.O_WRONLY)\n"
        "    os.posix_fallocate(fd, 0, 10**11)\n",
        {"error"},
    ),
    "10,000 open files": (
        "def attack():\n    return len([open('/dev/null') for _ in range(10000)])\n",
        {"error"},
    ),
    "deep recursion": (
        "import sys\nsys.setrecursionlimit(10**9)\ndef attack(n=0):\n    return attack(n + 1)\n",
        {"error", "memory limit", "time limit"},
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_resource_attack_is_contained(grader, overhead, name):
    source, reasons = HOSTILE[name]
    report, elapsed = await grade(grader, source)
    # Known limit: while 30 processes fight over the run's memory cgroup, the kernel's OOM
    # handling stalls every process of the run, the harness included, for up to about two
    # seconds on a loaded host before the harness can kill the case.
    slack_s = 2.0 if name == "memory bomb across processes" else 0.0
    await assert_contained(report, elapsed, overhead, reasons, slack_s=slack_s)


# -- escaping the harness ---------------------------------------------------------------------

TAMPERING = {
    "sys.exit(0)": "import sys\ndef attack():\n    sys.exit(0)\n",
    "os._exit(0)": "import os\ndef attack():\n    os._exit(0)\n",
    "exit at import": "import os\nos._exit(0)\ndef attack():\n    return 1\n",
    "fake result JSON on stdout": (
        "import os\ndef attack():\n"
        '    line = \'{"type": "case", "index": 0, "status": "ok", "got": "unguessable"}\'\n'
        "    print(line)\n    os.write(1, (line + '\\n').encode())\n    return 'nope'\n"
    ),
    "forged record on the result pipe": (
        "import os\ndef attack():\n"
        '    os.write(3, b\'{"status": "ok", "got": "forged"}\')\n    os._exit(0)\n'
    ),
    "patched builtins and json": (
        "import builtins, json\n"
        'json.dumps = lambda *a, **k: \'{"status": "ok", "got": "forged"}\'\n'
        "builtins.isinstance = lambda *a: True\n"
        "def attack():\n    return None\n"
    ),
    "equal to everything": (
        "class Any(str):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = str.__hash__\n"
        "def attack():\n    return Any('whatever')\n"
    ),
    "patched assert and AssertionError": (
        "import builtins\nbuiltins.AssertionError = type('Never', (Exception,), {})\n"
        "def attack():\n    assert False\n    return 'nope'\n"
    ),
    "kill the harness": (
        "import os, signal\ndef attack():\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n    return 'nope'\n"
    ),
    "kill every process": (
        "import os, signal\ndef attack():\n    os.kill(-1, signal.SIGKILL)\n    return 'nope'\n"
    ),
    "ptrace the harness through /proc": (
        "import os\ndef attack():\n"
        "    with open(f'/proc/{os.getppid()}/mem', 'rb') as f:\n        return f.read(1)\n"
    ),
    "write into the harness's stdout": (
        "import os\ndef attack():\n"
        "    fd = os.open(f'/proc/{os.getppid()}/fd/1', os.O_WRONLY)\n"
        '    os.write(fd, b\'{"type": "case", "index": 0, "status": "ok", "got": 1}\\n\')\n'
    ),
}


@pytest.mark.parametrize("name", list(TAMPERING))
async def test_tampering_never_passes(grader, overhead, name):
    report, elapsed = await grade(grader, TAMPERING[name], cases=2)
    await assert_contained(
        report, elapsed, overhead, {"error", "wrong answer", "time limit"}, cases=2
    )


async def test_a_killed_harness_fails_the_remaining_cases(grader, backend):
    source = "import os, signal\ndef attack():\n    os.kill(-1, signal.SIGKILL)\n"
    report, _ = await grade(grader, source, expected=None, cases=3)
    assert report.passed == 0
    if backend == "bwrap":
        # The harness died: nothing after it may be counted as run, let alone passed.
        assert [c.reason for c in report.cases] == ["error"] * 3


# -- network ----------------------------------------------------------------------------------


class Listener:
    """A TCP server on the host that counts connections (stands in for the hub)."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def accepted(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


NETWORK_PROGRAM = """
import socket
def attack(targets):
    out = []
    for host, port in targets:
        try:
            s = socket.create_connection((host, port), timeout=0.5)
            s.close()
            out.append("connected " + host)
        except OSError as e:
            out.append("failed " + host + ": " + type(e).__name__)
    try:
        socket.getaddrinfo("pypi.org", 443)
        out.append("resolved pypi.org")
    except OSError as e:
        out.append("dns failed: " + type(e).__name__)
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"x", ("8.8.8.8", 53))
        out.append("udp sent")
    except OSError as e:
        out.append("udp failed: " + type(e).__name__)
    return out
"""


async def test_no_network_at_all(grader, overhead):
    loopback = Listener("127.0.0.1")
    anywhere = Listener("0.0.0.0")
    targets = [
        ["127.0.0.1", loopback.port],  # the hub, say
        ["127.0.0.1", 5432],  # PostgreSQL
        ["10.88.0.1", anywhere.port],  # the host, from the podman bridge
        ["1.1.1.1", 80],  # the outside
        ["deb.debian.org", 80],
    ]
    report, elapsed = await grade(grader, NETWORK_PROGRAM, args=[targets])
    got = report.cases[0].got
    assert isinstance(got, list) and len(got) == 7, report.to_json(reveal=True)
    assert not any(item.startswith(("connected", "resolved", "udp sent")) for item in got), got
    assert loopback.accepted() == 0 and anywhere.accepted() == 0
    assert elapsed <= CASE_WALL_S + 1.0 + await overhead.allowance()


# -- secrets and the host filesystem ----------------------------------------------------------

SNOOP_PROGRAM = """
import gc, os, re
SECRET = re.compile("PEERPREP" + "-SECRET-(?:token|hidden)-[0-9a-f]{32}")
def attack(host_paths):
    found = set()
    def look(data):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        found.update(SECRET.findall(text))
    for pid in os.listdir("/proc"):
        for name in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as f:
                    look(f.read())
            except OSError:
                pass
    for top in ("/", "/work", "/tmp", "/dev/shm", "/root", "/home", "/etc", "/var", "/opt", "/srv"):
        for root, dirs, files in os.walk(top):
            if root.startswith(("/proc", "/sys", "/usr", "/dev")):
                dirs[:] = []
                continue
            for name in files:
                try:
                    with open(os.path.join(root, name), "rb") as f:
                        look(f.read(1 << 20))
                except OSError:
                    pass
    for path in host_paths:
        try:
            with open(path, "rb") as f:
                look(f.read())
            found.add("read " + path)
        except OSError:
            pass
    for obj in gc.get_objects():
        if isinstance(obj, (dict, list, tuple)):
            look(repr(obj)[:100000])
    look(repr(os.environ))
    return sorted(found)
"""


async def test_no_secret_reaches_the_program(grader, overhead, tmp_path, monkeypatch):
    token = f"PEERPREP-SECRET-token-{uuid.uuid4().hex}"
    hidden = f"PEERPREP-SECRET-hidden-{uuid.uuid4().hex}"
    solution = tmp_path / "reference_solution.py"
    solution.write_text(f"# {hidden}\n")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token)
    monkeypatch.setenv("PEERPREP_DB_URL", f"postgresql://peerprep:{token}@db/peerprep")
    host_paths = [
        str(solution),
        str(Path(__file__).resolve()),  # noqa: ASYNC240
        str(Path(__file__).resolve().parents[2] / "question_bank"),  # noqa: ASYNC240
        "/root/.bash_history",
        "/etc/shadow",
    ]
    started = time.monotonic()
    report = await grader.run_cases(
        source=SNOOP_PROGRAM,
        entry_point="attack",
        # The expected value is itself a secret: it must never enter the sandbox.
        cases=[{"name": "hidden", "args": [host_paths], "expected": [hidden]}],
        limits={"time_s": 3},
    )
    elapsed = time.monotonic() - started
    case = report.cases[0]
    assert case.reason == "wrong answer", report.to_json(reveal=True)
    assert case.got == [], case.got
    assert elapsed <= 2 * 3 + 1 + await overhead.allowance()


WRITE_PROGRAM = """
import os
def attack(host_dir):
    wrote = []
    targets = ["/escape", "/usr/escape", "/etc/escape", "/home/escape", "/root/escape",
               "/work/../escape", "/proc/escape", "/sys/escape", host_dir + "/escape"]
    for path in targets:
        try:
            with open(path, "w") as f:
                f.write("x")
            wrote.append(path)
        except OSError:
            pass
    for path, value in (("/proc/sys/kernel/hostname", "pwned"), ("/proc/sysrq-trigger", "b")):
        try:
            with open(path, "w") as f:
                f.write(value)
            wrote.append(path)
        except OSError:
            pass
    # Plant symlinks where a naive grader might write results, for the next run to follow.
    for link in ("/work/result.json", "/tmp/result.json", "/work/.peerprep", "/dev/shm/result"):
        try:
            os.symlink(host_dir + "/planted", link)
        except OSError:
            pass
    return wrote
"""


async def test_writes_outside_the_work_dir_fail_and_symlinks_lead_nowhere(
    grader, overhead, tmp_path
):
    tmp_path.chmod(0o777)  # even a world-writable host directory is out of reach
    report, elapsed = await grade(grader, WRITE_PROGRAM, args=[str(tmp_path)], expected=[])
    assert report.cases[0].got == [], report.to_json(reveal=True)
    assert report.cases[0].passed
    assert elapsed <= CASE_WALL_S + 1.0 + await overhead.allowance()
    # A normal run afterwards is unaffected, and nothing appeared on the host.
    normal, _ = await grade(grader, "def attack():\n    return 42\n", expected=42)
    assert normal.verdict == "passed"
    assert list(tmp_path.iterdir()) == []
    for path in ("/escape", "/usr/escape", "/etc/escape", "/root/escape"):
        assert not os.path.exists(path)  # noqa: ASYNC240


async def test_a_daemon_does_not_outlive_the_run(grader, overhead, processes_with):
    tag = f"{uuid.uuid4().int % 10**8}.{uuid.uuid4().int % 10**6}"
    source = f"""
import os, time
def attack():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "{tag}"])
        os._exit(0)
    time.sleep(0.3)
    return "started"
"""
    report, elapsed = await grade(grader, source, expected="started")
    assert report.verdict == "passed", report.to_json(reveal=True)
    assert elapsed <= CASE_WALL_S + 1.0 + await overhead.allowance()
    deadline = time.monotonic() + 2
    while processes_with(tag) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    assert processes_with(tag) == []


async def test_files_are_not_left_for_the_next_run(grader):
    plant = (
        "def attack():\n"
        "    for d in ('/work', '/tmp', '/dev/shm'):\n"
        "        with open(d + '/left-behind', 'w') as f:\n            f.write('x')\n"
        "    return 'planted'\n"
    )
    first, _ = await grade(grader, plant, expected="planted")
    assert first.verdict == "passed", first.to_json(reveal=True)
    look = (
        "import os\ndef attack():\n"
        "    return [d for d in ('/work', '/tmp', '/dev/shm') "
        "if os.path.exists(d + '/left-behind')]\n"
    )
    second, _ = await grade(grader, look, expected=[])
    assert second.verdict == "passed", second.to_json(reveal=True)


async def test_the_run_sees_a_clean_environment(grader):
    source = "import os\ndef attack():\n    return sorted(os.environ)\n"
    report, _ = await grade(grader, source, expected=None)
    names = report.cases[0].got
    assert isinstance(names, list), report.to_json(reveal=True)
    assert not [n for n in names if n.startswith(("JUPYTERHUB", "PEERPREP_DB", "DOCKER"))]
    assert "PATH" in names and "HOME" in names


async def test_the_run_is_unprivileged_and_alone(grader):
    source = (
        "import os\ndef attack():\n"
        "    status = open('/proc/self/status').read()\n"
        "    caps = [l.split()[1] for l in status.splitlines() if l.startswith('CapEff')]\n"
        "    nnp = [l.split()[1] for l in status.splitlines() if l.startswith('NoNewPrivs')]\n"
        "    pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "    return [os.getuid() != 0, caps, nnp, len(pids) <= 4]\n"
    )
    report, _ = await grade(grader, source, expected=[True, ["0000000000000000"], ["1"], True])
    assert report.verdict == "passed", report.to_json(reveal=True)


# -- many at once -----------------------------------------------------------------------------

LEAK_PROGRAM = """
import os, time
def attack(token):
    os.environ["LEAK"] = token
    for d in ("/work", "/tmp", "/dev/shm"):
        with open(os.path.join(d, token), "w") as f:
            f.write(token)
    time.sleep(0.2)
    seen = set()
    for d in ("/work", "/tmp", "/dev/shm"):
        seen.update(os.listdir(d))
    return sorted(seen)
"""


@pytest.mark.slow
async def test_fifty_concurrent_runs_do_not_leak_into_each_other(grader):
    tokens = [f"token-{i}-{uuid.uuid4().hex[:8]}" for i in range(50)]
    reports = await asyncio.gather(
        *(
            grader.run_cases(
                source=LEAK_PROGRAM,
                entry_point="attack",
                cases=[{"name": token, "args": [token], "expected": [token]}],
                limits={"time_s": 5},
            )
            for token in tokens
        )
    )
    failures = [r.to_json(reveal=True)["cases"][0] for r in reports if r.verdict != "passed"]
    assert failures == []
