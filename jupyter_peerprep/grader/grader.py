"""The Grader: runs a solution against cases, and measures its growth, in a per-run sandbox.

Only the student's source, the entry point and the case *inputs* enter the sandbox. The
harness (``harness.py``) reports raw return values; verdicts are computed here, outside the
sandbox, against expected values the sandbox never saw. A custom checker (instructor code) runs
in a separate sandbox, never together with student code.

Limits are traits with defaults a question may only tighten (``limits`` of the question:
``time_s`` per case, ``memory_mb``).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets import Float, Instance, Integer, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..sandbox.base import Sandbox, SandboxError, SandboxLimits, SandboxResult
from .checkers import CheckerError, builtin_checker
from .languages import DENO_FILES, check_language, uses_deno
from .measuring import measured_report, measuring_job
from .reports import ERROR, WRONG_ANSWER, CaseResult, ComplexityReport, GradeReport
from .verdicts import case_name, grade_cases, overall_verdict, parse_channel

# The sandbox's program: timing.py, counting.py, deno_child.py, then harness.py, executed in
# one namespace.
HARNESS_MODULES = [
    (name, (Path(__file__).parent / f"{name}.py").read_text())
    for name in ("timing", "counting", "deno_child", "harness")
]

# Runs in the sandbox as `python3 -I -S -B -c BOOTSTRAP`; the modules and the job come on stdin.
BOOTSTRAP = (
    "import json,sys\n"
    "p=json.loads(sys.stdin.buffer.read())\n"
    "g={'__name__':'__harness__','JOB':p['job']}\n"
    "for n,s in p['modules']:exec(compile(s,n,'exec'),g)\n"
)
PYTHON_ARGS = ["-I", "-S", "-B", "-c", BOOTSTRAP]

# Seconds a sandbox run gets beyond its own wall-clock budget, for starting up.
SANDBOX_START_GRACE_S = 1.0


class GraderInputError(ValueError):
    """The question or request given to the grader is unusable; the message says why."""


@dataclass(frozen=True)
class RunLimits:
    """Effective limits of one grading run (service defaults tightened by the question)."""

    cpu_s: float  # CPU seconds per case
    case_wall_s: float  # wall clock per case
    wall_s: float  # wall clock for the whole run
    memory_mb: int  # per case
    output_bytes: int  # stdout + stderr per case
    result_bytes: int  # size of one returned value, as JSON


class Grader(LoggingConfigurable):
    """Runs untrusted solutions in a sandbox and grades them. Configure as ``Grader.<trait>``."""

    backend = Unicode(
        "bwrap",
        help="""Sandbox backend for each run: 'bwrap' (bubblewrap, the default; needs the
        Debian package bubblewrap) or 'docker' (one container per run through the Docker API
        at $DOCKER_HOST, from the image DockerSandbox.image built by docker/build-images.sh).""",
    ).tag(config=True)

    @validate("backend")
    def _validate_backend(self, proposal: dict[str, Any]) -> str:
        value: str = proposal["value"]
        if value not in ("bwrap", "docker"):
            raise TraitError(f"Grader.backend must be 'bwrap' or 'docker', got {value!r}")
        return value

    cpu_s = Float(
        5.0, help="CPU seconds a single test case may use; a question's time_s may lower it."
    ).tag(config=True)

    case_wall_factor = Float(
        2.0,
        help="""Wall-clock time a case may take, as a multiple of its CPU limit (covers
        sleeping or blocked code on a busy machine).""",
    ).tag(config=True)

    wall_s = Float(
        10.0,
        help="""Wall-clock seconds for one whole Run or Submit (all cases); after it the
        sandbox is killed and unfinished cases fail with 'time limit'.""",
    ).tag(config=True)

    complexity_wall_s = Float(
        20.0, help="Wall-clock seconds for one complexity measurement (all sizes, all repeats)."
    ).tag(config=True)

    busy_room_margin_s = Float(
        60.0,
        help="""While a room's Run or Submit is being graded, the room is marked busy in the
        database and a second one (on any replica of the service) gets 429. Should the service
        die mid-run, the mark lapses once it is older than the longest a run can take (from
        wall_s and complexity_wall_s) plus this many seconds, which also covers waiting for a
        free sandbox (max_concurrent); raise it if rooms of a saturated grader get a second run
        while their first still waits for a sandbox.""",
    ).tag(config=True)

    @validate("busy_room_margin_s")
    def _validate_busy_room_margin(self, proposal: dict[str, Any]) -> float:
        value: float = proposal["value"]
        if value < 0:
            raise TraitError(f"Grader.busy_room_margin_s must be >= 0 seconds, got {value}")
        return value

    memory_mb = Integer(
        256, help="Memory (MB of address space) a case may use; a question may lower it."
    ).tag(config=True)

    pids = Integer(64, help="Processes and threads a run may have at once.").tag(config=True)

    output_bytes = Integer(
        1024 * 1024,
        help="Bytes of stdout + stderr a case may write; more fails it with 'output limit'.",
    ).tag(config=True)

    result_bytes = Integer(
        4 * 1024 * 1024,
        help="Largest return value of a case (as JSON); larger fails with 'output limit'.",
    ).tag(config=True)

    fsize_mb = Integer(16, help="Largest file a run may write (MB).").tag(config=True)

    nofile = Integer(256, help="Open files per process in a run.").tag(config=True)

    tmp_mb = Integer(
        16, help="Size (MB) of each private writable tmpfs: /work, /tmp, /dev/shm."
    ).tag(config=True)

    channel_bytes = Integer(
        32 * 1024 * 1024,
        help="""Bytes the service reads from one sandbox run (the harness's report); a run
        that writes more is killed.""",
    ).tag(config=True)

    max_concurrent = Integer(
        help="Sandbox runs at once; more wait their turn. Defaults to twice the CPU count."
    ).tag(config=True)

    @default("max_concurrent")
    def _default_max_concurrent(self) -> int:
        return 2 * (os.cpu_count() or 1)

    complexity_min_time = Float(
        0.005,
        help="""Each complexity timing round repeats the call on fresh copies of the input
        until this many seconds were measured and keeps the fastest call, so that a
        preempted call does not distort the curve.""",
    ).tag(config=True)

    deno_complexity_min_time = Float(
        0.02,
        help="""complexity_min_time for JavaScript and TypeScript. V8 compiles a hot function
        to machine code only after it has run a while, and its calls are short, so each round
        needs longer than Python's to reach and measure the compiled code.""",
    ).tag(config=True)

    complexity_min_confidence = Float(
        0.5,
        help="Below this confidence an estimate is reported as uncertain (matches stays false).",
    ).tag(config=True)

    sandbox = Instance(Sandbox, allow_none=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._semaphore: asyncio.Semaphore | None = None

    @staticmethod
    def sandbox_classes() -> list[type]:
        """The configurable sandbox backends (``BwrapSandbox.*``, ``DockerSandbox.*``)."""
        from ..sandbox.bwrap import BwrapSandbox
        from ..sandbox.docker import DockerSandbox

        return [BwrapSandbox, DockerSandbox]

    def get_sandbox(self) -> Sandbox:
        if self.sandbox is None:
            if self.backend == "docker":
                from ..sandbox.docker import DockerSandbox

                self.sandbox = DockerSandbox(parent=self)
            else:
                from ..sandbox.bwrap import BwrapSandbox

                self.sandbox = BwrapSandbox(parent=self)
        return self.sandbox

    @property
    def semaphore(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_concurrent)
        return self._semaphore

    # -- limits -----------------------------------------------------------------------------

    def run_limits(self, limits: dict[str, Any] | None, *, wall_s: float) -> RunLimits:
        """Service limits, tightened (never loosened) by a question's ``limits``."""
        limits = dict(limits or {})
        cpu_s = self.cpu_s
        memory_mb = self.memory_mb
        output_bytes = self.output_bytes
        for key, value in limits.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise GraderInputError(f"limits.{key} must be a positive number, got {value!r}")
            if key == "time_s":
                cpu_s = min(cpu_s, float(value))
            elif key == "memory_mb":
                memory_mb = min(memory_mb, int(value))
            elif key == "wall_s":
                wall_s = min(wall_s, float(value))
            elif key == "output_bytes":
                output_bytes = min(output_bytes, int(value))
            else:
                raise GraderInputError(
                    f"unknown limit {key!r}; a question may set time_s, memory_mb, wall_s, "
                    f"output_bytes"
                )
        return RunLimits(
            cpu_s=cpu_s,
            case_wall_s=min(cpu_s * self.case_wall_factor, wall_s),
            wall_s=wall_s,
            memory_mb=memory_mb,
            output_bytes=output_bytes,
            result_bytes=self.result_bytes,
        )

    def longest_run_s(self) -> float:
        """Wall-clock seconds one Run or Submit can take once it has its sandboxes.

        The cases, then a custom checker's pass over their results (each up to ``wall_s``),
        beside a Submit's complexity measurement (up to ``complexity_wall_s``); every sandbox
        run also gets the start-up grace. Waiting for a free sandbox is not included.
        """
        cases = 2 * (self.wall_s + SANDBOX_START_GRACE_S)
        return max(cases, self.complexity_wall_s + SANDBOX_START_GRACE_S)

    def _harness_limits(self, limits: RunLimits, sandbox: Sandbox) -> dict[str, Any]:
        return {
            "cpu_s": limits.cpu_s,
            "case_wall_s": limits.case_wall_s,
            "memory_mb": limits.memory_mb,
            "fsize_mb": self.fsize_mb,
            "nofile": self.nofile,
            # Inside bwrap each run has its own user namespace, so RLIMIT_NPROC counts per run;
            # a container shares its uid with every other container, so pids_limit does it.
            "nproc": self.pids if sandbox.name == "bwrap" else 0,
            "output_bytes": limits.output_bytes,
            "result_bytes": limits.result_bytes,
        }

    def _sandbox_limits(self, limits: RunLimits, language: str = "python") -> SandboxLimits:
        deno = uses_deno(language)
        return SandboxLimits(
            address_space=not deno,
            deno=deno,
            # A little start-up grace on top of the run's own budget.
            wall_s=limits.wall_s + SANDBOX_START_GRACE_S,
            cpu_s=max(limits.wall_s, limits.cpu_s) + 1.0,
            # The harness parent and the case child both live under this; the child's own
            # RLIMIT_AS (memory_mb) trips first, so a bomb is reported as a memory limit.
            memory_mb=limits.memory_mb + 64,
            pids=self.pids,
            fsize_mb=self.fsize_mb,
            nofile=self.nofile,
            output_bytes=self.channel_bytes,
            tmp_mb=self.tmp_mb,
        )

    async def _run_job(self, job: dict[str, Any], limits: RunLimits) -> SandboxResult:
        sandbox = self.get_sandbox()
        job["limits"] = self._harness_limits(limits, sandbox)
        language = job.get("language", "python")
        if uses_deno(language):
            job["deno"] = sandbox.deno_inside
            job["deno_files"] = DENO_FILES
        stdin = json.dumps({"modules": HARNESS_MODULES, "job": job}).encode()
        async with self.semaphore:
            return await sandbox.run_python(
                PYTHON_ARGS, stdin=stdin, limits=self._sandbox_limits(limits, language)
            )

    @staticmethod
    def _language(language: object) -> str:
        try:
            return check_language(language)
        except ValueError as e:
            raise GraderInputError(str(e)) from None

    # -- running cases ----------------------------------------------------------------------

    async def run_cases(
        self,
        *,
        source: str,
        entry_point: str,
        cases: list[dict[str, Any]],
        checker: str = "exact",
        checker_source: str | None = None,
        limits: dict[str, Any] | None = None,
        language: str = "python",
    ) -> GradeReport:
        """Run ``entry_point`` of ``source`` (in ``language``) on every case; compare with
        ``expected`` here."""
        language = self._language(language)
        if not isinstance(source, str):
            raise GraderInputError("source must be a string of code")
        if not isinstance(entry_point, str) or not entry_point.isidentifier():
            raise GraderInputError(f"entry_point must be a Python identifier, got {entry_point!r}")
        compare = None
        if checker == "custom":
            if not checker_source:
                raise GraderInputError("checker 'custom' needs the checker cell's source")
        else:
            try:
                compare = builtin_checker(checker)
            except CheckerError as e:
                raise GraderInputError(str(e)) from None
        for i, case in enumerate(cases):
            if not isinstance(case, dict) or not isinstance(case.get("args"), list):
                raise GraderInputError(f"case {i} has no 'args' list")
        run_limits = self.run_limits(limits, wall_s=self.wall_s)
        job = {
            "mode": "cases",
            "language": language,
            "source": source,
            "entry_point": entry_point,
            # Inputs only: expected values never enter the student's sandbox.
            "cases": [{"args": case["args"]} for case in cases],
        }
        started = time.monotonic()
        try:
            result = await self._run_job(job, run_limits)
        except SandboxError as e:
            self.log.error("Grader sandbox failed: %s", e)
            report = GradeReport(verdict="error", message=f"The grader could not run: {e}")
            report.cases = [
                CaseResult(name=case_name(c, i), passed=False, reason=ERROR)
                for i, c in enumerate(cases)
            ]
            return report
        report = grade_cases(cases, result, compare, self.log)
        if checker == "custom" and checker_source:
            await self._custom_check(report, cases, checker_source, run_limits)
        report.backend = result.backend
        report.wall_s = time.monotonic() - started
        report.verdict = overall_verdict(report)
        return report

    async def _custom_check(
        self,
        report: GradeReport,
        cases: list[dict[str, Any]],
        checker_source: str,
        limits: RunLimits,
    ) -> None:
        """Ask the instructor's ``check(args, expected, got)`` in a sandbox of its own."""
        pending = [i for i, c in enumerate(report.cases) if c.reason is None]
        if not pending:
            return
        job = {
            "mode": "check",
            "checker_source": checker_source,
            "items": [
                {
                    "args": cases[i].get("args"),
                    "expected": cases[i].get("expected"),
                    "got": report.cases[i].got,
                }
                for i in pending
            ],
        }
        try:
            result = await self._run_job(job, limits)
        except SandboxError as e:
            self.log.error("Grader: custom checker sandbox failed: %s", e)
            result = SandboxResult()
        records = parse_channel(result.stdout, "check", len(pending))
        for extra in records.extra:
            self.log.warning("Grader: custom checker failed: %s", extra.get("error", "")[-500:])
        for k, i in enumerate(pending):
            record = records.by_index.get(k)
            case = report.cases[i]
            if record is None or "error" in record or k in records.duplicates:
                case.reason = ERROR
                case.error = "The question's checker failed on this case; tell the instructor."
                if record and isinstance(record.get("error"), str):
                    self.log.warning("Grader: checker error: %s", record["error"][-500:])
                continue
            case.passed = record.get("passed") is True
            if not case.passed:
                case.reason = WRONG_ANSWER

    # -- complexity -------------------------------------------------------------------------

    async def measure_complexity(
        self,
        *,
        source: str,
        entry_point: str,
        generator: str,
        sizes: list[int],
        expected: str | None,
        repeats: int = 3,
        limits: dict[str, Any] | None = None,
        language: str = "python",
    ) -> ComplexityReport:
        """Time ``entry_point`` on generated inputs of the given sizes and fit a growth class."""
        language = self._language(language)
        try:
            job = measuring_job(
                source=source,
                entry_point=entry_point,
                generator=generator,
                sizes=sizes,
                repeats=repeats,
                min_time=(
                    self.deno_complexity_min_time
                    if uses_deno(language)
                    else self.complexity_min_time
                ),
                language=language,
            )
        except ValueError as e:
            raise GraderInputError(str(e)) from None
        run_limits = self.run_limits(limits, wall_s=self.complexity_wall_s)
        try:
            result = await self._run_job(job, run_limits)
        except SandboxError as e:
            self.log.error("Grader sandbox failed: %s", e)
            return ComplexityReport(None, 0.0, expected, message=f"The grader could not run: {e}")
        report, problems = measured_report(
            result, sizes, expected, min_confidence=self.complexity_min_confidence
        )
        for problem in problems:
            self.log.warning("Grader: generator failed: %s", problem)
        return report
