"""Importing otter-grader and nbgrader notebooks: what converts, and that it validates.

The notebooks in data/ (otter-v1-functions, otter-v0-tests, nbgrader-source) are written for
these tests in each tool's documented format. Real notebooks from otter-grader's and nbgrader's
own repositories go in data/upstream/ (see data/upstream/README.md); the last test converts and
validates them when they are there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from question_notebooks import run_cli

from jupyter_peerprep.questions import nbgrader, otter
from jupyter_peerprep.questions.loader import load_notebook
from jupyter_peerprep.questions.problems import QuestionError
from jupyter_peerprep.questions.student import student_notebook

DATA = Path(__file__).parent / "data"
# Where the real notebooks may be: copied into the repository, or in the project's shared
# data folder beside the checkout (as CI lays it out), see data/upstream/README.md.
UPSTREAM = [DATA / "upstream", Path(__file__).parents[3] / "shared" / "data" / "otter-nbgrader"]


def by_id(conversions):
    return {c.question_id: c for c in conversions}


def test_otter_v1_test_functions_hidden_configs_sets_and_floats():
    got = by_id(otter.convert_path(DATA / "otter-v1-functions.ipynb", topics=["math"]))
    digits = load_notebook(got["otter-v1-functions-digits"].notebook, "d.ipynb")
    # Two asserts in `def test_small(digits):`, the `# IGNORE` call left out; a set -> unordered.
    assert digits["checker"] == "unordered"
    assert digits["public_tests"] == [
        {"name": "test_small.1", "args": [0], "expected": [0]},
        {"name": "test_small.2", "args": [1231], "expected": [1, 2, 3]},
    ]
    assert digits["hidden_tests"][0]["expected"] == list(range(10))  # `# HIDDEN`
    assert "return ..." not in digits["starter"] and "..." in digits["starter"]

    min_max = got["otter-v1-functions-min-max"]
    spec = load_notebook(min_max.notebook, "m.ipynb")
    assert spec["checker"] == "exact" and spec["public_tests"][0]["expected"] == [1, 3]
    assert spec["hidden_tests"] == [  # `hidden: true` in the TEST CONFIG block
        {"name": "test_negative", "args": [[-4, 7, -9]], "expected": [-9, 7]}
    ]
    assert min_max.complete is False  # `len(min_max(...)) == 2` is listed, not dropped silently
    assert any("len(min_max([1, 2])) == 2" in n for n in min_max.not_converted)

    hyp = load_notebook(got["otter-v1-functions-hypot"].notebook, "h.ipynb")
    assert hyp["checker"] == "float:1e-05"  # np.isclose and math.isclose
    assert hyp["solution"].startswith("import math")  # the setup import the solution uses
    assert (len(hyp["public_tests"]), len(hyp["hidden_tests"])) == (2, 1)


def test_otter_v0_test_cells_use_recorded_outputs():
    q1, q2 = otter.convert_path(DATA / "otter-v0-tests.ipynb", topics=["math"])
    spec = load_notebook(q1.notebook, "q1.ipynb")
    assert spec["public_tests"] == [
        {"name": "test 1", "args": [2], "expected": 4},
        {"name": "test 2", "args": [-1], "expected": -2},
    ]
    assert spec["hidden_tests"] == [{"name": "test 3", "args": [21], "expected": 42}]
    assert any("isinstance(double(1), int)" in n for n in q1.not_converted)
    assert q2.complete is False and any("no function" in n for n in q2.not_converted)


def test_nbgrader_solutions_starters_hidden_tests_and_helpers():
    triangles, total = nbgrader.convert_path(DATA / "nbgrader-source.ipynb", topics=["math"])
    spec = load_notebook(triangles.notebook, "t.ipynb")
    assert spec["title"] == "Part A (2 points)"  # the heading after nbgrader's --- rule
    assert "raise NotImplementedError()" in spec["starter"] and "k + 1" not in spec["starter"]
    assert "k * (k + 1) // 2" in spec["solution"] and "BEGIN SOLUTION" not in spec["solution"]
    assert [c["args"] for c in spec["public_tests"]] == [[1], [4]]
    assert spec["hidden_tests"] == [
        {"name": "correct_triangles hidden", "args": [6], "expected": [1, 3, 6, 10, 15, 21]}
    ]
    assert any("expects an exception" in n for n in triangles.not_converted)

    spec = load_notebook(total.notebook, "s.ipynb")  # nose's assert_equal
    assert [c["expected"] for c in spec["public_tests"] + spec["hidden_tests"]] == [1, 10, 220]
    # sum_of_triangles calls triangles: its solution comes along, in the starter too.
    assert "def triangles" in spec["solution"] and "def triangles" in spec["starter"]
    assert any("manually graded written answer" in n for n in total.not_converted)


def test_otter_delimiters_in_rendered_raw_cells_and_markdown_fences(tmp_path):
    def cell(kind, text):
        return {"cell_type": kind, "metadata": {}, "source": text}

    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            # otter's docs keep some raw cells as rendered HTML; a markdown fence also works.
            cell("raw", '<div class="x"><pre>\n# BEGIN QUESTION\nname: inc\n</pre></div>'),
            cell("markdown", "Add one. Example: `inc(1)` is `2`."),
            cell("code", "def inc(x):\n    return x + 1 # SOLUTION"),
            cell("markdown", "```otter\n# BEGIN TESTS\n```"),
            cell("code", "assert inc(1) == 2"),
            cell("code", "# HIDDEN\nassert inc(-1) == 0"),
            cell("raw", "<pre>\n# END TESTS\n</pre>"),
            cell("raw", "# END QUESTION"),
        ],
    }
    path = tmp_path / "rendered.ipynb"
    path.write_text(json.dumps(nb))
    (inc,) = otter.convert_path(path, topics=["math"])
    assert (inc.question_id, inc.public, inc.hidden, inc.complete) == ("rendered-inc", 1, 1, True)


def test_a_set_result_passes_the_students_local_check(capsys):
    (digits,) = [
        c
        for c in otter.convert_path(DATA / "otter-v1-functions.ipynb", topics=["math"])
        if c.question_id.endswith("digits")
    ]
    student = student_notebook(load_notebook(digits.notebook, "d.ipynb"), version=1)
    check = "".join(student["cells"][2]["source"])
    namespace: dict[str, object] = {}
    exec("def digits(n):\n    return set(map(int, str(n)))\n" + check, namespace)
    printed = capsys.readouterr().out  # what the student sees when running the tests cell
    assert "PASS   test_small.1" in printed and "PASS   test_small.2" in printed
    assert "FAIL" not in printed and "ERROR" not in printed


def test_cli_imports_and_the_sandbox_validates_what_converted(tmp_path):
    out = tmp_path / "converted"
    otter_run = run_cli(
        "import-otter",
        str(DATA / "otter-v1-functions.ipynb"),
        str(DATA / "otter-v0-tests.ipynb"),
        "--topics=math",
        f"--output={out}",
    )
    assert otter_run.returncode == 1  # partly converted: what was left out is listed
    assert "not converted: test 4 (cell 7)" in otter_run.stderr
    nbgrader_run = run_cli(
        "import-nbgrader", str(DATA / "nbgrader-source.ipynb"), "--topics=math", f"--output={out}"
    )
    assert "nbgrader-source-sum-of-triangles  ok" in nbgrader_run.stdout
    (out / "otter-v0-tests-q2.ipynb").unlink()  # a variable, not a function: cannot validate
    validated = run_cli("validate", str(out))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "6 valid, 0 invalid" in validated.stdout


def test_bad_input_gets_a_message_naming_what_is_wrong(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    with pytest.raises(QuestionError, match="not valid notebook JSON"):
        nbgrader.convert_path(broken)
    with pytest.raises(QuestionError, match=r"no nbgrader cell.*use import-otter"):
        nbgrader.convert_path(DATA / "otter-v1-functions.ipynb")
    with pytest.raises(QuestionError, match=r"no otter question.*use import-nbgrader"):
        otter.convert_path(DATA / "nbgrader-source.ipynb")
    released = json.loads((DATA / "nbgrader-source.ipynb").read_text())
    for cell in released["cells"]:
        text = "".join(cell["source"])
        cell["source"] = text.split("### BEGIN SOLUTION")[0] + "raise NotImplementedError()"
    (tmp_path / "released.ipynb").write_text(json.dumps(released))
    result = run_cli("import-nbgrader", str(tmp_path / "released.ipynb"), f"--output={tmp_path}")
    assert result.returncode == 1 and "FAILED" in result.stdout
    assert "released (student) version; import the source version" in result.stderr


# Real notebooks from the tools' repositories: file -> {question id suffix: (public, hidden)}
# for every function-style question, each with all its tests.
UPSTREAM_FIGURES = {
    "otter/assign-full-example-v1.ipynb": {"q1": (3, 2), "q4": (3, 2), "q5": (4, 2)},
    "otter/assign-code-question-v1.ipynb": {"q1": (3, 2)},
    "otter/demo.ipynb": {"q1": (2, 1)},
    "nbgrader/problem1.ipynb": {"squares": (3, 1), "sum-of-squares": (3, 1)},
}


@pytest.mark.parametrize("name", sorted(UPSTREAM_FIGURES))
def test_upstream_notebooks_convert_and_validate(name, tmp_path):
    path = next((folder / name for folder in UPSTREAM if (folder / name).exists()), None)
    if path is None:
        pytest.skip(f"{name} is in none of {UPSTREAM} (see data/upstream/README.md)")
    command = "import-otter" if name.startswith("otter/") else "import-nbgrader"
    run = run_cli(command, str(path), "--topics=math", "--hide-last", f"--output={tmp_path}")
    assert "FAILED" not in run.stdout, run.stderr
    for suffix, (public, hidden) in UPSTREAM_FIGURES[name].items():
        qid = f"{path.stem}-{suffix}"
        spec = load_notebook(json.loads((tmp_path / f"{qid}.ipynb").read_text()), qid)
        assert (len(spec["public_tests"]), len(spec["hidden_tests"])) == (public, hidden)
        validated = run_cli("validate", str(tmp_path / f"{qid}.ipynb"))
        assert validated.returncode == 0, validated.stdout + validated.stderr
