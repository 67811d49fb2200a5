"""Validation runs the question's code in the real grader sandbox (bwrap); the CLI reports it.

Each broken notebook must give a precise message (file, cell, field) and a non-zero exit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from question_notebooks import SOLUTION, build_notebook, run_cli

from jupyter_peerprep.grader import Grader
from jupyter_peerprep.questions.bank import QuestionBank
from jupyter_peerprep.questions.loader import load_notebook
from jupyter_peerprep.questions.validate import validate_spec

pytestmark = pytest.mark.slow


@pytest.fixture
def grader():
    return Grader()


async def validate(nb, grader, name="q.ipynb", **kwargs):
    return await validate_spec(load_notebook(nb, name), grader, file=name, **kwargs)


async def test_good_question_validates_and_generated_case_is_resolved(grader):
    result = await validate(build_notebook(), grader)
    assert result.ok, [str(p) for p in result.problems]
    large = result.spec["hidden_tests"][-1]
    assert len(large["args"][0]) == 50000 and large["args"][1] == 4
    assert large["expected"] == [49998, 49999]
    assert large["generated"] == {"n": 50000, "seed": 7}


async def test_solution_failing_its_own_test_names_solution_cell_and_case(grader):
    wrong = SOLUTION.replace("return [seen_positions[target - value], index]", "return [0, 1]")
    result = await validate(build_notebook(solution=wrong), grader)
    assert not result.ok
    texts = [str(p) for p in result.problems]
    assert (
        "q.ipynb: cell 4 [solution], field public-tests[0] 'example': the reference solution "
        "fails its own test: wrong answer: expected [1, 2], got [0, 1]"
    ) in texts
    assert any("hidden-tests[2] 'pair at the ends'" in t for t in texts)


async def test_generator_that_raises_names_generator_cell(grader):
    broken = "def generate(n, rng):\n    raise ValueError('no inputs today')\n"
    result = await validate(build_notebook(generator=broken), grader)
    assert not result.ok
    text = "\n".join(str(p) for p in result.problems)
    assert "cell 7 [generator], field peerprep.complexity.sizes: generate(2000, rng) failed" in text
    assert "ValueError: no inputs today" in text
    assert "field hidden-tests[3] 'large'.generate" in text


async def test_generator_returning_wrong_shape_is_explained(grader):
    tuples = "def generate(n, rng):\n    return [(1, 2), 3]\n"
    result = await validate(build_notebook(generator=tuples), grader)
    assert any("JSON values only" in p.message for p in result.problems)
    arity = "def generate(n, rng):\n    return [[1, 2]]\n"
    result = await validate(build_notebook(generator=arity), grader)
    assert any(
        "returned 1 argument(s) but pair_sum() takes 2" in p.message for p in result.problems
    )


async def test_starter_that_passes_hidden_tests_is_rejected(grader):
    # Identical starter and solution is caught by the loader; a disguised copy by the grader.
    disguised = SOLUTION.replace("seen_positions", "seen")
    result = await validate(build_notebook(starter=disguised), grader)
    assert not result.ok
    (problem,) = [p for p in result.problems if p.severity == "error"]
    assert problem.tag == "starter" and "passes every hidden test" in problem.message


async def test_custom_checker_accepts_any_valid_answer(grader):
    checker = (
        "def check(args, expected, got):\n"
        "    nums, target = args\n"
        "    i, j = got\n"
        "    return i < j and nums[i] + nums[j] == target\n"
    )
    reversed_solution = SOLUTION.replace(
        "[seen_positions[target - value], index]", "sorted([index, seen_positions[target - value]])"
    )
    nb = build_notebook({"checker": "custom"}, solution=reversed_solution, checker_source=checker)
    result = await validate(nb, grader)
    assert result.ok, [str(p) for p in result.problems]
    assert result.spec["checker_source"] == checker


def test_cli_validate_exit_codes_and_table(tmp_path, write_notebook):
    good = write_notebook(build_notebook(), "good.ipynb")
    bad_topic = write_notebook(build_notebook({"id": "t2", "topics": ["cooking"]}), "topic.ipynb")
    malformed = write_notebook("{ not json", "malformed.ipynb")
    no_hidden = write_notebook(build_notebook({"id": "t3"}, hidden=None), "nohidden.ipynb")
    wrong = write_notebook(
        build_notebook({"id": "t4"}, solution=SOLUTION.replace("index]", "index + 1]")),
        "wrong.ipynb",
    )
    raising = write_notebook(
        build_notebook({"id": "t5"}, generator="def generate(n, rng):\n    1 / 0\n"),
        "raising.ipynb",
    )

    ok = run_cli("validate", str(good))
    assert ok.returncode == 0, ok.stderr
    assert (
        "good.ipynb" in ok.stdout
        and "pair-sum-demo" in ok.stdout
        and "1 valid, 0 invalid" in ok.stdout
    )

    expectations = {
        bad_topic: "field peerprep.topics: unknown topic(s) 'cooking'",
        malformed: "malformed.ipynb: notebook: is not valid notebook JSON: Expecting property "
        "name enclosed in double quotes at line 1, column 3",
        no_hidden: "cell [hidden-tests], field metadata.tags: no cell is tagged 'hidden-tests'",
        wrong: "cell 4 [solution], field public-tests[0] 'example': the reference solution "
        "fails its own test: wrong answer",
        raising: "cell 7 [generator], field peerprep.complexity.sizes: generate(2000, rng) "
        "failed for complexity size 2000: error: ZeroDivisionError",
    }
    for path, message in expectations.items():
        result = run_cli("validate", str(path))
        assert result.returncode == 1, (path, result.stdout, result.stderr)
        assert message in result.stderr, (path, result.stderr)
        assert "INVALID" in result.stdout

    both = run_cli("validate", str(good), str(wrong))
    assert both.returncode == 1 and "1 valid, 1 invalid" in both.stdout

    assert run_cli("validate").returncode == 2
    missing = run_cli("validate", str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_cli_publish_list_export_and_failed_publish_keeps_version(tmp_path, write_notebook):
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    first = write_notebook(build_notebook(), "pair.ipynb")
    published = run_cli("publish", str(first), f"--db-url={db}", "--user=ines")
    assert published.returncode == 0, published.stderr
    assert "created" in published.stdout

    again = run_cli("publish", str(first), f"--db-url={db}")
    assert again.returncode == 0 and "unchanged" in again.stdout

    broken = write_notebook(
        build_notebook({"title": "Broken"}, solution=SOLUTION.replace("index]", "index + 1]")),
        "pair.ipynb",
    )
    failed = run_cli("publish", str(broken), f"--db-url={db}")
    assert failed.returncode == 1 and "invalid" in failed.stdout

    listed = run_cli("list", f"--db-url={db}")
    assert listed.returncode == 0
    line = next(ln for ln in listed.stdout.splitlines() if ln.startswith("pair-sum-demo"))
    assert "Pair Sum (demo)" in line and line.split()[-1] == "1"  # still version 1

    out = tmp_path / "export"
    exported = run_cli("export", "pair-sum-demo", f"--db-url={db}", f"--output={out}")
    assert exported.returncode == 0, exported.stderr
    notebook = json.loads((out / "pair-sum-demo.ipynb").read_text())
    assert notebook["metadata"]["peerprep"]["title"] == "Pair Sum (demo)"
    student = run_cli("export", "pair-sum-demo", "--student", f"--db-url={db}", f"--output={out}")
    assert student.returncode == 0
    text = (out / "pair-sum-demo.student.ipynb").read_text()
    assert "seen_positions" not in text and "7391" not in text

    unknown = run_cli("export", "no-such-question", f"--db-url={db}", f"--output={out}")
    assert unknown.returncode == 2 and "No question 'no-such-question'" in unknown.stderr


def test_cli_import_otter_reports_what_was_not_converted(tmp_path):
    source = Path(__file__).parent / "data" / "otter-week3.ipynb"
    result = run_cli("import-otter", str(source), "--topics=arrays", f"--output={tmp_path}")
    assert result.returncode == 1  # partly converted
    assert "PARTIAL" in result.stdout and "otter-week3-vowels" in result.stdout
    assert "not converted: test 5 (cell 14)" in result.stderr
    validated = run_cli("validate", str(tmp_path))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "2 valid, 0 invalid" in validated.stdout


async def test_bank_load_is_idempotent_and_respects_retired(tmp_path, make_service, write_notebook):
    from jupyter_peerprep.questions import store

    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "pair.ipynb").write_text(json.dumps(build_notebook()))
    (folder / "broken.ipynb").write_text(json.dumps(build_notebook({"id": "x", "topics": []})))
    service, _ = await make_service()
    bank = QuestionBank(parent=service, bank_dirs=[str(folder)])
    outcomes = await bank.load(service.session_factory, service.grader)
    assert sorted(o.action for o in outcomes) == ["created", "invalid"]

    again = await bank.load(service.session_factory, service.grader)
    assert sorted(o.action for o in again) == ["invalid", "unchanged"]
    assert max(o.seconds for o in again if o.ok) < 1.0  # no grader run for unchanged content

    store.retire(service.session_factory, "pair-sum-demo")
    third = await bank.load(service.session_factory, service.grader)
    assert "retired" in [o.action for o in third]
    assert store.get(service.session_factory, "pair-sum-demo").retired is True
