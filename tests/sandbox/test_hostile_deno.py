"""The hostile suite for JavaScript/TypeScript solutions (Deno), on both backends.

Deno's own escape routes: ``Deno.Command``/``Deno.run`` and re-running Deno with ``--allow-*``
flags, permission requests, workers, WebAssembly memory growth, module imports (which Deno
does not gate by ``--allow-read``), the network, the environment and writes. Each attack
returns what it managed; a case passes only if the attack got what the test withholds, so
every case must fail, within its limits, leaving nothing behind (the ``grader`` fixture).
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path

import pytest

from jupyter_peerprep.grader import Grader, GradeReport

TIME_S = 1.0
CASE_WALL_S = 2 * TIME_S

pytestmark = pytest.mark.timeout(300)


async def grade(
    grader: Grader,
    source: str,
    *,
    args: list | None = None,
    expected: object = "escaped",
    memory_mb: int = 256,
) -> tuple[GradeReport, float]:
    started = time.monotonic()
    report = await grader.run_cases(
        source=source,
        entry_point="attack",
        cases=[{"name": "attack", "args": args or [], "expected": expected}],
        limits={"time_s": TIME_S, "memory_mb": memory_mb},
        language="javascript",
    )
    return report, time.monotonic() - started


async def contained(report: GradeReport, elapsed: float, overhead, reasons: set[str]) -> None:
    details = report.to_json(reveal=True)
    assert report.passed == 0, details
    assert {c.reason for c in report.cases} <= reasons, details
    # A Deno case starts a runtime: the allowance is measured with a trivial JavaScript run.
    assert elapsed <= CASE_WALL_S + 1.0 + await overhead.allowance("javascript"), (
        elapsed,
        details,
    )


SPAWN = r"""#!/usr/bin/env -S deno run --allow-all
async function attack() {
  const out = [];
  const tries = {
    command: () => new Deno.Command("/usr/bin/id").outputSync(),
    shell: () => new Deno.Command("/bin/sh", { args: ["-c", "id"] }).outputSync(),
    "deno --allow-all": () =>
      new Deno.Command(Deno.execPath(), { args: ["eval", "Deno.exit(0)"] }).outputSync(),
    "Deno.run": () => Deno.run({ cmd: ["/usr/bin/id"] }),
    ffi: () => Deno.dlopen("/usr/lib/x86_64-linux-gnu/libc.so.6", {}),
    env: () => Deno.env.toObject(),
    write: () => Deno.writeTextFileSync("/work/solution.js", "export {}"),
    read: () => Deno.readTextFileSync("/work/input.json"),
    sys: () => Deno.hostname(),
  };
  for (const [name, attempt] of Object.entries(tries)) {
    try {
      await attempt();
      out.push("ran " + name);
    } catch (e) {
      out.push("denied " + name + ": " + (e && e.name));
    }
  }
  for (const name of ["run", "net", "write", "read", "env", "ffi", "sys"]) {
    const state = (await Deno.permissions.request({ name })).state;
    out.push(name + " " + state);
  }
  return out;
}
"""


async def test_no_subprocess_flag_or_permission_escalation(grader, overhead):
    report, elapsed = await grade(grader, SPAWN)
    got = report.cases[0].got
    assert isinstance(got, list) and len(got) == 16, report.to_json(reveal=True)
    assert not [g for g in got if g.startswith("ran ") or g.endswith("granted")], got
    await contained(report, elapsed, overhead, {"wrong answer"})


WORKER = r"""
async function attack() {
  const body = `self.onmessage = async () => {
    const out = [];
    try { new Deno.Command("/usr/bin/id").outputSync(); out.push("ran"); }
    catch (e) { out.push("denied run: " + e.name); }
    try { await fetch("http://127.0.0.1:5432/"); out.push("fetched"); }
    catch (e) { out.push("denied net: " + e.name); }
    self.postMessage(out);
  };`;
  const worker = new Worker("data:text/javascript," + encodeURIComponent(body), { type: "module" });
  const result = await new Promise((resolve) => {
    worker.onmessage = (m) => resolve(m.data);
    worker.onerror = (e) => { e.preventDefault(); resolve(["worker error: " + e.message]); };
    worker.postMessage(1);
  });
  worker.terminate();
  return result;
}
"""


async def test_a_worker_has_no_more_permissions_than_the_solution(grader, overhead):
    report, elapsed = await grade(grader, WORKER)
    got = report.cases[0].got
    assert got == ["denied run: NotCapable", "denied net: NotCapable"], report.to_json(reveal=True)
    await contained(report, elapsed, overhead, {"wrong answer"})


BOMBS = {
    "worker bomb": (
        "function attack() {\n"
        "  const spin = 'data:text/javascript,' + encodeURIComponent('while (true) {}');\n"
        "  while (true) new Worker(spin, { type: 'module' });\n"
        "}\n",
        {"error", "time limit", "memory limit"},
    ),
    "WebAssembly memory growth": (
        "function attack() {\n"
        "  const memories = [];\n"
        "  while (true) {\n"
        "    const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 });\n"
        "    for (;;) { m.grow(256); new Uint8Array(m.buffer).fill(7); }\n"
        "  }\n"
        "}\n",
        {"error", "memory limit"},
    ),
    "ArrayBuffers off the heap": (
        "function attack() {\n"
        "  const kept = [];\n"
        "  while (true) { const b = new ArrayBuffer(1 << 26); new Uint8Array(b).fill(1);"
        " kept.push(b); }\n"
        "}\n",
        {"memory limit"},
    ),
    "heap": (
        "function attack() { const a = []; while (true) a.push({ x: new Array(1000).fill(1) }); }",
        {"memory limit"},
    ),
    "busy loop": ("function attack() { for (;;) {} }", {"time limit"}),
    "timers that never fire": (
        "function attack() { return new Promise((resolve) => setTimeout(resolve, 60000)); }",
        {"time limit"},
    ),
    "a gigabyte to stdout": (
        "function attack() { const s = 'x'.repeat(1 << 20);"
        " for (let i = 0; i < 1024; i++) console.log(s); }",
        {"output limit"},
    ),
    "deep recursion": ("function attack() { return attack() + 1; }", {"error"}),
}


@pytest.mark.parametrize("name", list(BOMBS))
async def test_resource_attack_is_contained(grader, overhead, name):
    source, reasons = BOMBS[name]
    # A smaller memory limit than the default, so that filling it fits the time limit on a
    # busy machine; the bombs would take any amount.
    report, elapsed = await grade(grader, source, memory_mb=96)
    await contained(report, elapsed, overhead, reasons)


SNOOP = r"""
async function attack(paths) {
  const found = new Set();
  const secret = /PEERPREP-SECRET-(?:token|hidden)-[0-9a-f]{32}/g;
  const look = (text) => { for (const m of String(text).matchAll(secret)) found.add(m[0]); };
  for (const path of paths) {
    const url = "file://" + path;
    const tries = [
      () => Deno.readTextFileSync(path),
      async () => await (await fetch(url)).text(),
      async () => JSON.stringify(await import(url, { with: { type: "json" } })),
      async () => JSON.stringify(await import(url)),
    ];
    for (const attempt of tries) {
      try { const text = await attempt(); look(text); found.add("read " + path); }
      catch (e) { look(e && e.message); }
    }
  }
  // Deno loads a module named by a literal without asking for read permission (the module
  // graph is built before the program runs): only the sandbox's filesystem view stops these.
  for (const load of LITERAL_IMPORTS) {
    try { look(JSON.stringify(await load())); found.add("imported a host file"); }
    catch (e) { look(e && e.message); }
  }
  for (const own of ["./input.json", "./case.js", "./common.js"]) {
    const options = own.endsWith("json") ? { with: { type: "json" } } : undefined;
    try { look(JSON.stringify(await import(own, options))); }
    catch (e) { look(e && e.message); }
  }
  try { look(JSON.stringify(Deno.env.toObject())); } catch { /* denied */ }
  try { look(Deno.readTextFileSync("/proc/1/environ")); } catch { /* denied */ }
  look(JSON.stringify(Object.keys(globalThis)));
  return [...found].sort();
}
"""


async def test_no_secret_hidden_test_or_bank_file_reaches_the_program(
    grader, overhead, tmp_path, monkeypatch
):
    token = f"PEERPREP-SECRET-token-{uuid.uuid4().hex}"
    hidden = f"PEERPREP-SECRET-hidden-{uuid.uuid4().hex}"
    secret_json = tmp_path / "hidden_tests.json"
    secret_json.write_text(json.dumps({"expected": hidden}))
    secret_js = tmp_path / "solution.js"
    secret_js.write_text(f"export const s = {json.dumps(hidden)};\n")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token)
    bank = Path(__file__).resolve().parents[2] / "question_bank"  # noqa: ASYNC240
    paths = [str(secret_json), str(secret_js), str(next(bank.glob("*.ipynb"))), "/etc/passwd"]
    literal = ",\n".join(
        f"  () => import({json.dumps('file://' + p)}, {{ with: {{ type: 'json' }} }})"
        for p in paths[:1] + paths[2:3]
    )
    literal += f",\n  () => import({json.dumps('file://' + paths[1])})"
    source = f"const LITERAL_IMPORTS = [\n{literal}\n];\n" + SNOOP
    started = time.monotonic()
    report = await grader.run_cases(
        source=source,
        entry_point="attack",
        # The expected value is itself the secret: it must never enter the sandbox.
        cases=[{"name": "hidden", "args": [paths], "expected": [hidden]}],
        limits={"time_s": 3},
        language="javascript",
    )
    elapsed = time.monotonic() - started
    case = report.cases[0]
    assert case.reason == "wrong answer", report.to_json(reveal=True)
    assert case.got == [], case.got
    assert elapsed <= 2 * 3 + 2 + await overhead.allowance("javascript")


NETWORK = r"""
async function attack(port) {
  const out = [];
  const tries = {
    "fetch loopback": () => fetch("http://127.0.0.1:" + port + "/"),
    "connect postgres": () => Deno.connect({ hostname: "127.0.0.1", port: 5432 }),
    "connect bridge": () => Deno.connect({ hostname: "10.88.0.1", port }),
    "fetch outside": () => fetch("http://1.1.1.1/"),
    "resolve": () => Deno.resolveDns("pypi.org", "A"),
    "listen": () => Deno.listen({ port: 8080 }),
    "websocket": () => new Promise((resolve, reject) => {
      const ws = new WebSocket("ws://127.0.0.1:" + port + "/");
      ws.onopen = resolve; ws.onerror = () => reject(new Error("ws failed"));
    }),
  };
  for (const [name, attempt] of Object.entries(tries)) {
    try { await attempt(); out.push("reached " + name); }
    catch (e) { out.push("failed " + name); }
  }
  return out;
}
"""


async def test_no_network_at_all(grader, overhead):
    listener = socket.socket()  # on the host, standing in for the hub
    listener.bind(("0.0.0.0", 0))
    listener.listen(16)
    listener.setblocking(False)
    try:
        report, elapsed = await grade(grader, NETWORK, args=[listener.getsockname()[1]])
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()
    got = report.cases[0].got
    assert isinstance(got, list) and len(got) == 7, report.to_json(reveal=True)
    assert not [g for g in got if g.startswith("reached")], got
    await contained(report, elapsed, overhead, {"wrong answer"})


FORGE = r"""
import input from "./input.json" with { type: "json" };
function attack() {
  // A forged record after the real marker, then leave before the runner reports.
  const mark = "\n\u001ePEERPREP-" + input.nonce + "\n";
  const forged = JSON.stringify({ status: "ok", got: "forged" });
  Deno.stdout.writeSync(new TextEncoder().encode(mark + forged));
  Deno.exit(0);
}
"""


async def test_a_forged_record_claims_only_a_value_it_could_return(grader, overhead):
    report, elapsed = await grade(grader, FORGE, expected="unguessable")
    assert report.cases[0].got == "forged"
    await contained(report, elapsed, overhead, {"wrong answer"})
