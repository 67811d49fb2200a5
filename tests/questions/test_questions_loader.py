"""Loading question notebooks: every problem names the file, the cell and the field."""

from __future__ import annotations

import json

import pytest
from question_notebooks import HIDDEN, SOLUTION, build_notebook

from jupyter_peerprep.questions.loader import checksum, load_notebook, load_path
from jupyter_peerprep.questions.otter import convert_path
from jupyter_peerprep.questions.problems import QuestionError
from jupyter_peerprep.questions.student import student_notebook, student_view
from jupyter_peerprep.questions.vocabulary import COMPLEXITY_CLASSES


def problems_of(nb, name="q.ipynb"):
    with pytest.raises(QuestionError) as info:
        load_notebook(nb, name)
    return info.value.problems


def test_good_notebook_loads_into_spec():
    spec = load_notebook(build_notebook(), "q.ipynb")
    assert spec["id"] == "pair-sum-demo"
    assert spec["topics"] == ["arrays", "hash-maps"]
    assert spec["limits"] == {"time_s": 2.0, "memory_mb": 256}
    assert spec["solution"] == SOLUTION
    assert [c["name"] for c in spec["public_tests"]] == ["example", "first two", "negatives"]
    assert spec["hidden_tests"][-1] == {"name": "large", "generate": {"n": 50000, "seed": 7}}
    assert spec["cells"]["solution"] == 4


def test_malformed_json_names_file_line_and_column(write_notebook):
    path = write_notebook('{"cells": [\n  {"cell_type": "code",\n}', "broken.ipynb")
    with pytest.raises(QuestionError) as info:
        load_path(path)
    message = str(info.value)
    assert "broken.ipynb" in message
    assert "not valid notebook JSON" in message and "line 3, column 1" in message


def test_missing_tagged_cell_is_named():
    (problem,) = problems_of(build_notebook(hidden=None))
    assert problem.tag == "hidden-tests" and problem.field == "metadata.tags"
    assert str(problem).startswith("q.ipynb: cell [hidden-tests], field metadata.tags: no cell")


def test_unknown_difficulty_and_topic_are_named():
    problems = problems_of(build_notebook({"difficulty": "tricky", "topics": ["cooking"]}))
    by_field = {p.field: str(p) for p in problems}
    assert "must be one of easy, medium, hard, got 'tricky'" in by_field["peerprep.difficulty"]
    assert "unknown topic(s) 'cooking'" in by_field["peerprep.topics"]
    assert by_field["peerprep.topics"].startswith("q.ipynb: notebook metadata, field peerprep")


def test_case_problems_name_cell_and_case():
    hidden = [*HIDDEN[:1], {"name": "no expected", "args": [[1, 2], 3]}]
    (problem,) = problems_of(build_notebook(hidden=hidden))
    assert problem.cell == 6 and problem.tag == "hidden-tests"
    assert problem.field == "hidden-tests[1] 'no expected'.expected"


def test_bad_json_in_test_cell_names_line():
    (problem,) = problems_of(build_notebook(public='[{"name": "x", "args": [1],}]'))
    assert problem.tag == "public-tests" and problem.cell == 5
    assert "line 1, column" in problem.message


def test_syntax_error_and_missing_entry_point():
    problems = problems_of(
        build_notebook(solution="def pair_sum(nums, target)\n    return []\n", starter="x = 1\n")
    )
    messages = {p.tag: p.message for p in problems}
    assert "not valid Python" in messages["solution"] and "line 1" in messages["solution"]
    assert messages["starter"] == "does not define pair_sum() at the top level"


def test_other_metadata_problems():
    problems = problems_of(
        build_notebook(
            {
                "id": "Pair Sum",
                "limits": {"time_s": 999, "memory_mb": 4},
                "checker": "fuzzy",
                "complexity": {"sizes": [10, 5, 20], "expected": "O(n!)"},
            }
        )
    )
    fields = {p.field for p in problems}
    assert fields >= {
        "peerprep.id",
        "peerprep.limits.time_s",
        "peerprep.limits.memory_mb",
        "peerprep.checker",
        "peerprep.complexity.sizes",
        "peerprep.complexity.expected",
    }


def test_two_cells_with_one_tag_and_generated_public_case():
    nb = build_notebook(public=[{"name": "gen", "generate": {"n": 5, "seed": 1}}])
    nb["cells"].append(dict(nb["cells"][3]))
    problems = problems_of(nb)
    assert any("are all tagged 'solution'" in p.message for p in problems)
    assert any(p.field == "public-tests[0] 'gen'.generate" for p in problems)


def test_checksum_ignores_outputs_and_notes_but_not_code():
    nb = build_notebook()
    base = checksum(load_notebook(nb, "a.ipynb"))
    nb["cells"][0]["source"] = "different notes"
    nb["cells"][3]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi"}]
    assert checksum(load_notebook(nb, "b.ipynb")) == base
    changed = build_notebook(solution=SOLUTION + "\n# tidied\n")
    assert checksum(load_notebook(changed, "a.ipynb")) != base


def test_student_view_and_notebook_hold_no_secret():
    spec = load_notebook(build_notebook(), "q.ipynb")
    view = student_view(spec, version=3)
    notebook = student_notebook(spec, version=3)
    for text in (json.dumps(view), json.dumps(notebook)):
        assert "seen_positions" not in text  # solution
        assert "7391" not in text  # a hidden case
        assert "rng.randint" not in text  # generator
    assert notebook["metadata"]["peerprep"]["version"] == 3
    tests_cell = "".join(notebook["cells"][2]["source"])
    namespace: dict = {}
    exec(compile(SOLUTION + "\n" + tests_cell, "student", "exec"), namespace)


def test_complexity_classes_match_the_grader_estimator():
    from jupyter_peerprep.grader.complexity import MODELS

    assert set(COMPLEXITY_CLASSES) == set(MODELS)


def test_otter_master_notebook_converts_common_subset():
    from pathlib import Path

    path = Path(__file__).parent / "data" / "otter-week3.ipynb"
    running, vowels = convert_path(path, topics=["arrays"])
    assert running.question_id == "otter-week3-running-max"
    assert (running.public, running.hidden) == (3, 2)
    assert running.complete is False  # two tests could not be converted
    notes = "\n".join(running.not_converted)
    assert "test 5 (cell 14)" in notes and "test 6 (cell 15)" in notes
    assert "points: 2" in notes and "code cell 3 outside any question" in notes
    spec = load_notebook(running.notebook, "converted.ipynb")
    assert spec["entry_point"] == "running_max"
    assert "max(best, x)" in spec["solution"] and "# SOLUTION" not in spec["solution"]
    assert "max(best, x)" not in spec["starter"] and "return ..." in spec["starter"]
    assert spec["hidden_tests"][1] == {"name": "test 4.2", "args": [[7]], "expected": [7]}
    assert spec["public_tests"][2]["expected"] == [5, 5]  # from the recorded output

    assert vowels.complete is True and vowels.notebook["metadata"]["peerprep"]["topics"] == [
        "strings"
    ]
    assert load_notebook(vowels.notebook, "v.ipynb")["hidden_tests"][0]["expected"] == 0


def test_otter_notebook_without_questions_is_an_error(write_notebook):
    path = write_notebook(build_notebook(), "plain.ipynb")
    with pytest.raises(QuestionError, match="no otter question"):
        convert_path(path)
