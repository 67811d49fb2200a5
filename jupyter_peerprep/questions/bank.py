"""Publishing question notebooks, and the shipped question bank loaded on the service's start.

``publish_notebook`` is the one path from a notebook to the database, used by the API upload,
the CLI and the start-up loader: parse (``loader``), skip if the checksum equals the current
version's, validate and resolve generated cases in the grader's sandbox (``validate``), then
store a new version (``store``). Any problem before the last step leaves the database as it was.

Where the shipped bank lives: the ``question_bank/`` folder next to the package in a source
checkout, ``<prefix>/share/jupyter_peerprep/question_bank`` in the hub image; never inside the
wheel, which single-user images install too (``locations.py``). ``default_bank_dir`` tries them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from traitlets import Bool, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from . import store
from .loader import checksum, load_notebook, parse_notebook_text
from .locations import bank_locations
from .problems import Problem, QuestionError
from .validate import GraderLike, ValidationResult, validate_spec


def default_bank_dir() -> Path | None:
    """The shipped question bank: next to the package (checkout), else the hub image's copy."""
    for candidate in bank_locations():
        if candidate.is_dir():
            return candidate
    return None


def bank_notebooks(dirs: list[str] | list[Path]) -> list[Path]:
    """Every .ipynb directly in the given folders, sorted, checkpoints skipped."""
    paths: list[Path] = []
    for d in dirs:
        folder = Path(d)
        if folder.is_file() and folder.suffix == ".ipynb":
            paths.append(folder)
        elif folder.is_dir():
            paths.extend(p for p in sorted(folder.glob("*.ipynb")) if p.is_file())
    return paths


@dataclass
class PublishOutcome:
    """What happened to one notebook on publish."""

    file: str
    question_id: str | None = None
    result: store.PublishResult | None = None
    problems: list[Problem] = field(default_factory=list)
    validation: ValidationResult | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def action(self) -> str:
        if self.result is not None:
            return self.result.action
        return "skipped" if not self.problems else "invalid"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "id": self.question_id,
            "ok": self.ok,
            "action": self.action,
            "version": self.result.version if self.result else None,
            "problems": [p.to_json() for p in self.problems],
            "seconds": round(self.seconds, 3),
        }


async def publish_notebook(
    factory: sessionmaker[Session],
    grader: GraderLike,
    notebook: dict[str, Any] | str | bytes,
    *,
    file: str,
    username: str = "",
    mode: str = "upsert",
    unretire: bool = True,
    skip_retired: bool = False,
    expect_id: str | None = None,
    max_limits: dict[str, float] | None = None,
) -> PublishOutcome:
    """Load, validate and store one notebook. Never raises QuestionError: see ``problems``.

    ``store.NotFound``/``store.Conflict`` propagate (the API turns them into 404/409).
    """
    started = time.monotonic()
    outcome = PublishOutcome(file)
    try:
        nb = notebook if isinstance(notebook, dict) else parse_notebook_text(notebook, file)
        spec = load_notebook(nb, file, max_limits=max_limits)
    except QuestionError as e:
        outcome.problems = e.problems
        outcome.seconds = time.monotonic() - started
        return outcome
    qid = spec["id"]
    outcome.question_id = qid
    if expect_id is not None and qid != expect_id:
        outcome.problems = [
            Problem(
                file,
                f"the notebook's id is {qid!r} but it is being published as "
                f"{expect_id!r}; make them match",
                field="peerprep.id",
            )
        ]
        return outcome
    digest = checksum(spec)
    current = store.current_checksum(factory, qid)
    if current is not None:
        if mode == "create" and current[0] != digest:
            raise store.Conflict(
                f"Question {qid!r} already exists (version {current[1]}) with different "
                f"content; replace it with PUT questions/{qid}."
            )
        if skip_retired and current[2]:
            outcome.result = store.PublishResult(qid, current[1], "retired", True)
            outcome.seconds = time.monotonic() - started
            return outcome
        if current[0] == digest:
            # Same content: no grader run, no new version.
            retired = current[2]
            if unretire and retired:
                store.unretire(factory, qid, username=username)
                retired = False
            outcome.result = store.PublishResult(qid, current[1], "unchanged", retired)
            outcome.seconds = time.monotonic() - started
            return outcome
    elif mode == "replace":
        raise store.NotFound(f"No question {qid!r} to replace; upload it first (POST).")

    validation = await validate_spec(spec, grader, file=file)
    outcome.validation = validation
    outcome.problems = list(validation.problems)
    if not validation.ok or validation.spec is None:
        outcome.seconds = time.monotonic() - started
        return outcome
    resolved = dict(validation.spec)
    resolved.pop("warnings", None)
    outcome.result = store.store_version(
        factory, resolved, nb, digest, username=username, mode=mode, unretire=unretire
    )
    outcome.seconds = time.monotonic() - started
    return outcome


