"""Question bank benchmark: validating, publishing on start, and the student-facing API.

    .venv/bin/python benchmarks/questions.py [--runs 10] [--bank 20]

Measured in one run, on this machine, so the ratios compare like with like:

- ``sandbox run``: one trivial case through ``Grader.run_cases`` (the baseline unit of work);
- ``validate``: the full validation of the demo question (tests/questions/question_notebooks.py:
  generator at 4 sizes, a 50 000-element generated case, 7 cases, the starter); reported as a
  multiple of the sandbox run;
- ``bank load, first start``: ``QuestionBank.load`` of N distinct questions into an empty
  database; ``bank load, restart``: the same again (nothing changed; no code runs);
- ``GET questions`` (60 questions, counts included), ``GET questions/{id}`` and
  ``GET questions/{id}/student-notebook`` on a running service, against ``GET api/health``.

Prints a table and writes ``benchmarks/results/questions.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "questions"))

from question_notebooks import build_notebook  # noqa: E402
from report import machine, summary, write_results  # noqa: E402
from traitlets.config import Config  # noqa: E402

from jupyter_peerprep.grader import Grader  # noqa: E402
from jupyter_peerprep.pytest_plugin import (  # noqa: E402
    FakeHubIdentity,
    ServiceClient,
    find_free_port,
    install_fake_hub,
)
from jupyter_peerprep.questions import store  # noqa: E402
from jupyter_peerprep.questions.bank import QuestionBank  # noqa: E402
from jupyter_peerprep.questions.loader import checksum, load_notebook  # noqa: E402
from jupyter_peerprep.questions.validate import validate_spec  # noqa: E402

# Arguments run_all.py passes for each profile (the convention that makes this a benchmark).
PROFILES = {"quick": ["--runs", "5", "--bank", "10"], "full": ["--runs", "10", "--bank", "20"]}


async def time_sandbox_run(grader: Grader, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        await grader.run_cases(
            source="def f(x):\n    return x\n",
            entry_point="f",
            cases=[{"name": "one", "args": [1], "expected": 1}],
        )
        out.append(time.perf_counter() - start)
    return out


async def time_validate(grader: Grader, runs: int) -> tuple[list[float], dict[str, Any]]:
    spec = load_notebook(build_notebook(), "demo.ipynb")
    out = []
    resolved: dict[str, Any] = {}
    for _ in range(runs):
        start = time.perf_counter()
        result = await validate_spec(spec, grader, file="demo.ipynb")
        out.append(time.perf_counter() - start)
        assert result.ok, [str(p) for p in result.problems]
        resolved = result.spec or {}
    return out, resolved


async def start_service(tmp: Path) -> tuple[Any, ServiceClient]:
    from jupyter_peerprep.hub.app import PeerPrepService

    config = Config()
    config.PeerPrepService.db_url = f"sqlite:///{tmp / 'bench.sqlite'}"
    config.PeerPrepService.state_dir = str(tmp / "state")
    config.PeerPrepService.port = find_free_port()
    config.PeerPrepService.api_token = ""
    config.PeerPrepService.config_file = ""
    service = PeerPrepService(config=config)
    service.initialize([])
    install_fake_hub(service, FakeHubIdentity())
    await service.start_async()
    return service, ServiceClient(f"http://127.0.0.1:{service.port}{service.base_url}")


async def time_get(client: ServiceClient, path: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        response = await client.fetch(path, user="alice")
        out.append(time.perf_counter() - start)
        assert response.code == 200, (path, response.code)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--bank", type=int, default=20)
    args = parser.parse_args()
    grader = Grader()
    results: dict[str, Any] = {
        "machine": machine(),
    }
    base = await time_sandbox_run(grader, args.runs)
    results["sandbox_run"] = summary(base)
    validate_times, resolved = await time_validate(grader, args.runs)
    results["validate_demo"] = summary(validate_times)
    results["validate_over_sandbox_run"] = round(
        statistics.median(validate_times) / statistics.median(base), 1
    )

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        bank_dir = tmp / "bank"
        bank_dir.mkdir()
        for i in range(args.bank):
            nb = build_notebook({"id": f"bench-{i}", "title": f"Bench {i}"})
            (bank_dir / f"bench-{i}.ipynb").write_text(json.dumps(nb))
        service, client = await start_service(tmp)
        try:
            bank = QuestionBank(parent=service, bank_dirs=[str(bank_dir)])
            start = time.perf_counter()
            outcomes = await bank.load(service.session_factory, service.grader)
            first = time.perf_counter() - start
            assert all(o.action == "created" for o in outcomes)
            start = time.perf_counter()
            outcomes = await bank.load(service.session_factory, service.grader)
            again = time.perf_counter() - start
            assert all(o.action == "unchanged" for o in outcomes)
            results["bank_load"] = {
                "questions": args.bank,
                "first_start_s": round(first, 2),
                "per_question_s": round(first / args.bank, 2),
                "restart_s": round(again, 3),
                "restart_over_first": round(again / first, 4),
            }
            # 60 questions in the list, like the shipped bank.
            spec = {k: v for k, v in resolved.items() if k != "warnings"}
            for i in range(args.bank, 60):
                copy = {**spec, "id": f"bench-{i}", "title": f"Bench {i}"}
                store.store_version(service.session_factory, copy, {}, checksum(copy))
            health = await time_get(client, "api/health", 5 * args.runs)
            results["api"] = {
                "health (baseline)": summary(health),
                "list 60": summary(
                    await time_get(client, "api/questions?limit=200", 5 * args.runs)
                ),
                "student view": summary(
                    await time_get(client, "api/questions/bench-1", 5 * args.runs)
                ),
                "student notebook": summary(
                    await time_get(client, "api/questions/bench-1/student-notebook", 5 * args.runs)
                ),
            }
            for key in ("list 60", "student view", "student notebook"):
                results["api"][key]["over_health"] = round(
                    results["api"][key]["p50_ms"] / results["api"]["health (baseline)"]["p50_ms"], 1
                )
        finally:
            await service.stop_async()
    results["machine"]["load_avg_at_end"] = os.getloadavg()

    print(f"{'what':44} {'p50 ms':>9} {'p95 ms':>9}  ratio")
    print(
        f"{'sandbox run (1 case, baseline)':44} {results['sandbox_run']['p50_ms']:>9} "
        f"{results['sandbox_run']['p95_ms']:>9}"
    )
    print(
        f"{'validate demo question':44} {results['validate_demo']['p50_ms']:>9} "
        f"{results['validate_demo']['p95_ms']:>9}  x{results['validate_over_sandbox_run']} "
        "sandbox run"
    )
    bl = results["bank_load"]
    print(
        f"{'bank load, first start (' + str(bl['questions']) + ' questions)':44} "
        f"{1000 * bl['first_start_s']:>9.0f} {'':>9}  {bl['per_question_s']} s/question"
    )
    print(
        f"{'bank load, restart (unchanged)':44} {1000 * bl['restart_s']:>9.1f} {'':>9}  "
        f"x{bl['restart_over_first']} of first start"
    )
    for key, value in results["api"].items():
        ratio = f"x{value['over_health']} health" if "over_health" in value else ""
        print(f"{'GET ' + key:44} {value['p50_ms']:>9} {value['p95_ms']:>9}  {ratio}")
    print(f"wrote {write_results('questions', results)}")


if __name__ == "__main__":
    asyncio.run(main())
