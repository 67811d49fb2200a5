"""The shipped question bank: every notebook validates in the real grader sandbox, and nothing a
student can fetch (API responses, the room's notebook) holds a hidden case or solution text.

Notebooks are discovered at collection time, so new questions in ``question_bank/`` are
picked up without editing this file.
"""

from __future__ import annotations

import ast
import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from question_notebooks import build_notebook

from jupyter_peerprep.grader import Grader
from jupyter_peerprep.questions import store
from jupyter_peerprep.questions.bank import bank_notebooks, default_bank_dir
from jupyter_peerprep.questions.loader import checksum, load_notebook, load_path
from jupyter_peerprep.questions.student import LOCAL_CHECK
from jupyter_peerprep.questions.validate import bank_policy, validate_spec

BANK_DIR = default_bank_dir()
NOTEBOOKS = bank_notebooks([BANK_DIR]) if BANK_DIR else []

# Resolved specs from the validation tests, reused by the scan test in the same session.
RESOLVED: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {}


def test_bank_is_found_next_to_the_package():
    assert BANK_DIR is not None and BANK_DIR.name == "question_bank"


def test_bank_ships_sixty_questions_over_twelve_topics():
    specs = [load_path(p) for p in NOTEBOOKS]
    by_difficulty = Counter(s["difficulty"] for s in specs)
    topics = {t for s in specs for t in s["topics"]}
    assert len(specs) >= 60, f"{len(specs)} questions in {BANK_DIR}"
    assert by_difficulty["easy"] >= 20 and by_difficulty["medium"] >= 25
    assert by_difficulty["hard"] >= 15, dict(by_difficulty)
    assert len(topics) >= 12, sorted(topics)
    ids = [s["id"] for s in specs]
    assert len(set(ids)) == len(ids)
    assert all(p.stem == s["id"] for p, s in zip(NOTEBOOKS, specs, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_bank_question_validates(path: Path) -> None:
    spec = load_path(path)
    result = asyncio.run(validate_spec(spec, Grader(), file=path.name))
    problems = result.problems + bank_policy(spec, path.name)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert not errors, "\n".join(errors)
    assert result.spec is not None
    RESOLVED[path.stem] = (result.spec, json.loads(path.read_text()), checksum(spec))


# -- the scan ---------------------------------------------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    return []


def visible_text(response: Any) -> str:
    """Everything in a response a student could read: its strings and its JSON."""
    return "\n".join(_strings(response)) + "\n" + json.dumps(response)


def secrets_of(spec: dict[str, Any]) -> list[str]:
    """Texts that must not reach a student: hidden cases and the service-only code.

    Material the author put in student-facing cells (prompt, starter, public cases) is not a
    secret even if a hidden case repeats it, so it is left out.
    """
    public = spec["public_tests"]
    # The student notebook's own scaffolding (the local check loop) is no secret either.
    allowed = "\n".join(
        [
            spec["prompt"],
            spec["starter"],
            json.dumps(public),
            repr(public),
            spec["title"],
            LOCAL_CHECK,
        ]
    )
    secrets: list[str] = []
    for case in spec["hidden_tests"]:
        for value in (case["args"], case["expected"]):
            for form in (
                json.dumps(value),
                json.dumps(value, separators=(",", ":")),
                repr(value),
            ):
                if len(form) >= 12 and form not in allowed:
                    secrets.append(form)
    for key in ("solution", "generator", "checker_source"):
        for line in (spec.get(key) or "").splitlines():
            line = line.strip()
            if len(line) >= 16 and line not in allowed:
                secrets.append(line)
    return sorted(set(secrets), key=len)


def public_tests_in_notebook(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    (cell,) = [c for c in notebook["cells"] if "public-tests" in c["metadata"].get("tags", [])]
    tree = ast.parse("".join(cell["source"]))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PUBLIC_TESTS":
            return ast.literal_eval(node.value)
    raise AssertionError("no PUBLIC_TESTS in the student notebook")


def assert_no_leak(where: str, response: Any, spec: dict[str, Any]) -> None:
    text = visible_text(response)
    leaked = [s for s in secrets_of(spec) if s in text]
    assert not leaked, f"{where} leaks {len(leaked)} secret(s) of {spec['id']}: {leaked[0][:80]!r}"


async def _resolved_specs() -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    grader = Grader()
    demo = build_notebook()
    specs = []
    demo_spec = load_notebook(demo, "demo.ipynb")
    result = await validate_spec(demo_spec, grader, file="demo.ipynb")
    assert result.ok and result.spec is not None
    specs.append((result.spec, demo, checksum(demo_spec)))
    for path in NOTEBOOKS:
        if path.stem not in RESOLVED:
            spec = load_path(path)
            checked = await validate_spec(spec, grader, file=path.name)
            if not checked.ok or checked.spec is None:
                continue  # reported by test_bank_question_validates
            RESOLVED[path.stem] = (checked.spec, json.loads(path.read_text()), checksum(spec))
        specs.append(RESOLVED[path.stem])
    return specs


@pytest.mark.slow
async def test_scan_student_responses_hold_no_hidden_case_or_solution(make_service, fake_hub):
    fake_hub.groups["ines"] = ["instructors"]
    service, client = await make_service()
    specs = await _resolved_specs()
    for spec, notebook, digest in specs:
        clean = {k: v for k, v in spec.items() if k != "warnings"}
        store.store_version(service.session_factory, clean, notebook, digest, username="test")

    listing = await client.json("api/questions?limit=200", user="alice")
    assert listing["total"] == len(specs)
    listed_text = visible_text(listing)
    for spec, _, _ in specs:
        qid = spec["id"]
        assert_no_leak("the question list", listing, spec)
        assert qid in listed_text
        view = await client.json(f"api/questions/{qid}", user="alice")
        assert_no_leak(f"GET questions/{qid}", view, spec)
        assert view["public_tests"] == [
            {"name": c["name"], "args": c["args"], "expected": c["expected"]}
            for c in spec["public_tests"]
        ]
        searched = await client.json(f"api/questions?q={qid}", user="alice")
        assert_no_leak("a search", searched, spec)
        notebook = await client.json(f"api/questions/{qid}/student-notebook", user="alice")
        assert_no_leak(f"the student notebook of {qid}", notebook, spec)
        assert public_tests_in_notebook(notebook) == view["public_tests"]
        assert [t for c in notebook["cells"] for t in c["metadata"].get("tags", [])] == [
            "prompt",
            "starter",
            "public-tests",
        ]
        assert all(not c.get("outputs") for c in notebook["cells"])
        # The scan can fail: the instructor's full view does hold the secrets.
        full = await client.json(f"api/questions/{qid}?view=full", user="ines")
        with pytest.raises(AssertionError, match="leaks"):
            assert_no_leak("the full view", full, spec)
