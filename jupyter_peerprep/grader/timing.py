"""Timing a solution's calls from outside the process that makes them: runs INSIDE the sandbox.

Standard library only. Like ``harness.py`` it is not imported by the service: ``grader.py``
sends its source to the sandbox, where it is executed before the harness in one namespace.

Two processes, one boundary. The *timed child* (student code) loads the solution, makes fresh
copies of the input, says ``r`` and blocks until the harness says ``g``; then it makes one
batch of calls, says ``d`` and blocks again until ``c`` (with the next batch's size) or the
end. The *harness* (``CallDriver``) decides how many calls there are and measures each batch
itself: the CPU time the kernel has charged to the child (``/proc/<pid>/schedstat``,
nanoseconds), read once the child is blocked before ``g`` and once it is blocked after ``d``.
Nothing the child writes is a time; a child that makes fewer calls than asked only makes its
own solution look faster, which it could as well by returning early. The child cannot start
threads or processes (RLIMIT_NPROC is 1 for it), so its one thread is all the CPU it uses. A
child that exits in a call has that call measured up to its exit (the kernel's account of it
at ``wait4``). Other bytes on the channel are skipped (up to ``GARBAGE_BYTES``); a ``d`` sent
early gains nothing, as the CPU is read only once the child is blocked. Errors travel as exit
codes (``EXIT_ERROR`` with the traceback on stderr, ``EXIT_MEMORY``), never on the channel.
"""

# ruff: noqa: S110, SIM105, UP031
from __future__ import annotations

import copy
import json
import os
import select
import signal
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # in the sandbox they come from harness.py, run in this same namespace
    from .deno_child import (
        deno_child_limits,
        deno_out_of_memory,
        exec_deno,
        is_deno_job,
        wire_timed,
        write_input,
    )
    from .harness import (
        kill_tree,
        load_entry,
        set_child_limits,
        trimmed_traceback,
        wire_child,
    )

CPU_CLOCK_NS = 1_000_000_000
# A batch of calls holds a fresh copy of the input per call: at most about this many bytes of
# copies (the input's JSON size stands in for its size in memory).
BATCH_COPY_BYTES = 4 * 1024 * 1024
# Bytes other than the protocol's a child may write on its channel before it is cut off.
GARBAGE_BYTES = 65536
EXIT_ERROR = 3  # the solution raised (the traceback is on stderr)
EXIT_MEMORY = 4  # the solution ran out of memory


class ProtocolError(Exception):
    """The timed child flooded its channel with bytes that are not the protocol's."""


def cpu_ns(pid):
    """CPU time (ns) the kernel has charged to ``pid``'s threads (a Python child has one; Deno
    has a few of its own); None once it is gone."""
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    total = 0
    for task in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, task), "rb") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            if task == str(pid):
                return None
    return total


def is_blocked(pid):
    """Whether ``pid`` is not running (its schedstat figure is then exact, not a tick behind)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return True
    end = data.rindex(b")")
    return data[end + 2 : end + 3] != b"R"


def serve_calls(fn, args, ack_fd, ctl_fd, write):
    """In the timed child: per ``g``, one batch of calls of ``fn``, each on its own fresh copy
    of ``args`` made before the batch; ``c`` with a number sets the next batch's size."""
    batch = 1
    while True:
        copies = [copy.deepcopy(args) for _ in range(batch)]
        write(ack_fd, b"r")
        if os.read(ctl_fd, 1) != b"g":
            return None
        for fresh in copies:
            fn(*fresh)
        write(ack_fd, b"d")
        command = os.read(ctl_fd, 5)
        if command[:1] != b"c":
            return None
        batch = max(1, int.from_bytes(command[1:5], "big"))


