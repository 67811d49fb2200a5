"""Question bank API, under ``/services/peerprep/api/questions``.

Everyone logged in:

- ``GET  questions?difficulty=&topic=&q=&offset=&limit=``: the list, with counts per difficulty
  and topic (for the lobby);
- ``GET  questions/{id}[?version=N&language=L]``: the student view (prompt, starter, public
  tests, limits), its starter in language L (400 naming the question's languages otherwise);
- ``GET  questions/{id}/student-notebook[?version=N&language=L]``: the notebook a room of
  language L receives (``api/rooms/{id}/student-notebook`` derives it from the room).

Instructors only (403 JSON for anyone else):

- ``POST   questions[?dry_run=1]``: upload an .ipynb (the notebook JSON as the body, or
  ``{"notebook": ..., "filename": ...}``); ``dry_run`` validates without publishing;
- ``PUT    questions/{id}``: replace (a new version; rooms keep the version they used);
- ``DELETE questions/{id}`` or ``POST questions/{id}/retire``: retire;
- ``GET    questions/{id}?view=full``: everything, hidden tests and solution included;
- ``GET    questions?include_retired=1``.

The student responses are built by ``questions.student`` from an allow-list of fields; the spec
(hidden tests, solution) is only ever serialised in the instructor's full view.
"""

from __future__ import annotations

import json
from typing import Any

from tornado import web

from ...questions import store
from ...questions.bank import PublishOutcome, QuestionBank, publish_notebook
from ...questions.loader import load_notebook, parse_notebook_text
from ...questions.problems import QuestionError
from ...questions.student import notebook_from_view
from ...questions.validate import validate_spec
from ...questions.vocabulary import DIFFICULTIES, TOPICS
from .base import APIHandler, authenticated

QUESTION_ID = r"([a-z0-9]+(?:-[a-z0-9]+)*)"
MAX_PAGE = 200


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


class QuestionsAPIHandler(APIHandler):
    # Instructors upload whole notebooks here.
    body_limit_trait = "max_upload_bytes"

    @property
    def bank(self) -> QuestionBank:
        bank: QuestionBank = self.running("question_bank")
        return bank

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise web.HTTPError(400, f"{name} must be an integer, got {raw!r}.") from None
        if not low <= value <= high:
            raise web.HTTPError(400, f"{name} must be between {low} and {high}, got {value}.")
        return value

    def get_stored(self, question_id: str) -> store.StoredQuestion:
        version = self.get_query_argument("version", None)
        number = None
        if version:
            number = self.int_argument("version", 1, 1, 1_000_000)
        try:
            return store.get(self.db, question_id, number)
        except store.NotFound as e:
            raise web.HTTPError(404, str(e)) from None

    def get_view(self, question_id: str) -> tuple[dict[str, Any], bool]:
        """The (cached) student view of the current or ``?version=`` version, its starter in
        ``?language=`` (the question's base language by default), and retired."""
        number = None
        if self.get_query_argument("version", None):
            number = self.int_argument("version", 1, 1, 1_000_000)
        language = self.get_query_argument("language", None) or None
        try:
            return store.get_student_view(self.db, question_id, number, language)
        except store.NotFound as e:
            raise web.HTTPError(404, str(e)) from None
        except ValueError as e:
            raise web.HTTPError(400, str(e)) from None

    def uploaded_notebook(self) -> tuple[dict[str, Any], str]:
        """The notebook in the request body, and the file name to report problems against."""
        body = self.request_body
        if not body:
            raise web.HTTPError(400, "Request body is empty; send the .ipynb JSON.")
        filename = self.get_query_argument("filename", "uploaded.ipynb")
        try:
            return self._parse_upload(body, filename)
        except RecursionError:
            raise self.too_deep() from None

    def _parse_upload(self, body: bytes, filename: str) -> tuple[dict[str, Any], str]:
        try:
            data = parse_notebook_text(body, filename)
        except QuestionError as e:
            # Not a notebook at the top level: maybe the {"notebook": ...} wrapper.
            try:
                wrapper = json.loads(body)
            except ValueError:
                self.write_problems(e)
                raise _Answered() from None
            if not isinstance(wrapper, dict) or "notebook" not in wrapper:
                self.write_problems(e)
                raise _Answered() from None
            filename = str(wrapper.get("filename") or filename)
            inner = wrapper["notebook"]
            text = inner if isinstance(inner, str) else json.dumps(inner)
            try:
                data = parse_notebook_text(text, filename)
            except QuestionError as inner_error:
                self.write_problems(inner_error)
                raise _Answered() from None
        return data, filename

    def write_problems(self, error: QuestionError | PublishOutcome, status: int = 400) -> None:
        problems = error.problems
        errors = [p for p in problems if p.severity == "error"] or problems
        first = str(errors[0]) if errors else "the notebook is not a valid question"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        self.write_json(
            {
                "status": status,
                "message": f"Not published: {first}{more}",
                "problems": [p.to_json() for p in problems],
            },
            status=status,
        )

    async def publish(self, mode: str, expect_id: str | None = None) -> None:
        self.require_instructor()
        try:
            notebook, filename = self.uploaded_notebook()
        except _Answered:
            return
        grader = self.bank.get_grader()
        if _flag(self.get_query_argument("dry_run", None)):
            await self.dry_run(notebook, filename, grader)
            return
        try:
            outcome = await publish_notebook(
                self.db,
                grader,
                notebook,
                file=filename,
                username=self.identity.name,
                mode=mode,
                expect_id=expect_id,
                max_limits=self.bank.max_limits(),
            )
        except store.Conflict as e:
            raise web.HTTPError(409, str(e)) from None
        except store.NotFound as e:
            raise web.HTTPError(404, str(e)) from None
        if not outcome.ok or outcome.result is None:
            self.write_problems(outcome)
            return
        result = outcome.result
        status = 200 if result.action == "unchanged" else 201
        self.write_json(
            {
                **result.to_json(),
                "problems": [p.to_json() for p in outcome.problems],
                "seconds": round(outcome.seconds, 3),
            },
            status=status,
        )

    async def dry_run(self, notebook: dict[str, Any], filename: str, grader: Any) -> None:
        try:
            spec = load_notebook(notebook, filename, max_limits=self.bank.max_limits())
        except QuestionError as e:
            self.write_json(
                {"ok": False, "id": None, "problems": [p.to_json() for p in e.problems]}
            )
            return
        result = await validate_spec(spec, grader, file=filename)
        self.write_json(
            {
                "ok": result.ok,
                "id": spec["id"],
                "title": spec["title"],
                "public": len(spec["public_tests"]),
                "hidden": len(spec["hidden_tests"]),
                "problems": [p.to_json() for p in result.problems],
                "seconds": round(result.seconds, 3),
            }
        )

    async def retire(self, question_id: str) -> None:
        self.require_instructor()
        try:
            changed = store.retire(self.db, question_id, username=self.identity.name)
        except store.NotFound as e:
            raise web.HTTPError(404, str(e)) from None
        self.write_json({"id": question_id, "retired": True, "changed": changed})