class QuestionBank(LoggingConfigurable):
    """The shipped question notebooks, published into the service database on start."""

    bank_dirs = List(
        Unicode(),
        help="""Folders (or single .ipynb files) of question notebooks published into the
        database when the service starts. Defaults to the question bank shipped with PeerPrep.
        Add your own folder to publish your course's questions on every start; a notebook whose
        content did not change since the last start is skipped without running any code.""",
    ).tag(config=True)

    @default("bank_dirs")
    def _default_bank_dirs(self) -> list[str]:
        shipped = default_bank_dir()
        return [str(shipped)] if shipped else []

    load_on_start = Bool(
        True,
        help="""Publish the notebooks of bank_dirs when the service starts, in the background
        (the API answers meanwhile; questions appear as they are validated). Idempotent:
        unchanged notebooks are skipped, retired questions stay retired. Turn off to manage the
        bank only with `jupyter peerprep questions publish` or the API.""",
    ).tag(config=True)

    concurrency = Integer(
        2,
        help="""How many bank notebooks are validated at the same time on start. Each runs a
        few grader sandboxes; keep it low on small machines.""",
    ).tag(config=True)

    loaded = Integer(0, help="Notebooks processed by the last load (read-only).")

    _task: asyncio.Task[list[PublishOutcome]] | None = None
    _grader: Any = None

    def get_grader(self) -> GraderLike:
        """The service's grader (``PeerPrepService.grader``), or one configured like it."""
        grader = getattr(self.parent, "grader", None)
        if grader is not None:
            return grader
        if self._grader is None:
            from ..grader import Grader

            self._grader = Grader(parent=self.parent)
        return self._grader

    def max_limits(self) -> dict[str, float]:
        """The service limits a question's ``limits`` may only tighten."""
        grader = self.get_grader()
        out: dict[str, float] = {}
        for key, trait in (("time_s", "cpu_s"), ("memory_mb", "memory_mb")):
            value = getattr(grader, trait, None)
            if isinstance(value, (int, float)):
                out[key] = float(value)
        return out

    async def load(
        self, factory: sessionmaker[Session], grader: GraderLike
    ) -> list[PublishOutcome]:
        """Publish every bank notebook (idempotent); log one line per notebook."""
        paths = bank_notebooks(self.bank_dirs)
        semaphore = asyncio.Semaphore(max(1, self.concurrency))
        started = time.monotonic()

        async def one(path: Path) -> PublishOutcome:
            async with semaphore:
                try:
                    data = await asyncio.to_thread(path.read_bytes)
                except OSError as e:
                    return PublishOutcome(str(path), problems=[Problem(str(path), str(e))])
                outcome = await publish_notebook(
                    factory,
                    grader,
                    data,
                    file=path.name,
                    username="question-bank",
                    unretire=False,
                    skip_retired=True,
                )
                self.loaded += 1
                if outcome.ok:
                    self.log.debug("Question bank: %s %s", outcome.question_id, outcome.action)
                else:
                    self.log.error(
                        "Question bank: %s not published:\n  %s",
                        path,
                        "\n  ".join(str(p) for p in outcome.problems if p.severity == "error"),
                    )
                return outcome

        outcomes = await asyncio.gather(*(one(p) for p in paths))
        actions: dict[str, int] = {}
        for o in outcomes:
            actions[o.action] = actions.get(o.action, 0) + 1
        self.log.info(
            "Question bank: %d notebooks from %s in %.1fs: %s",
            len(paths),
            ", ".join(self.bank_dirs) or "(no folder)",
            time.monotonic() - started,
            ", ".join(f"{n} {a}" for a, n in sorted(actions.items())) or "nothing to do",
        )
        return list(outcomes)

    def start(self, factory: sessionmaker[Session], grader: GraderLike) -> None:
        """Load the bank in the background if configured to."""
        if not self.load_on_start or not self.bank_dirs:
            return
        self._task = asyncio.ensure_future(self.load(factory, grader))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            # The load is idempotent: whatever it did not finish is done on the next start.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