class CallDriver:
    """In the harness: drives a timed child's calls and measures each batch from outside."""

    def __init__(self, pid, ack_fd, ctl_fd, drain_fds, deadline, on_output):
        self.pid = pid
        self.ack_fd = ack_fd
        self.ctl_fd = ctl_fd
        self.drain_fds = set(drain_fds)
        self.deadline = deadline
        self.on_output = on_output  # called with (fd, chunk) of the child's stdout/stderr
        self.exited = None  # (status, rusage) once the child is gone
        self.call_started = 0.0
        self.garbage = 0

    def _next_byte(self):
        """The child's next byte on the channel; b"" when it exited; None at the deadline."""
        while True:
            now = time.monotonic()
            if now >= self.deadline:
                return None
            fds = [self.ack_fd, *self.drain_fds]
            ready, _, _ = select.select(fds, [], [], min(self.deadline - now, 0.05))
            for fd in ready:
                if fd == self.ack_fd:
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.drain_fds.discard(fd)
                else:
                    self.on_output(fd, chunk)
            if self.ack_fd in ready:
                return os.read(self.ack_fd, 1)

    def drain(self):
        """Read the child's stdout and stderr to their end (it has exited)."""
        while self.drain_fds and time.monotonic() < self.deadline:
            fds = list(self.drain_fds)
            ready, _, _ = select.select(fds, [], [], min(self.deadline - time.monotonic(), 0.05))
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.drain_fds.discard(fd)
                else:
                    self.on_output(fd, chunk)

    def expect(self, wanted):
        """Wait for ``wanted``: "ok", "exited" or "timeout"; other bytes are skipped."""
        while True:
            byte = self._next_byte()
            if byte is None:
                return "timeout"
            if byte == b"":
                return "exited"
            if byte == wanted:
                return "ok"
            self.garbage += 1
            if self.garbage > GARBAGE_BYTES:
                raise ProtocolError()

    def _blocked_cpu(self):
        """The child's CPU time once it is blocked; None at the deadline or once it is gone."""
        while not is_blocked(self.pid):
            if time.monotonic() >= self.deadline:
                return None
            time.sleep(0)
        return cpu_ns(self.pid)

    def _reap(self):
        """Wait for the child's exit; its CPU time (ns) as the kernel accounted it."""
        if self.exited is None:
            _, status, usage = os.wait4(self.pid, 0)
            self.exited = (status, usage)
        usage = self.exited[1]
        return int((usage.ru_utime + usage.ru_stime) * CPU_CLOCK_NS)

    def one_batch(self):
        """Seconds of CPU the batch took, measured here, and "ok", "exited" or "timeout"."""
        before = self._blocked_cpu()
        if before is None:
            return None, "timeout" if time.monotonic() >= self.deadline else "exited"
        self.call_started = time.monotonic()
        try:
            os.write(self.ctl_fd, b"g")
        except OSError:
            return None, "exited"
        state = self.expect(b"d")
        if state == "timeout":
            return None, "timeout"
        after = None if state == "exited" else self._blocked_cpu()
        if after is None:
            if time.monotonic() >= self.deadline:
                return None, "timeout"
            # It left in the calls (os._exit, a crash): they ran until then.
            self.expect(b"")  # wait for the channel to close before reaping
            return max(0, self._reap() - before) / CPU_CLOCK_NS, "exited"
        return (after - before) / CPU_CLOCK_NS, "ok"

    def next_batch(self, batch):
        """Let the child copy the input for the next ``batch`` calls; the state it reports."""
        try:
            os.write(self.ctl_fd, b"c" + int(batch).to_bytes(4, "big"))
        except OSError:
            return "exited"
        return self.expect(b"r")

    def rounds(self, repeats, min_time, min_loops, max_loops, overhead_s=0.0, max_batch=1):
        """``repeats`` rounds, each of batches of calls until they took ``min_time`` seconds of
        wall clock; per round the CPU time of the fastest call (the least disturbed), a
        batch's time less ``overhead_s`` (what timing costs), over its calls. Batches grow so
        that one lasts about ``min_time / min_loops`` (timing's cost and the clock's
        granularity then matter little), up to ``max_batch`` calls. Returns (rounds, state)."""
        rounds = []
        batch = 1
        target = min_time / max(1, min_loops)
        state = self.expect(b"r")
        for _ in range(repeats):
            if state != "ok":
                break
            total = 0.0
            best = None
            loops = 0
            while True:
                seconds, state = self.one_batch()
                if seconds is None:
                    break
                # Enough calls is judged by wall-clock time, so that a call that sleeps or
                # waits (and uses little CPU) does not make the round run into the limit.
                wall = time.monotonic() - self.call_started
                total += wall
                per_call = max(0.0, seconds - overhead_s) / batch
                best = per_call if best is None else min(best, per_call)
                loops += batch
                if state != "ok":
                    break
                enough = total >= min_time and loops >= min_loops
                # Sized by wall clock too: a call that sleeps must not make a batch run long.
                batch = max(1, min(max_batch, max_loops, int(target * batch / max(wall, 1e-9))))
                state = self.next_batch(batch)
                if enough or loops >= max_loops:
                    break
            if best is not None:
                rounds.append(best)
        return rounds, state