class _Answered(Exception):
    """The response has been written already (a 400 with problems)."""


class QuestionListHandler(QuestionsAPIHandler):
    """``GET questions``: list; ``POST questions``: upload (instructors)."""

    @authenticated
    async def get(self) -> None:
        difficulty = self.get_query_argument("difficulty", None) or None
        if difficulty is not None and difficulty not in DIFFICULTIES:
            raise web.HTTPError(
                400, f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}."
            )
        topic = self.get_query_argument("topic", None) or None
        if topic is not None and topic not in TOPICS:
            raise web.HTTPError(400, f"Unknown topic {topic!r}; topics: {', '.join(TOPICS)}.")
        include_retired = _flag(self.get_query_argument("include_retired", None))
        if include_retired:
            self.require_instructor()
        offset = self.int_argument("offset", 0, 0, 10_000_000)
        limit = self.int_argument("limit", 50, 1, MAX_PAGE)
        listing = store.list_questions(
            self.db,
            difficulty=difficulty,
            topic=topic,
            q=self.get_query_argument("q", None),
            offset=offset,
            limit=limit,
            include_retired=include_retired,
        )
        items = listing.items
        if not include_retired:
            items = [{k: v for k, v in item.items() if k != "retired"} for item in items]
        self.write_json(
            {
                "questions": items,
                "total": listing.total,
                "offset": offset,
                "limit": limit,
                "counts": listing.counts,
                # What the lobby offers (the rooms' kernels), each with counts.language.
                "languages": list(getattr(self.service.matchmaker, "languages", ["python"])),
            }
        )

    @authenticated
    async def post(self) -> None:
        await self.publish("create")


class QuestionHandler(QuestionsAPIHandler):
    """``GET`` (student or full view), ``PUT`` (replace), ``DELETE`` (retire) one question."""

    @authenticated
    async def get(self, question_id: str) -> None:
        view = self.get_query_argument("view", "student")
        if view not in ("student", "full"):
            raise web.HTTPError(400, f"view must be 'student' or 'full', got {view!r}.")
        if view == "full":
            self.require_instructor()
            stored = self.get_stored(question_id)
            self.write_json(
                {
                    "id": stored.id,
                    "version": stored.version,
                    "versions": stored.versions,
                    "retired": stored.retired,
                    "checksum": stored.checksum,
                    "created": stored.created.isoformat(),
                    "created_by": stored.created_by,
                    "spec": stored.spec,
                }
            )
            return
        cached, retired = self.get_view(question_id)
        self.write_json({**cached, "retired": retired})

    @authenticated
    async def put(self, question_id: str) -> None:
        await self.publish("replace", expect_id=question_id)

    @authenticated
    async def delete(self, question_id: str) -> None:
        await self.retire(question_id)


class QuestionRetireHandler(QuestionsAPIHandler):
    """``POST questions/{id}/retire``: retire (for clients that cannot send DELETE)."""

    @authenticated
    async def post(self, question_id: str) -> None:
        await self.retire(question_id)


class StudentNotebookHandler(QuestionsAPIHandler):
    """``GET questions/{id}/student-notebook[?language=]``: the notebook a room receives."""

    @authenticated
    async def get(self, question_id: str) -> None:
        cached, _ = self.get_view(question_id)
        self.write_json(notebook_from_view(cached))


question_handlers: list[tuple[str, type]] = [
    (r"api/questions", QuestionListHandler),
    (rf"api/questions/{QUESTION_ID}", QuestionHandler),
    (rf"api/questions/{QUESTION_ID}/retire", QuestionRetireHandler),
    (rf"api/questions/{QUESTION_ID}/student-notebook", StudentNotebookHandler),
]
