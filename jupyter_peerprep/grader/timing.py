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
at ``wait4``), and a child that answers anything but ``r`` and ``d`` has broken the protocol:
its size is reported as an error.
"""

# ruff: noqa: SIM105, UP031
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


class ProtocolError(Exception):
    """The timed child answered something other than the protocol's bytes."""


def cpu_ns(pid):
    """CPU time (ns) the kernel has charged to ``pid``'s main thread."""
    with open("/proc/%d/schedstat" % pid, "rb") as f:
        return int(f.read().split()[0])


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
    """In the harness: drives a timed child's calls and measures each from outside."""

    def __init__(self, pid, ack_fd, ctl_fd, drain_fds, deadline, on_output):
        self.pid = pid
        self.ack_fd = ack_fd
        self.ctl_fd = ctl_fd
        self.drain_fds = set(drain_fds)
        self.deadline = deadline
        self.on_output = on_output  # called with each chunk of the child's stdout/stderr
        self.exited = None  # (status, rusage) once the child is gone
        self.call_started = 0.0
        self.tail = b""  # what the child wrote after a protocol byte it was not asked for

    def _next_byte(self):
        """The child's next protocol byte; b"" when it exited; None at the deadline."""
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
                    self.on_output(chunk)
            if self.ack_fd in ready:
                return os.read(self.ack_fd, 1)

    def _blocked_cpu(self):
        while not is_blocked(self.pid):
            if time.monotonic() >= self.deadline:
                return None
            time.sleep(0)
        return cpu_ns(self.pid)

    def _reap(self):
        _, status, usage = os.wait4(self.pid, 0)
        self.exited = (status, usage)
        return int((usage.ru_utime + usage.ru_stime) * CPU_CLOCK_NS)

    def expect(self, wanted):
        byte = self._next_byte()
        if byte is None:
            return "timeout"
        if byte == b"":
            return "exited"
        if byte != wanted:
            self.tail = byte
            raise ProtocolError(byte)
        return "ok"

    def one_batch(self, batch):
        """Seconds of CPU ``batch`` calls took, measured here; (None, why) when they could not
        be measured."""
        before = self._blocked_cpu()
        if before is None:
            return None, "timeout"
        self.call_started = time.monotonic()
        try:
            os.write(self.ctl_fd, b"g")
        except OSError:
            return None, "exited"
        state = self.expect(b"d")
        if state == "timeout":
            return None, "timeout"
        if state == "exited":
            # It left in the calls (os._exit, a crash): they ran until then.
            return max(0, self._reap() - before) / CPU_CLOCK_NS, "exited"
        after = self._blocked_cpu()
        if after is None:
            return None, "timeout"
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
                seconds, state = self.one_batch(batch)
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
    try:
        wire_child([out_w, err_w, ack_w, ctl_r])
        # No threads or processes: the main thread's CPU time is all the child's CPU time.
        set_child_limits(dict(limits, nproc=1))
        fn = noop if trusted else load_entry(job["source"], job["entry_point"])
        serve_calls(fn, args, 3, 4, os.write)
    except MemoryError:
        _try_write(3, b"m")
    except BaseException:
        _try_write(3, b"e" + trimmed_traceback()[-4000:].encode("utf-8", "replace"))
    finally:
        os._exit(0)


def _try_write(fd, data):
    try:
        os.write(fd, data)
    except OSError:
        pass


class OutputExceeded(Exception):
    pass


def time_size(job, args, limits, trusted=False, overhead_s=0.0, settings=None):
    """Fork a timed child for one input and time its calls from here (``timing.py``)."""
    settings = settings or job
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

    def on_output(chunk):
        seen[0] += len(chunk)
        if seen[0] > int(limits["output_bytes"]):
            raise OutputExceeded()

    driver = CallDriver(
        pid, ack_r, ctl_w, [out_r, err_r], started + float(limits["case_wall_s"]), on_output
    )
    record: dict = {}
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
        record["status"] = "timeout" if state == "timeout" else "ok"
    except ProtocolError:
        record["status"] = "error"
        if driver.tail == b"m":
            record["status"] = "memory"
        elif driver.tail == b"e":
            record["error"] = _read_available(ack_r, deadline=time.monotonic() + 0.5)
        else:
            record["error"] = "the program wrote into the grader's timing channel"
    except OutputExceeded:
        record["status"] = "output"
    kill_tree(pid)
    if driver.exited is None:
        _, status, _ = os.wait4(pid, 0)
    else:
        status = driver.exited[0]
    for fd in (out_r, err_r, ack_r, ctl_w):
        try:
            os.close(fd)
        except OSError:
            pass
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        record["status"] = "timeout"
    elif record["status"] == "ok" and not rounds:
        record["status"] = "error"
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            record["status"] = "memory"  # the memory cgroup's OOM killer
        record.setdefault("error", "the program exited before a call could be timed")
    record["rounds"] = rounds
    record["wall_ms"] = round((time.monotonic() - started) * 1000, 3)
    return record


def _read_available(fd, deadline):
    data = b""
    while len(data) < 8192 and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 8192)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")