def noop(*args):
    return None


def timed_child(job, args, limits, trusted, pipes):
    """In the forked child: serve timed calls of the solution (or of ``noop``), then exit."""
    out_w, err_w, ack_w, ctl_r = pipes
    code = 0
    if is_deno_job(job):
        try:
            wire_timed(ctl_r, ack_w, err_w)
            # Deno needs its own few threads; their CPU time is summed (cpu_ns).
            set_child_limits(deno_child_limits(limits))
            exec_deno(job, "timed.js", limits)
        finally:
            os._exit(EXIT_ERROR)
    try:
        wire_child([out_w, err_w, ack_w, ctl_r])
        # No threads or processes: the main thread's CPU time is all the child's CPU time.
        set_child_limits(dict(limits, nproc=1))
        fn = noop if trusted else load_entry(job["source"], job["entry_point"])
        serve_calls(fn, args, 3, 4, os.write)
    except MemoryError:
        code = EXIT_MEMORY
    except BaseException:
        code = EXIT_ERROR
        try:
            os.write(2, trimmed_traceback()[-4000:].encode("utf-8", "replace"))
        except BaseException:
            pass
    finally:
        os._exit(code)


class OutputExceeded(Exception):
    pass


def time_size(job, args, limits, trusted=False, overhead_s=0.0, settings=None):
    """Fork a timed child for one input and time its calls from here."""
    settings = settings or job
    if is_deno_job(job):
        write_input(job, args, trusted=bool(trusted))
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ack_r, ack_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        timed_child(job, args, limits, trusted, (out_w, err_w, ack_w, ctl_r))
    for fd in (out_w, err_w, ack_w, ctl_r):
        os.close(fd)
    seen = [0]
    stderr_tail = bytearray()

    def on_output(fd, chunk):
        seen[0] += len(chunk)
        if fd == err_r:
            stderr_tail.extend(chunk)
            del stderr_tail[:-4000]
        if seen[0] > int(limits["output_bytes"]):
            raise OutputExceeded()

    driver = CallDriver(
        pid, ack_r, ctl_w, [out_r, err_r], started + float(limits["case_wall_s"]), on_output
    )
    record: dict = {"status": "ok"}
    rounds: list = []
    try:
        rounds, state = driver.rounds(
            int(settings.get("repeats", 3)),
            float(settings.get("min_time", 0.005)),
            int(settings.get("min_loops", 3)),
            int(settings.get("max_loops", 1000)),
            overhead_s,
            max_batch=1 if trusted else max(1, BATCH_COPY_BYTES // max(1, len(json.dumps(args)))),
        )
        if state == "timeout":
            record["status"] = "timeout"
        elif state == "exited":
            driver.drain()  # what it wrote on stderr before it went (a traceback)
    except ProtocolError:
        record["status"] = "error"
        record["error"] = "the program flooded the grader's timing channel"
    except OutputExceeded:
        record["status"] = "output"
    kill_tree(pid)
    status = driver.exited[0] if driver.exited is not None else os.wait4(pid, 0)[1]
    for fd in (out_r, err_r, ack_r, ctl_w):
        try:
            os.close(fd)
        except OSError:
            pass
    signalled = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    if signalled == signal.SIGXCPU:
        record["status"] = "timeout"
    elif record["status"] == "ok" and code == EXIT_MEMORY:
        record["status"] = "memory"
    elif record["status"] == "ok" and code == EXIT_ERROR:
        record["status"] = "error"
        record["error"] = stderr_tail.decode("utf-8", "replace")
    elif record["status"] == "ok" and not rounds:
        record["status"] = "error"
        if is_deno_job(job) and deno_out_of_memory(bytes(stderr_tail)):
            record["status"] = "memory"
        elif signalled == signal.SIGKILL:
            record["status"] = "memory"  # the memory cgroup's OOM killer
        record["error"] = "the program exited before a call could be timed"
    record["rounds"] = rounds
    record["wall_ms"] = round((time.monotonic() - started) * 1000, 3)
    return record
