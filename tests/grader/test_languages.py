"""The grader per language (Python, JavaScript, TypeScript) on bwrap: the same cases, limits and
verdicts for each, and measured complexity telling O(n) from O(n^2)."""

from __future__ import annotations

import pytest

from jupyter_peerprep.grader import Grader, GraderInputError

CASES = [
    {"name": "example", "args": [[2, 7, 11, 15], 9], "expected": [0, 1]},
    {"name": "no pair", "args": [[1, 2], 10], "expected": []},
]

SOLUTIONS = {
    "python": {
        "accepted": "def two_sum(nums, target):\n"
        "    seen = {}\n"
        "    for i, x in enumerate(nums):\n"
        "        if target - x in seen:\n"
        "            return [seen[target - x], i]\n"
        "        seen[x] = i\n"
        "    print('no pair')\n"
        "    return []\n",
        "wrong": "def two_sum(nums, target):\n    return [1, 0]\n",
        "raises": "def two_sum(nums, target):\n    raise ValueError('boom')\n",
        "loops": "def two_sum(nums, target):\n    while True:\n        pass\n",
        "hogs": "def two_sum(nums, target):\n    return bytearray(1 << 30)\n",
        "syntax": "def two_sum(nums, target)\n    return []\n",
    },
    "javascript": {
        "accepted": "function two_sum(nums, target) {\n"
        "  const seen = new Map();\n"
        "  for (let i = 0; i < nums.length; i++) {\n"
        "    if (seen.has(target - nums[i])) return [seen.get(target - nums[i]), i];\n"
        "    seen.set(nums[i], i);\n"
        "  }\n"
        "  console.log('no pair');\n"
        "  return [];\n"
        "}\n",
        "wrong": "function two_sum(nums, target) { return [1, 0]; }\n",
        "raises": "function two_sum(nums, target) { throw new Error('boom'); }\n",
        "loops": "function two_sum(nums, target) { while (true) {} }\n",
        "hogs": "function two_sum(nums, target) {\n"
        "  const kept = [];\n"
        "  while (true) kept.push(new Array(100000).fill(target + 0.5));\n"
        "}\n",
        "syntax": "function two_sum(nums, target) { return [ }\n",
    },
    "typescript": {
        "accepted": "function two_sum(nums: number[], target: number): number[] {\n"
        "  const seen = new Map<number, number>();\n"
        "  for (let i = 0; i < nums.length; i++) {\n"
        "    const other: number | undefined = seen.get(target - nums[i]);\n"
        "    if (other !== undefined) return [other, i];\n"
        "    seen.set(nums[i], i);\n"
        "  }\n"
        "  console.log('no pair');\n"
        "  return [];\n"
        "}\n",
        "wrong": "function two_sum(nums: number[], target: number): number[] { return [1, 0]; }\n",
        "raises": "function two_sum(a: number[], t: number): number[] { throw Error('boom') }\n",
        "loops": "function two_sum(nums: number[], target: number): number[] { for (;;) {} }\n",
        "hogs": "function two_sum(nums: number[], target: number): number[] {\n"
        "  const kept: Uint8Array[] = [];\n"
        "  while (true) { const b = new Uint8Array(1 << 26); b.fill(1); kept.push(b); }\n"
        "}\n",
        "syntax": "function two_sum(nums: number[], target: number): number[] { return [ }\n",
    },
}
LANGUAGES = list(SOLUTIONS)


@pytest.fixture
def grader(peerprep_grader) -> Grader:
    return peerprep_grader()


