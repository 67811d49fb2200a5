"""Languages in the service database: the lobby's counts per language and the questions a
JavaScript pair can be given (real SQLite database, migrated)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from jupyter_client.kernelspec import KernelSpecManager
from question_notebooks import build_notebook, cell

from jupyter_peerprep import db
from jupyter_peerprep.hub.room_language import in_language, offered_languages
from jupyter_peerprep.questions import store
from jupyter_peerprep.questions.loader import checksum, load_notebook

JS = "function pair_sum(nums, target) {\n  return [];\n}\n"


def spec_of(qid: str, *, javascript: bool) -> dict:
    nb = build_notebook({"id": qid})
    if javascript:
        nb["cells"].append(cell("code", JS, "starter:javascript"))
        nb["cells"].append(cell("code", JS.replace("[]", "[0, 1]"), "solution:javascript"))
    return load_notebook(nb, f"{qid}.ipynb")


def test_counts_per_language_and_questions_a_javascript_pair_can_get(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'peerprep.sqlite'}")
    db.upgrade(engine)
    factory = db.session_factory(engine)
    for qid, javascript in (("only-python", False), ("also-js", True)):
        spec = spec_of(qid, javascript=javascript)
        store.store_version(factory, spec, build_notebook(), checksum(spec))

    counts = store.list_questions(factory).counts
    assert counts["language"] == {"python": 2, "javascript": 1, "typescript": 0}

    rows = [SimpleNamespace(question_id=q, version=1) for q in ("only-python", "also-js")]
    with factory() as s:
        assert [r.question_id for r in in_language(s, rows, "javascript")] == ["also-js"]
        assert in_language(s, rows, "python") == rows
        # No question in the language: the pair still gets one (in its base language).
        assert in_language(s, rows, "typescript") == rows


def test_the_lobby_offers_the_languages_of_the_kernels_present(tmp_path):
    kernels = Path(__file__).resolve().parents[2] / "kernels"
    present = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    assert offered_languages(present) == ["python", "javascript", "typescript"]
    (tmp_path / "peerprep-python").symlink_to(kernels / "peerprep-python")
    python_only = KernelSpecManager(kernel_dirs=[str(tmp_path)], ensure_native_kernel=False)
    assert offered_languages(python_only) == ["python"]
