"""``jupyter peerprep questions validate|publish|list|export|import-otter|import-nbgrader``.

Exit codes: 0 everything fine; 1 at least one notebook is invalid or failed (the table and the
problem lines above it say which and why); 2 a usage error (no path, a path that does not
exist, an unknown question id).

``validate`` and ``publish`` run the notebooks' code in the grader sandbox (``Grader.*``
settings apply, e.g. ``--Grader.backend=docker``); ``publish``, ``list`` and ``export`` use the
service database (``--db-url``, default: the service's).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from traitlets import Bool, Int, List, Unicode
from traitlets.config import Application

from .bank import bank_notebooks, publish_notebook
from .loader import load_path
from .problems import Problem, QuestionError
from .validate import ValidationResult, bank_policy, validate_spec

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def print_table(rows: list[list[str]], headers: list[str], out: Any = None) -> None:
    """A plain aligned text table (no dependency), the summary of every subcommand."""
    out = out or sys.stdout
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


class QuestionsSubApp(Application):
    """Shared options and helpers of the questions subcommands."""

    db_url = Unicode("", help="Service database URL; defaults to the service's.").tag(config=True)

    aliases = {"db-url": "QuestionsSubApp.db_url"}

    def paths(self) -> list[Path]:
        if not self.extra_args:
            print(
                f"error: give at least one .ipynb file or folder: {self.name} PATH...",
                file=sys.stderr,
            )
            self.exit(EXIT_USAGE)
        found: list[Path] = []
        for arg in self.extra_args:
            path = Path(arg)
            if not path.exists():
                print(f"error: {arg}: no such file or folder", file=sys.stderr)
                self.exit(EXIT_USAGE)
            notebooks = bank_notebooks([path])
            if path.is_dir() and not notebooks:
                print(f"warning: {arg}: no .ipynb files in this folder", file=sys.stderr)
            elif path.is_file() and not notebooks:
                print(f"error: {arg}: not an .ipynb file", file=sys.stderr)
                self.exit(EXIT_USAGE)
            found.extend(notebooks)
        return found

    def session_factory(self) -> Any:
        from .. import db

        url = self.db_url or db.configured_url(self.config)
        try:
            engine = db.make_engine(url)
        except db.DatabaseError as e:
            print(f"error: {e}", file=sys.stderr)
            self.exit(EXIT_USAGE)
        db.upgrade(engine)
        return db.session_factory(engine)

    def grader(self) -> Any:
        from ..grader import Grader

        return Grader(parent=self)

    @property
    def classes(self) -> list[type]:  # type: ignore[override]
        from ..grader import Grader

        return [type(self), QuestionsSubApp, Grader]


def _problem_lines(problems: list[Problem]) -> None:
    for p in problems:
        print("  " + str(p), file=sys.stderr)


class ValidateApp(QuestionsSubApp):
    """Check question notebooks: schema, cells, and their code in the grader sandbox."""

    name = "jupyter-peerprep-questions-validate"
    description = (
        "Validate question notebooks (files or folders): metadata, tagged cells, the reference "
        "solution passes every test, the starter fails a hidden one, generators work."
    )
    complexity = Bool(
        False, help="Also measure the reference solution's growth class (a warning if off)."
    ).tag(config=True)
    bank = Bool(
        False,
        help="Apply the shipped bank's policy too: 3+ public and 8+ hidden cases, a large "
        "input, a complexity block.",
    ).tag(config=True)
    json_output = Bool(False, help="Print the results as JSON instead of a table.").tag(config=True)
    flags = {
        "complexity": ({"ValidateApp": {"complexity": True}}, "Measure complexity as well."),
        "bank": ({"ValidateApp": {"bank": True}}, "Apply the shipped bank's policy."),
        "json": ({"ValidateApp": {"json_output": True}}, "Print JSON."),
    }

    def start(self) -> None:
        paths = self.paths()
        results = asyncio.run(self.validate_all(paths))
        if self.json_output:
            print(json.dumps([self.result_json(r) for r in results], indent=1))
        else:
            rows = []
            for r in results:
                spec = r.spec or {}
                errors = [p for p in r.problems if p.severity == "error"]
                status = "ok" if r.ok else f"INVALID ({len(errors)})"
                if r.ok and r.warnings:
                    status = f"ok, {len(r.warnings)} warning(s)"
                rows.append(
                    [
                        Path(r.file).name,
                        str(spec.get("id", "-")),
                        str(spec.get("difficulty", "-")),
                        str(len(spec.get("public_tests", []))) if spec else "-",
                        str(len(spec.get("hidden_tests", []))) if spec else "-",
                        status,
                        f"{r.seconds:.1f}s",
                    ]
                )
            print_table(rows, ["FILE", "ID", "DIFFICULTY", "PUBLIC", "HIDDEN", "RESULT", "TIME"])
            bad = sum(1 for r in results if not r.ok)
            print(f"{len(results) - bad} valid, {bad} invalid")
        self.exit(EXIT_OK if all(r.ok for r in results) else EXIT_INVALID)

    @staticmethod
    def result_json(r: ValidationResult) -> dict[str, Any]:
        return {
            "file": r.file,
            "id": (r.spec or {}).get("id"),
            "ok": r.ok,
            "problems": [p.to_json() for p in r.problems],
            "seconds": round(r.seconds, 3),
            "complexity": r.complexity,
        }

    async def validate_all(self, paths: list[Path]) -> list[ValidationResult]:
        grader = self.grader()
        max_limits = {"time_s": float(grader.cpu_s), "memory_mb": float(grader.memory_mb)}
        results = []
        for path in paths:
            try:
                spec = load_path(path, max_limits=max_limits)
            except QuestionError as e:
                result = ValidationResult(str(path), None, e.problems)
            else:
                result = await validate_spec(
                    spec, grader, file=str(path), complexity=self.complexity
                )
                if self.bank:
                    result.problems.extend(bank_policy(spec, str(path)))
            if not self.json_output:
                _problem_lines(result.problems)
            results.append(result)
        return results


class PublishApp(QuestionsSubApp):
    """Validate question notebooks and publish them into the service database."""

    name = "jupyter-peerprep-questions-publish"
    description = (
        "Publish question notebooks (files or folders) into the service database: a new "
        "version when the content changed, nothing when it did not; invalid ones are not "
        "published and leave the current version untouched."
    )
    user = Unicode(help="Name recorded as the publisher (default: your login).").tag(config=True)
    aliases = {"db-url": "QuestionsSubApp.db_url", "user": "PublishApp.user"}

    def start(self) -> None:
        paths = self.paths()
        factory = self.session_factory()
        outcomes = asyncio.run(self.publish_all(paths, factory))
        rows = [
            [
                Path(o.file).name,
                o.question_id or "-",
                o.action,
                str(o.result.version) if o.result else "-",
                f"{o.seconds:.1f}s",
            ]
            for o in outcomes
        ]
        print_table(rows, ["FILE", "ID", "RESULT", "VERSION", "TIME"])
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.action] = counts.get(o.action, 0) + 1
        print(", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to publish")
        self.exit(EXIT_OK if all(o.ok for o in outcomes) else EXIT_INVALID)

    async def publish_all(self, paths: list[Path], factory: Any) -> list[Any]:
        grader = self.grader()
        max_limits = {"time_s": float(grader.cpu_s), "memory_mb": float(grader.memory_mb)}
        user = self.user or _login()
        outcomes = []
        for path in paths:
            try:
                data = path.read_bytes()
            except OSError as e:
                print(f"error: {path}: {e.strerror}", file=sys.stderr)
                continue
            outcome = await publish_notebook(
                factory, grader, data, file=str(path), username=user, max_limits=max_limits
            )
            _problem_lines(outcome.problems)
            outcomes.append(outcome)
        return outcomes


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


class ListApp(QuestionsSubApp):
    """List the questions in the service database."""

    name = "jupyter-peerprep-questions-list"
    description = "List the published questions (current versions) with their difficulty."
    difficulty = Unicode("", help="Only this difficulty.").tag(config=True)
    topic = Unicode("", help="Only questions with this topic.").tag(config=True)
    include_retired = Bool(False, help="Also list retired questions.").tag(config=True)
    aliases = {
        "db-url": "QuestionsSubApp.db_url",
        "difficulty": "ListApp.difficulty",
        "topic": "ListApp.topic",
    }
    flags = {
        "retired": ({"ListApp": {"include_retired": True}}, "Also list retired questions."),
    }

    def start(self) -> None:
        from . import store

        factory = self.session_factory()
        listing = store.list_questions(
            factory,
            difficulty=self.difficulty or None,
            topic=self.topic or None,
            limit=1_000_000,
            include_retired=self.include_retired,
        )
        rows = [
            [
                q["id"],
                q["title"][:40],
                q["difficulty"],
                ",".join(q["topics"]),
                str(q["version"]),
                "retired" if q["retired"] else "",
            ]
            for q in listing.items
        ]
        print_table(rows, ["ID", "TITLE", "DIFFICULTY", "TOPICS", "VERSION", ""])
        by = listing.counts["difficulty"]
        print(f"{listing.total} questions ({', '.join(f'{n} {d}' for d, n in by.items())})")


class ExportApp(QuestionsSubApp):
    """Write stored questions back to .ipynb files."""

    name = "jupyter-peerprep-questions-export"
    description = (
        "Export questions by id (or --all) as notebooks: the instructor notebook as published, "
        "or with --student the notebook a room receives."
    )
    output = Unicode(".", help="Folder to write <id>.ipynb files into.").tag(config=True)
    student = Bool(False, help="Export the student notebook instead.").tag(config=True)
    all = Bool(False, help="Export every question.").tag(config=True)
    question_version = Int(0, help="Version to export (0: the current one).").tag(config=True)
    aliases = {
        "db-url": "QuestionsSubApp.db_url",
        "output": "ExportApp.output",
        "o": "ExportApp.output",
        "version": "ExportApp.question_version",
    }
    flags = {
        "student": ({"ExportApp": {"student": True}}, "Export the student notebook."),
        "all": ({"ExportApp": {"all": True}}, "Export every question."),
    }

    def start(self) -> None:
        from . import store
        from .student import student_notebook

        factory = self.session_factory()
        ids = list(self.extra_args)
        if self.all:
            ids = [
                q["id"]
                for q in store.list_questions(factory, limit=10**6, include_retired=True).items
            ]
        if not ids:
            print("error: give question ids or --all", file=sys.stderr)
            self.exit(EXIT_USAGE)
        out = Path(self.output)
        out.mkdir(parents=True, exist_ok=True)
        rows = []
        for qid in ids:
            try:
                stored = store.get(factory, qid, self.question_version or None)
            except store.NotFound as e:
                print(f"error: {e}", file=sys.stderr)
                self.exit(EXIT_USAGE)
            nb = (
                student_notebook(stored.spec, version=stored.version)
                if self.student
                else stored.notebook
            )
            suffix = ".student" if self.student else ""
            path = out / f"{qid}{suffix}.ipynb"
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            rows.append([qid, str(stored.version), str(path)])
        print_table(rows, ["ID", "VERSION", "FILE"])


class ImportOtterApp(QuestionsSubApp):
    """Convert otter-grader assign master notebooks into PeerPrep question notebooks."""

    name = "jupyter-peerprep-questions-import-otter"
    description = (
        "Convert otter-grader `assign` master notebooks (format v1 or v0): one PeerPrep "
        "question notebook per otter question, written to --output; prints what could not be "
        "converted."
    )
    source_format = "otter"
    output = Unicode(".", help="Folder to write the converted notebooks into.").tag(config=True)
    difficulty = Unicode("medium", help="Difficulty of the converted questions.").tag(config=True)
    topics = List(Unicode(), help="Topics of the converted questions.").tag(config=True)
    hide_last = Bool(
        False,
        help="When a question has no hidden test in the source, make its last public case "
        "hidden (PeerPrep needs at least one hidden case to publish).",
    ).tag(config=True)
    aliases = {
        "output": "ImportOtterApp.output",
        "o": "ImportOtterApp.output",
        "difficulty": "ImportOtterApp.difficulty",
        "topics": "ImportOtterApp.topics",
    }
    flags = {
        "hide-last": (
            {"ImportOtterApp": {"hide_last": True}},
            "Make the last public case hidden where the source has no hidden test.",
        )
    }

    def start(self) -> None:
        from . import nbgrader, otter

        convert_path = (
            otter.convert_path if self.source_format == "otter" else nbgrader.convert_path
        )
        paths = self.paths()
        out = Path(self.output)
        out.mkdir(parents=True, exist_ok=True)
        rows = []
        failed = False
        for path in paths:
            try:
                results = convert_path(
                    path,
                    difficulty=self.difficulty,
                    topics=list(self.topics),
                    hide_last=self.hide_last,
                )
            except QuestionError as e:
                _problem_lines(e.problems)
                rows.append([path.name, "-", "FAILED", "-", "-"])
                failed = True
                continue
            for result in results:
                target = out / f"{result.question_id}.ipynb"
                target.write_text(json.dumps(result.notebook, indent=1) + "\n")
                for note in result.not_converted:
                    print(
                        f"  {path.name}: {result.question_id}: not converted: {note}",
                        file=sys.stderr,
                    )
                if not result.complete:
                    failed = True
                rows.append(
                    [
                        path.name,
                        result.question_id,
                        "ok" if result.complete else "PARTIAL",
                        f"{result.public}/{result.hidden}",
                        str(target),
                    ]
                )
        print_table(rows, ["SOURCE", "QUESTION", "RESULT", "PUBLIC/HIDDEN", "WRITTEN"])
        if failed:
            print(
                "Some parts were not converted (listed above); edit the written notebooks, "
                "then run `jupyter peerprep questions validate` on them."
            )
        self.exit(EXIT_INVALID if failed else EXIT_OK)


class ImportNbgraderApp(ImportOtterApp):
    """Convert nbgrader source notebooks into PeerPrep question notebooks."""

    name = "jupyter-peerprep-questions-import-nbgrader"
    description = (
        "Convert nbgrader source notebooks: one PeerPrep question notebook per autograded "
        "answer cell, written to --output; prints what could not be converted."
    )
    source_format = "nbgrader"
    aliases = {
        "output": "ImportNbgraderApp.output",
        "o": "ImportNbgraderApp.output",
        "difficulty": "ImportNbgraderApp.difficulty",
        "topics": "ImportNbgraderApp.topics",
    }
    flags = {
        "hide-last": (
            {"ImportNbgraderApp": {"hide_last": True}},
            "Make the last public case hidden where the source has no hidden test.",
        )
    }


class QuestionsApp(Application):
    """``jupyter peerprep questions``: the question bank from the command line."""

    name = "jupyter-peerprep-questions"
    description = "Validate, publish, list, export and import PeerPrep question notebooks."
    subcommands = {
        "validate": (ValidateApp, ValidateApp.description),
        "publish": (PublishApp, PublishApp.description),
        "list": (ListApp, ListApp.description),
        "export": (ExportApp, ExportApp.description),
        "import-otter": (ImportOtterApp, ImportOtterApp.description),
        "import-nbgrader": (ImportNbgraderApp, ImportNbgraderApp.description),
    }

    def start(self) -> None:
        if self.subapp is None:
            print("A subcommand is required: " + ", ".join(self.subcommands))
            self.print_subcommands()
            self.exit(EXIT_USAGE)
        else:
            self.subapp.start()