async def grade(grader: Grader, language: str, kind: str, **kwargs: object):
    return await grader.run_cases(
        source=SOLUTIONS[language][kind],
        entry_point="two_sum",
        cases=CASES,
        language=language,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("language", LANGUAGES)
async def test_accepted(grader, language):
    report = await grade(grader, language, "accepted")
    assert report.verdict == "passed", report.to_json(reveal=True)
    no_pair = report.to_json(reveal=True)["cases"][1]
    assert no_pair["got"] == [] and no_pair["stdout"] == "no pair\n"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_wrong_answer(grader, language):
    report = await grade(grader, language, "wrong")
    assert report.verdict == "failed"
    assert [c.reason for c in report.cases] == ["wrong answer", "wrong answer"]
    assert report.cases[0].got == [1, 0]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_runtime_error_shows_the_message(grader, language):
    report = await grade(grader, language, "raises")
    assert [c.reason for c in report.cases] == ["error", "error"]
    assert "boom" in (report.cases[0].error or "")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_syntax_error_is_an_error_verdict(grader, language):
    report = await grade(grader, language, "syntax")
    assert report.verdict == "error"
    assert "solution" in report.message  # the message points into the student's file


@pytest.mark.parametrize("language", LANGUAGES)
async def test_time_limit(grader, language):
    report = await grade(grader, language, "loops", limits={"time_s": 1})
    assert [c.reason for c in report.cases] == ["time limit", "time limit"]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_memory_limit(grader, language):
    report = await grade(grader, language, "hogs", limits={"memory_mb": 128})
    assert [c.reason for c in report.cases] == ["memory limit", "memory limit"]


async def test_javascript_values_become_json_like_python_ones(grader):
    source = (
        "function f(kind) {\n"
        "  if (kind === 'set') return new Set([3, 1, 2]);\n"
        "  if (kind === 'map') return new Map([['a', 1]]);\n"
        "  if (kind === 'nothing') return undefined;\n"
        "  if (kind === 'async') return Promise.resolve(7);\n"
        "  return NaN;\n"
        "}\n"
    )
    cases = [
        {"name": n, "args": [n], "expected": e}
        for n, e in [("set", [1, 2, 3]), ("map", {"a": 1}), ("nothing", None), ("async", 7)]
    ]
    cases.append({"name": "nan", "args": ["nan"], "expected": None})
    report = await grader.run_cases(
        source=source, entry_point="f", cases=cases, language="javascript"
    )
    assert [c.passed for c in report.cases] == [True, True, True, True, False]
    assert "not JSON" in (report.cases[4].error or "")


async def test_a_missing_entry_point_is_named(grader):
    report = await grader.run_cases(
        source="function other() { return 1; }",
        entry_point="two_sum",
        cases=CASES,
        language="typescript",
    )
    assert report.verdict == "error"
    assert "no function named 'two_sum'" in report.message


async def test_an_unknown_language_is_refused_with_the_known_ones(grader):
    with pytest.raises(GraderInputError, match="python, javascript, typescript"):
        await grader.run_cases(source="", entry_point="f", cases=CASES, language="cobol")


GENERATOR = "def generate(n, rng):\n    return [[rng.randint(0, 9) for _ in range(n)]]\n"
GROWTH = {
    "javascript": (
        "function f(a) { let s = 0; for (const x of a) s = (s * 31 + x) % 1000003; return s; }",
        "function f(a) { let s = 0;\n"
        "  for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++)\n"
        "    if (a[i] === a[j]) s++;\n"
        "  return s; }",
    ),
    "typescript": (
        "function f(a: number[]): number {\n"
        "  let s = 0;\n"
        "  for (const x of a) s = (s * 31 + x) % 1000003;\n"
        "  return s;\n"
        "}",
        "function f(a: number[]): number { let s = 0;\n"
        "  for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++)\n"
        "    if (a[i] === a[j]) s++;\n"
        "  return s; }",
    ),
}


@pytest.mark.parametrize("language", list(GROWTH))
async def test_complexity_tells_linear_from_quadratic(grader, language):
    linear, quadratic = GROWTH[language]
    estimates = []
    for source in (linear, quadratic):
        report = await grader.measure_complexity(
            source=source,
            entry_point="f",
            generator=GENERATOR,
            # V8's calls are fast: sizes (and a linear body) large enough that the smallest
            # call is well above what timing itself costs.
            sizes=[2000, 4000, 8000, 16000],
            expected="O(n)",
            language=language,
        )
        estimates.append(report.estimate)
    assert estimates == ["O(n)", "O(n^2)"]


@pytest.mark.container
@pytest.mark.parametrize("language", ["javascript", "typescript"])
async def test_docker_backend_grades_deno_languages_alike(
    peerprep_grader, container_engine, language
):
    grader = peerprep_grader(backend="docker")
    accepted = await grade(grader, language, "accepted")
    hogs = await grade(grader, language, "hogs", limits={"memory_mb": 128})
    assert accepted.verdict == "passed", accepted.to_json(reveal=True)
    assert [c.reason for c in hogs.cases] == ["memory limit", "memory limit"]
