"""Validate a question by running its code in the grader's sandbox, and resolve generated cases.

Checks, in order (each failure is a ``Problem`` naming file, cell and field):

1. generators: ``generate(n, rng)`` runs for every complexity size and every generated hidden
   case, returns a list of JSON arguments matching the entry point's parameters;
2. generated hidden cases get their args from the generator and their expected value from the
   reference solution (``resolve``), so the stored spec holds only literal cases;
3. the reference solution passes every public and hidden case with the question's checker, and
   leaves headroom under the time limit (a warning when it uses over half of it);
4. the starter fails at least one hidden case (otherwise the question gives itself away);
5. optionally (``complexity=True``), the measured growth of the solution matches the expected
   class (a warning, since timing on a busy machine is noisy).

All code runs through ``Grader.run_cases`` / ``measure_complexity``: the same sandbox and limits
as a student's Submit. Nothing here executes notebook code in the service process.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from .problems import Problem, ProblemList
from .validate_languages import validate_other_languages
from .vocabulary import TAG_GENERATOR, TAG_HIDDEN, TAG_PUBLIC, TAG_SOLUTION, TAG_STARTER


class GraderLike(Protocol):
    async def run_cases(
        self,
        *,
        source: str,
        entry_point: str,
        cases: list[dict[str, Any]],
        checker: str = "exact",
        checker_source: str | None = None,
        limits: dict[str, Any] | None = None,
        language: str = "python",
    ) -> Any: ...

    async def measure_complexity(
        self,
        *,
        source: str,
        entry_point: str,
        generator: str,
        sizes: list[int],
        expected: str | None,
        repeats: int = 3,
        limits: dict[str, Any] | None = None,
        language: str = "python",
    ) -> Any: ...


# Appended to the reference solution to run the generator in the same sandbox run. The
# generator runs in its own namespace, so its helpers cannot shadow the solution's.
GENERATE_WRAPPER = """

def _peerprep_generate(n, seed):
    import json as _json
    import random as _random

    namespace = {{"__name__": "generator"}}
    exec(compile({generator!r}, "generator cell", "exec"), namespace)
    args = namespace["generate"](n, _random.Random(seed))
    if isinstance(args, tuple):
        args = list(args)
    if not isinstance(args, list):
        raise TypeError(
            "generate(n, rng) must return the list of arguments for {entry}(), got a "
            + type(args).__name__
        )
    arity = {arity}
    if arity is not None and len(args) != arity:
        raise TypeError(
            "generate(n, rng) returned %d argument(s) but {entry}() takes {arity}" % len(args)
        )
    try:
        same = _json.loads(_json.dumps(args, allow_nan=False)) == args
    except (TypeError, ValueError) as e:
        raise TypeError("generate(n, rng) returned a value that is not JSON: %s" % e) from None
    if not same:
        raise TypeError(
            "generate(n, rng) must return JSON values only (lists, not tuples or sets; "
            "dicts with string keys)"
        )
    return args


def _peerprep_resolve(n, seed):
    import copy as _copy

    args = _peerprep_generate(n, seed)
    return [args, {entry}(*_copy.deepcopy(args))]


def _peerprep_task(kind, n, seed):
    if kind == "resolve":
        return _peerprep_resolve(n, seed)
    _peerprep_generate(n, seed)
    return True
"""


@dataclass
class ValidationResult:
    """Outcome of validating one question: the resolved spec when it passed, and findings."""

    file: str
    spec: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    complexity: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """No errors. ``spec`` is then resolved; otherwise it is as loaded (for reports)."""
        return self.spec is not None and not any(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def entry_arity(source: str, entry_point: str) -> int | None:
    """The number of positional parameters of ``entry_point`` in ``source`` (None: varargs)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            if node.args.vararg:
                return None
            return len(node.args.posonlyargs) + len(node.args.args)
    return None


def _cases_json(report: Any) -> list[dict[str, Any]]:
    data = report.to_json(reveal=True)
    cases: list[dict[str, Any]] = data["cases"] if isinstance(data, dict) else data
    return cases


