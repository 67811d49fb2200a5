"""Grader.run_cases on the default (bwrap) backend: verdicts a student would see."""

from __future__ import annotations

import pytest

from jupyter_peerprep.grader import Grader, GraderInputError

TWO_SUM = """
def two_sum(nums, target):
    seen = {}
    for i, x in enumerate(nums):
        if target - x in seen:
            return [seen[target - x], i]
        seen[x] = i
    print("no pair in", len(nums), "numbers")
    return []
"""

CASES = [
    {"name": "example", "args": [[2, 7, 11, 15], 9], "expected": [0, 1]},
    {"name": "no pair", "args": [[1, 2], 10], "expected": []},
    {"name": "duplicates", "args": [[3, 3], 6], "expected": [0, 1]},
]


@pytest.fixture
def grader(peerprep_grader) -> Grader:
    return peerprep_grader()


async def test_correct_solution_passes_every_case(grader):
    report = await grader.run_cases(source=TWO_SUM, entry_point="two_sum", cases=CASES)
    assert report.verdict == "passed"
    assert (report.passed, report.total) == (3, 3)
    public = report.to_json(reveal=True)
    no_pair = public["cases"][1]
    assert no_pair["got"] == [] and no_pair["expected"] == []
    assert no_pair["stdout"] == "no pair in 2 numbers\n"
    assert no_pair["wall_ms"] > 0 and no_pair["peak_kb"] > 0


async def test_wrong_answer_is_reported_per_case(grader):
    wrong = TWO_SUM.replace("[seen[target - x], i]", "[i, seen[target - x]]")
    report = await grader.run_cases(source=wrong, entry_point="two_sum", cases=CASES)
    assert report.verdict == "failed"
    assert [c.reason for c in report.cases] == ["wrong answer", None, "wrong answer"]
    assert report.cases[0].got == [1, 0]


async def test_hidden_report_says_only_name_pass_and_reason(grader):
    source = "def f(x):\n    print('secret', x)\n    return x + 1\n"
    cases = [{"name": "hidden 1", "args": [41], "expected": 0}]
    report = await grader.run_cases(source=source, entry_point="f", cases=cases)
    hidden = report.to_json(reveal=False)
    assert hidden["cases"] == [{"name": "hidden 1", "passed": False, "reason": "wrong answer"}]
    assert "41" not in str(hidden) and "secret" not in str(hidden)


async def test_exception_shows_traceback_on_run(grader):
    source = "def f(xs):\n    return xs[10]\n"
    report = await grader.run_cases(
        source=source, entry_point="f", cases=[{"name": "short", "args": [[1]], "expected": 1}]
    )
    case = report.to_json(reveal=True)["cases"][0]
    assert case["reason"] == "error"
    assert "IndexError" in case["error"] and 'File "solution.py", line 2' in case["error"]
    assert "harness" not in case["error"]


async def test_syntax_error_is_an_error_verdict_with_message(grader):
    report = await grader.run_cases(source="def f(:\n", entry_point="f", cases=CASES)
    assert report.verdict == "error"
    assert all(c.reason == "error" for c in report.cases)
    assert "SyntaxError" in report.to_json(reveal=True)["message"]
    assert "SyntaxError" not in report.to_json(reveal=False)["message"]


async def test_missing_entry_point(grader):
    report = await grader.run_cases(source="def g():\n    pass\n", entry_point="f", cases=CASES)
    assert report.verdict == "error"
    assert "no function named 'f'" in report.message


async def test_non_json_return_value_is_wrong_answer(grader):
    report = await grader.run_cases(
        source="def f():\n    return 1j\n",
        entry_point="f",
        cases=[{"name": "complex", "args": [], "expected": [0, 1]}],
    )
    case = report.cases[0]
    assert case.reason == "wrong answer" and "not JSON" in (case.error or "")
    assert case.got == "1j"


async def test_a_returned_set_is_graded_as_a_list(grader):
    # otter's sieve(n) returns a set; imported questions check it with `unordered`.
    report = await grader.run_cases(
        source="def f():\n    return {3, 1, 2}\n",
        entry_point="f",
        cases=[{"name": "set", "args": [], "expected": [2, 3, 1]}],
        checker="unordered",
    )
    assert report.cases[0].passed


@pytest.mark.parametrize(
    ("checker", "expected", "got", "passed"),
    [
        ("exact", [1, 2], [1, 2], True),
        ("exact", True, 1, False),
        ("exact", 2, 2.0, True),
        ("unordered", [[1, 2], [3]], [[3], [1, 2]], True),
        ("unordered", [1, 1, 2], [1, 2, 2], False),
        ("float:1e-6", [0.1, 0.2], [0.1000000001, 0.2], True),
        ("float:1e-6", 0.3, 0.31, False),
    ],
)
async def test_builtin_checkers(grader, checker, expected, got, passed):
    report = await grader.run_cases(
        source="def f(v):\n    return v\n",
        entry_point="f",
        cases=[{"name": "c", "args": [got], "expected": expected}],
        checker=checker,
    )
    assert report.cases[0].passed is passed


async def test_custom_checker_runs_instructor_code(grader):
    checker = "def check(args, expected, got):\n    return sorted(got) == sorted(expected)\n"
    report = await grader.run_cases(
        source="def f(xs):\n    return list(reversed(xs))\n",
        entry_point="f",
        cases=[
            {"name": "any order", "args": [[1, 2, 3]], "expected": [3, 1, 2]},
            {"name": "wrong", "args": [[1, 2]], "expected": [1, 5]},
        ],
        checker="custom",
        checker_source=checker,
    )
    assert [c.passed for c in report.cases] == [True, False]
    assert report.cases[1].reason == "wrong answer"


async def test_broken_custom_checker_fails_the_case_not_the_service(grader):
    report = await grader.run_cases(
        source="def f():\n    return 1\n",
        entry_point="f",
        cases=[{"name": "c", "args": [], "expected": 1}],
        checker="custom",
        checker_source="def check(args, expected, got):\n    raise ValueError('oops')\n",
    )
    assert report.cases[0].passed is False and report.cases[0].reason == "error"


async def test_question_limits_tighten_but_never_loosen(grader):
    limits = grader.run_limits({"time_s": 1, "memory_mb": 10_000}, wall_s=grader.wall_s)
    assert limits.cpu_s == 1 and limits.memory_mb == grader.memory_mb
    with pytest.raises(GraderInputError, match="unknown limit 'cpu'"):
        grader.run_limits({"cpu": 1}, wall_s=1)
    with pytest.raises(GraderInputError, match="positive number"):
        grader.run_limits({"time_s": -1}, wall_s=1)


async def test_bad_requests_name_the_problem(grader):
    with pytest.raises(GraderInputError, match="unknown checker 'fuzzy'"):
        await grader.run_cases(source="", entry_point="f", cases=[], checker="fuzzy")
    with pytest.raises(GraderInputError, match="case 0 has no 'args' list"):
        await grader.run_cases(source="", entry_point="f", cases=[{"expected": 1}])
    with pytest.raises(GraderInputError, match="identifier"):
        await grader.run_cases(source="", entry_point="f()", cases=[])
