"""Questions in JavaScript and TypeScript: starter:<language>/solution:<language> cells, one set
of JSON cases for every language, validated in the real sandbox; the student notebook of a
JavaScript room has the JavaScript starter and the Deno kernel."""

from __future__ import annotations

import json

import pytest
from question_notebooks import build_notebook, cell

from jupyter_peerprep.grader import Grader
from jupyter_peerprep.questions.loader import load_notebook
from jupyter_peerprep.questions.problems import QuestionError
from jupyter_peerprep.questions.student import student_notebook, student_view
from jupyter_peerprep.questions.validate import validate_spec

JS_STARTER = "function pair_sum(nums, target) {\n  return [];\n}\n"
JS_SOLUTION = (
    "function pair_sum(nums, target) {\n"
    "  const seen = new Map();\n"
    "  for (let i = 0; i < nums.length; i++) {\n"
    "    if (seen.has(target - nums[i])) return [seen.get(target - nums[i]), i];\n"
    "    seen.set(nums[i], i);\n"
    "  }\n"
    "  return [];\n"
    "}\n"
)
TS_STARTER = "function pair_sum(nums: number[], target: number): number[] {\n  return [];\n}\n"
TS_SOLUTION = (
    "function pair_sum(nums: number[], target: number): number[] {\n"
    "  const seen = new Map<number, number>();\n"
    "  for (let i = 0; i < nums.length; i++) {\n"
    "    const j = seen.get(target - nums[i]);\n"
    "    if (j !== undefined) return [j, i];\n"
    "    seen.set(nums[i], i);\n"
    "  }\n"
    "  return [];\n"
    "}\n"
)


def with_languages(nb: dict, **cells: str) -> dict:
    """``nb`` plus a code cell per ``kind_language=source`` (e.g. starter_javascript=...)."""
    for key, source in cells.items():
        kind, language = key.split("_", 1)
        nb["cells"].append(cell("code", source, f"{kind}:{language}"))
    return nb


def multilingual(**overrides: str) -> dict:
    sources = {
        "starter_javascript": JS_STARTER,
        "solution_javascript": JS_SOLUTION,
        "starter_typescript": TS_STARTER,
        "solution_typescript": TS_SOLUTION,
    }
    sources.update(overrides)
    return with_languages(build_notebook(), **sources)


def test_language_cells_are_loaded_and_a_python_only_checksum_is_unchanged():
    spec = load_notebook(multilingual(), "q.ipynb")
    assert spec["languages"]["typescript"] == {"starter": TS_STARTER, "solution": TS_SOLUTION}
    assert "languages" not in load_notebook(build_notebook(), "q.ipynb")


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"starter_cobol": "x", "solution_cobol": "y"}, "tag 'starter:cobol' names no language"),
        ({"starter_javascript": JS_STARTER}, "none 'solution:javascript'"),
        (
            {"starter_javascript": JS_STARTER, "solution_javascript": "function other() {}"},
            "does not define pair_sum",
        ),
        (
            {"starter_javascript": JS_SOLUTION, "solution_javascript": JS_SOLUTION},
            "identical to the solution",
        ),
    ],
)
def test_bad_language_cells_are_named(cells, message):
    with pytest.raises(QuestionError) as raised:
        load_notebook(with_languages(build_notebook(), **cells), "q.ipynb")
    assert message in str(raised.value)


def test_the_base_cells_stay_python():
    with pytest.raises(QuestionError, match="starter:javascript and solution:javascript"):
        load_notebook(build_notebook({"language": "javascript"}), "q.ipynb")


@pytest.mark.slow
async def test_every_language_runs_every_case_in_the_sandbox():
    grader = Grader()
    good = await validate_spec(load_notebook(multilingual(), "q.ipynb"), grader, file="q.ipynb")
    assert good.ok, [str(p) for p in good.problems]

    # A wrong TypeScript solution fails on the generated (large) hidden case the Python
    # reference resolved; a JavaScript starter that already solves it is refused.
    wrong_ts = TS_SOLUTION.replace("if (j !== undefined)", "if (j !== undefined && i < 40000)")
    bad = await validate_spec(
        load_notebook(
            multilingual(
                solution_typescript=wrong_ts, starter_javascript="// solved\n" + JS_SOLUTION
            ),
            "q.ipynb",
        ),
        grader,
        file="q.ipynb",
    )
    messages = [str(p) for p in bad.problems if p.severity == "error"]
    assert any(
        "[solution:typescript]" in m and "'large'" in m and "wrong answer" in m for m in messages
    ), messages
    assert any("[starter:javascript]" in m and "passes every hidden test" in m for m in messages)


def test_a_javascript_room_gets_the_javascript_starter_and_the_deno_kernel():
    spec = load_notebook(multilingual(), "q.ipynb")
    view = student_view(spec, version=1, language="javascript")
    assert view["starter"] == JS_STARTER and view["language"] == "javascript"
    assert view["languages"] == ["python", "javascript", "typescript"]
    nb = student_notebook(spec, version=1, language="javascript")
    assert nb["metadata"]["kernelspec"]["name"] == "peerprep-deno"
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert sources[1] == JS_STARTER
    assert "PUBLIC_TESTS" in sources[2] and JS_SOLUTION not in json.dumps(nb)
    # A language the question lacks falls back to its base language.
    python_nb = student_notebook(spec, version=1, language="rust")
    assert python_nb["metadata"]["kernelspec"]["name"] == "peerprep-python"


def test_at_least_twenty_shipped_questions_come_in_javascript_and_typescript():
    from jupyter_peerprep.questions.bank import bank_notebooks, default_bank_dir

    bank = default_bank_dir()
    assert bank is not None
    both = [
        path.stem
        for path in bank_notebooks([bank])
        if {"javascript", "typescript"}
        <= set(load_notebook(json.loads(path.read_text()), path.name).get("languages", {}))
    ]
    # test_question_bank.py validates each of them in the sandbox, in every language.
    assert len(both) >= 20, both