def _describe_failure(case: dict[str, Any]) -> str:
    reason = case.get("reason") or "failed"
    if reason == "wrong answer":
        expected = _short(case.get("expected"))
        got = _short(case.get("got"))
        return f"wrong answer: expected {expected}, got {got}"
    detail = case.get("error") or (case.get("stderr") if reason == "error" else "") or ""
    detail = str(detail).strip().splitlines()[-1] if str(detail).strip() else ""
    return f"{reason}" + (f": {detail}" if detail else "")


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def run_generators(
    spec: dict[str, Any], grader: GraderLike, found: ProblemList
) -> dict[str, Any]:
    """Check ``generate`` at every complexity size and resolve the generated hidden cases.

    Returns a copy of ``spec`` whose generated hidden cases have
    literal args (from the generator) and expected values (from the reference solution).
    """
    spec = copy.deepcopy(spec)
    complexity = spec.get("complexity") or {}
    sizes = list(complexity.get("sizes") or []) if spec.get("generator") else []
    generated = [(i, c) for i, c in enumerate(spec["hidden_tests"]) if "generate" in c]
    if not sizes and not generated:
        return spec
    # Sizes in one run (generation only); each generated case in a run of its own, so a
    # large case has the grader's whole per-run budget. The grader bounds the parallelism.
    # Generating is the author's work, not the student's: it gets the service's time limit,
    # not the question's (which the solution run below applies to the resolved cases).
    limits = {k: v for k, v in spec["limits"].items() if k != "time_s"}
    source = _with_wrapper(spec)

    async def run(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not cases:
            return []
        report = await grader.run_cases(
            source=source,
            entry_point="_peerprep_task",
            cases=cases,
            checker="exact",
            limits=limits,
        )
        return _cases_json(report)

    size_cases = [{"name": f"n={n}", "args": ["size", n, n], "expected": True} for n in sizes]
    case_runs = [
        [
            {
                "name": c["name"],
                "args": ["resolve", c["generate"]["n"], c["generate"]["seed"]],
                "expected": None,
            }
        ]
        for _, c in generated
    ]
    answers = await asyncio.gather(run(size_cases), *(run(cases) for cases in case_runs))
    results = answers[0] + [r for answer in answers[1:] for r in answer]
    for n, result in zip(sizes, results, strict=False):
        if not result.get("passed"):
            hint = ""
            if result.get("reason") == "time limit":
                hint = (
                    f"; generating every size must fit in one grader run "
                    f"({getattr(grader, 'wall_s', '?')} s, as when a Run measures complexity): "
                    "use smaller sizes or a faster generator"
                )
            found.add(
                f"generate({n}, rng) failed for complexity size {n}: "
                f"{_describe_failure(result)}{hint}",
                cell=_cell(spec, TAG_GENERATOR),
                tag=TAG_GENERATOR,
                field="peerprep.complexity.sizes",
            )
            break
    for (index, case), result in zip(generated, results[len(sizes) :], strict=False):
        got = result.get("got")
        ok_shape = isinstance(got, list) and len(got) == 2 and isinstance(got[0], list)
        if result.get("reason") not in (None, "wrong answer") or not ok_shape:
            found.add(
                f"generating this case (generate({case['generate']['n']}, "
                f"Random({case['generate']['seed']})) then {spec['entry_point']}() on it) "
                f"failed: {_describe_failure(result)}"
                + (
                    f" (over the service's {getattr(grader, 'cpu_s', '?')} s per case: "
                    "make n smaller)"
                    if result.get("reason") == "time limit"
                    else ""
                ),
                cell=_cell(spec, TAG_HIDDEN),
                tag=TAG_HIDDEN,
                field=f"{TAG_HIDDEN}[{index}] {case['name']!r}.generate",
            )
            continue
        pair: list[Any] = got  # type: ignore[assignment]
        spec["hidden_tests"][index] = {
            "name": case["name"],
            "args": pair[0],
            "expected": pair[1],
            "generated": case["generate"],
        }
    return spec


def _with_wrapper(spec: dict[str, Any]) -> str:
    return spec["solution"] + GENERATE_WRAPPER.format(
        generator=spec["generator"] or "",
        entry=spec["entry_point"],
        arity=entry_arity(spec["solution"], spec["entry_point"]),
    )


async def validate_spec(
    spec: dict[str, Any],
    grader: GraderLike,
    *,
    file: str,
    complexity: bool = False,
    check_starter: bool = True,
) -> ValidationResult:
    """Run every check; the result's ``spec`` is resolved (literal hidden cases) when ok."""
    started = time.monotonic()
    found = ProblemList(file)
    for warning in spec.get("warnings", []):
        found.problems.append(
            Problem(
                file,
                warning["message"],
                warning.get("cell"),
                warning.get("tag"),
                warning.get("field"),
                "warning",
            )
        )
    spec = {**spec, "warnings": []}

    resolved = await run_generators(spec, grader, found)
    if found.errors:
        return ValidationResult(file, spec, found.problems, time.monotonic() - started)

    # The reference solution passes everything.
    public = resolved["public_tests"]
    hidden = resolved["hidden_tests"]
    cases = [_plain(c) for c in public + hidden]
    # The solution on everything and the starter on the hidden cases, side by side.
    common = {
        "entry_point": resolved["entry_point"],
        "checker": resolved["checker"],
        "checker_source": resolved.get("checker_source"),
        "limits": resolved["limits"],
    }
    runs = [grader.run_cases(source=resolved["solution"], cases=cases, **common)]
    if check_starter:
        hidden_plain = [_plain(c) for c in hidden]
        runs.append(grader.run_cases(source=resolved["starter"], cases=hidden_plain, **common))
    reports = await asyncio.gather(*runs)
    report = reports[0]
    limit_ms = 1000.0 * float(resolved["limits"]["time_s"])
    slowest: tuple[float, str] = (0.0, "")
    for index, result in enumerate(_cases_json(report)):
        tag, i = (TAG_PUBLIC, index) if index < len(public) else (TAG_HIDDEN, index - len(public))
        name = cases[index]["name"]
        if not result.get("passed"):
            found.add(
                f"the reference solution fails its own test: {_describe_failure(result)}",
                cell=_cell(spec, TAG_SOLUTION),
                tag=TAG_SOLUTION,
                field=f"{tag}[{i}] {name!r}",
            )
        wall = float(result.get("wall_ms") or 0.0)
        if wall > slowest[0]:
            slowest = (wall, f"{tag}[{i}] {name!r}")
    if not found.errors and slowest[0] > 0.5 * limit_ms:
        found.add(
            f"the reference solution takes {slowest[0]:.0f} ms on {slowest[1]}, over half the "
            f"{limit_ms / 1000:g} s limit; correct student solutions may time out: raise "
            "peerprep.limits.time_s or make the case smaller",
            cell=_cell(spec, TAG_SOLUTION),
            tag=TAG_SOLUTION,
            field="peerprep.limits.time_s",
            severity="warning",
        )

    run_budget = getattr(grader, "wall_s", None)
    hidden_ms = sum(float(r.get("wall_ms") or 0.0) for r in _cases_json(report)[len(public) :])
    if (
        not found.errors
        and isinstance(run_budget, (int, float))
        and hidden_ms > 500.0 * float(run_budget)
    ):
        found.add(
            f"the reference solution needs {hidden_ms / 1000:.1f} s for all hidden tests, over "
            f"half the grader's {run_budget:g} s budget for one Submit; make the large cases "
            "smaller or fewer",
            cell=_cell(spec, TAG_HIDDEN),
            tag=TAG_HIDDEN,
            field=TAG_HIDDEN,
            severity="warning",
        )

    # The starter must not already pass the hidden tests.
    starter_passes = check_starter and all(c.get("passed") for c in _cases_json(reports[1]))
    if starter_passes and not found.errors:
        found.add(
            "the starter passes every hidden test; it must fail at least one, or students "
            "are handed the answer (make the starter body `pass` or a stub)",
            cell=_cell(spec, TAG_STARTER),
            tag=TAG_STARTER,
            field="source",
        )

    # Every other language against the same (resolved) cases.
    measured_languages: dict[str, Any] = {}
    if not found.errors:
        measured_languages = await validate_other_languages(
            resolved,
            grader,
            found,
            check_starter=check_starter,
            complexity=complexity,
            describe=_describe_failure,
        )
    measured = None
    if complexity and not found.errors and resolved.get("complexity") and resolved["generator"]:
        block = resolved["complexity"]
        creport = await grader.measure_complexity(
            source=resolved["solution"],
            entry_point=resolved["entry_point"],
            generator=resolved["generator"],
            sizes=block["sizes"],
            expected=block["expected"],
            repeats=block["repeats"],
            limits=resolved["limits"],
        )
        measured = creport.to_json()
        if block["expected"] and not measured.get("matches"):
            found.add(
                f"the reference solution measured {measured.get('estimate')} (confidence "
                f"{measured.get('confidence', 0):.2f}), expected {block['expected']}; check "
                "the sizes or the expected class",
                cell=_cell(spec, TAG_SOLUTION),
                tag=TAG_SOLUTION,
                field="peerprep.complexity.expected",
                severity="warning",
            )

    if measured is not None and not found.errors and measured_languages:
        measured = {**measured, "languages": measured_languages}
    elapsed = time.monotonic() - started
    return ValidationResult(file, resolved, found.problems, elapsed, measured)


def _cell(spec: dict[str, Any], tag: str) -> int | None:
    cells = spec.get("cells") or {}
    index = cells.get(tag)
    return index if isinstance(index, int) else None


def _plain(case: dict[str, Any]) -> dict[str, Any]:
    return {"name": case["name"], "args": case["args"], "expected": case["expected"]}


# The shipped bank's own bar (issue: 3+ public, 8+ hidden with edge cases and a large input,
# examples in the statement, a complexity block); instructors' questions need not meet it.
BANK_MIN_PUBLIC = 3
BANK_MIN_HIDDEN = 8
LARGE_N = 1000
LARGE_JSON_CHARS = 5000


def bank_policy(spec: dict[str, Any], file: str) -> list[Problem]:
    """Problems that keep a question out of the shipped bank (none for a good one)."""
    found = ProblemList(file)
    if len(spec["public_tests"]) < BANK_MIN_PUBLIC:
        found.add(
            f"has {len(spec['public_tests'])} public cases; the bank needs at least "
            f"{BANK_MIN_PUBLIC}",
            cell=_cell(spec, TAG_PUBLIC),
            tag=TAG_PUBLIC,
            field=TAG_PUBLIC,
        )
    if len(spec["hidden_tests"]) < BANK_MIN_HIDDEN:
        found.add(
            f"has {len(spec['hidden_tests'])} hidden cases; the bank needs at least "
            f"{BANK_MIN_HIDDEN}",
            cell=_cell(spec, TAG_HIDDEN),
            tag=TAG_HIDDEN,
            field=TAG_HIDDEN,
        )

    def is_large(case: dict[str, Any]) -> bool:
        if "generate" in case:
            return int(case["generate"]["n"]) >= LARGE_N
        if "generated" in case:
            return int(case["generated"]["n"]) >= LARGE_N
        return len(json.dumps(case.get("args"))) >= LARGE_JSON_CHARS

    if not any(is_large(c) for c in spec["hidden_tests"]):
        found.add(
            f"has no large hidden input (a generated case with n >= {LARGE_N}, or "
            f"args of {LARGE_JSON_CHARS}+ characters)",
            cell=_cell(spec, TAG_HIDDEN),
            tag=TAG_HIDDEN,
            field=TAG_HIDDEN,
        )
    if not spec.get("complexity"):
        found.add("has no complexity block (sizes, expected class)", field="peerprep.complexity")
    if "example" not in spec["prompt"].lower():
        found.add(
            "the statement shows no example (write 'Example' and one worked case)",
            cell=_cell(spec, "prompt"),
            tag="prompt",
            field="source",
        )
    return found.problems
