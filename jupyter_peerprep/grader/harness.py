"""The grading harness: runs INSIDE the sandbox, standard library only, Python 3.10+.

It is not imported by the service; its source is sent to the sandbox on stdin together with the
job (see ``BOOTSTRAP`` in ``grader.py``) and executed there with ``JOB`` bound to the job dict.

Trust model. This process never executes student code itself. For every case it forks a child,
and only the child compiles and calls the student's entry point, with its own rlimits, its
stdin on /dev/null and its stdout/stderr on pipes this process reads with a cap. The child's
only channel back is a private pipe carrying one JSON record. This process marks itself
non-dumpable, so a child (same uid) can neither ptrace it nor open its /proc/<pid>/fd.

The harness reports *raw* results only, one JSON line per case on its stdout:
``{"type": "case", "index": i, "status": "ok"|"error"|"timeout"|"memory"|"output"|"load_error",
"got": ..., ...}`` (a complexity run: one ``point`` line per size, then one ``count`` line per
size), then ``{"type": "done"}``. It never sees an expected value of a hidden test
and computes no verdict: the service validates these lines and decides pass/fail outside the
sandbox. A student who forges lines can at most claim a return value they could have returned
anyway; a student who kills this process only loses the remaining cases.

Job modes:
- ``cases``: call ``entry_point(*args)`` for each case;
- ``complexity``: run the instructor's ``generate(n, rng)`` here (instructor code, before any
  student code), then time the student's function on each size in a child, and count its
  steps and peak memory in another (``counting.py``; the child's report, checked outside).
  The times are taken by this process, never reported by the child: it reads the CPU time the kernel
  charged to the child (``/proc/<child>/schedstat``, nanoseconds) while the child is blocked
  before and after each call it allows (``time_calls``), and the child may not start threads
  or processes (RLIMIT_NPROC 1) whose time would not be counted;
- ``check``: the instructor's custom ``check(args, expected, got)``; run in its own sandbox,
  never together with student code.
"""

# exec is what a harness does; it avoids contextlib and f-strings to stay small and obvious.
# serve_calls, CallDriver and ProtocolError come from timing.py, run first in this namespace.
# ruff: noqa: S102, S110, S311, SIM105, UP031
from __future__ import annotations

import ctypes
import json
import math
import os
import random
import resource
import select
import signal
import sys
import time
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # in the sandbox they come from timing.py, counting.py and deno_child.py
    from .counting import count_size
    from .deno_child import (
        deno_child_limits,
        deno_out_of_memory,
        exec_deno,
        is_deno_job,
        prepare_deno,
        split_marked,
        write_input,
    )
    from .timing import time_size

PR_SET_DUMPABLE = 4
DISPLAY_BYTES = 8192

_perf_counter = time.perf_counter
_monotonic = time.monotonic
_write = os.write


def emit(record):
    """One JSON line on stdout, written with os.write (no buffering surprises)."""
    data = (json.dumps(record, allow_nan=True, separators=(",", ":")) + "\n").encode()
    view = memoryview(data)
    while view:
        n = _write(1, view)
        view = view[n:]


def make_undumpable():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except Exception:
        pass


def set_child_limits(limits):
    cpu = max(1, math.ceil(float(limits["cpu_s"])))
    pairs = [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_CORE, (0, 0)),
    ]
    if limits.get("memory_mb"):
        mem = int(limits["memory_mb"]) * 1024 * 1024
        pairs.append((resource.RLIMIT_AS, (mem, mem)))
    if limits.get("fsize_mb"):
        size = int(limits["fsize_mb"]) * 1024 * 1024
        pairs.append((resource.RLIMIT_FSIZE, (size, size)))
    if limits.get("nofile"):
        pairs.append((resource.RLIMIT_NOFILE, (int(limits["nofile"]), int(limits["nofile"]))))
    if limits.get("nproc"):
        pairs.append((resource.RLIMIT_NPROC, (int(limits["nproc"]), int(limits["nproc"]))))
    for which, (soft, hard) in pairs:
        try:
            _, old_hard = resource.getrlimit(which)
            if old_hard != resource.RLIM_INFINITY:
                hard = min(hard, old_hard)
                soft = min(soft, hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass


def close_fds_except(keep):
    try:
        fds = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def wire_child(fds):
    """In a forked child: its own process group, stdin from /dev/null, ``fds`` as descriptors
    1, 2, 3, ... (stdout, stderr, then the channels to the harness) and nothing else open."""
    os.setpgid(0, 0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for target, fd in enumerate(fds, start=1):
        os.dup2(fd, target)
    close_fds_except(set(range(len(fds) + 1)))
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115


def child_write(fd, record):
    try:
        text = json.dumps(record, allow_nan=True)
    except (TypeError, ValueError, RecursionError) as e:
        text = json.dumps({"status": "error", "error": "could not encode result: " + str(e)})
    data = text.encode()
    view = memoryview(data)
    while view:
        view = view[_write(fd, view) :]


def to_json_value(value, depth=0):
    """The return value as JSON, or raise TypeError naming what is not JSON."""
    if depth > 200:
        raise TypeError("return value nested more than 200 levels deep")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        # A set is a list in a canonical order; the `unordered` checker ignores order anyway.
        items = [to_json_value(v, depth + 1) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError("dict key %r is not a string" % (k,))
            out[k] = to_json_value(v, depth + 1)
        return out
    raise TypeError("a %s is not a JSON value" % type(value).__name__)


def load_entry(source, entry_point):
    namespace = {"__name__": "solution", "__builtins__": __builtins__}
    code = compile(source, "solution.py", "exec")
    exec(code, namespace)
    fn = namespace.get(entry_point)
    if not callable(fn):
        raise NameError("the solution defines no function named %r" % entry_point)
    return fn


def trimmed_traceback():
    """The traceback without the harness's own frames."""
    etype, value, tb = sys.exc_info()
    own = ("harness", "timing", "counting", "<string>")
    frames = [f for f in traceback.extract_tb(tb) if f.filename not in own]
    lines = traceback.format_list(frames) + traceback.format_exception_only(etype, value)
    return "Traceback (most recent call last):\n" + "".join(lines)


def case_body(job, payload):
    """In the child: load the solution and call it; returns the record for the parent."""
    try:
        fn = load_entry(job["source"], job["entry_point"])
    except MemoryError:
        return {"status": "memory"}
    except BaseException:
        return {"status": "load_error", "error": trimmed_traceback()}
    try:
        args = payload["args"]
        start = _perf_counter()
        got = fn(*args)
        elapsed = _perf_counter() - start
        try:
            value = to_json_value(got)
        except TypeError as e:
            return {"status": "ok", "not_json": str(e), "got_repr": repr(got)[:2000]}
        return {"status": "ok", "got": value, "call_s": elapsed}
    except MemoryError:
        return {"status": "memory"}
    except RecursionError:
        return {"status": "error", "error": trimmed_traceback()}
    except BaseException:
        return {"status": "error", "error": trimmed_traceback()}


def run_child(job, payload, limits, body=None):
    """Fork a child for one case (or ``body``); collect its result, output, time and memory."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    deno = is_deno_job(job)
    nonce = os.urandom(8).hex()
    if deno:
        write_input(job, payload["args"], nonce=nonce)
    started = _monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            wire_child([out_w, err_w, res_w])
            if deno:
                set_child_limits(deno_child_limits(limits))
                exec_deno(job, "case.js", limits)
            set_child_limits(limits)
            record = (body or case_body)(job, payload)
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:
                pass
            child_write(3, record)
        finally:
            os._exit(0)
    for fd in (out_w, err_w, res_w):
        os.close(fd)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    cap = int(limits["output_bytes"])
    result_cap = int(limits["result_bytes"])
    bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
    seen = {out_r: 0, err_r: 0}
    # Deno's case record arrives on stdout after a marker (see deno_child.split_marked).
    raw_out = bytearray()
    raw_cap = cap + result_cap + 4096
    open_fds = set(bufs)
    deadline = started + float(limits["case_wall_s"])
    killed = None
    exited = None  # (status, usage) once the child is gone
    drain_until = None
    while open_fds:
        now = _monotonic()
        if exited is None and now >= deadline:
            killed = "timeout"
            break
        if drain_until is not None and now >= drain_until:
            break  # a grandchild holds the pipes open; the case itself is over
        limit_at = drain_until if drain_until is not None else deadline
        ready, _, _ = select.select(list(open_fds), [], [], max(0.0, min(limit_at - now, 0.05)))
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                open_fds.discard(fd)
                os.close(fd)
                continue
            if fd == res_r:
                bufs[fd] += chunk
                if len(bufs[fd]) > result_cap:
                    killed = "result"
            elif deno and fd == out_r:
                raw_out += chunk
                if len(raw_out) > raw_cap:
                    killed = "output"
            else:
                seen[fd] += len(chunk)
                room = DISPLAY_BYTES - len(bufs[fd])
                if room > 0:
                    bufs[fd] += chunk[:room]
                if seen[out_r] + seen[err_r] > cap:
                    killed = "output"
        if killed:
            break
        if exited is None:
            done_pid, status, usage = os.wait4(pid, os.WNOHANG)
            if done_pid:
                exited = (status, usage)
                ended = _monotonic()
                drain_until = ended + 0.2
    killed_at = None
    if killed or exited is None:
        kill_tree(pid)
        killed_at = _monotonic()
    for fd in open_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    if exited is None:
        _, status, usage = os.wait4(pid, 0)
        # A killed case ran until we killed it; the kernel's cleanup after that (slow when
        # the program thrashed memory) is not its running time.
        ended = killed_at if killed_at is not None else _monotonic()
    else:
        status, usage = exited
    wall = ended - started
    if deno:
        printed, bufs[res_r] = split_marked(bytes(raw_out), nonce)
        seen[out_r] = len(printed)
        bufs[out_r] = bytearray(printed[:DISPLAY_BYTES])
        if len(bufs[res_r]) > result_cap:
            killed = "result"
        elif seen[out_r] + seen[err_r] > cap:
            killed = "output"
    # A daemon the child left behind in its process group goes too.
    kill_tree(pid)
    record = {
        "wall_ms": round(wall * 1000, 3),
        "cpu_ms": round((usage.ru_utime + usage.ru_stime) * 1000, 3),
        "peak_kb": int(usage.ru_maxrss),
        "stdout": bytes(bufs[out_r]).decode("utf-8", "replace"),
        "stderr": bytes(bufs[err_r]).decode("utf-8", "replace"),
        "stdout_truncated": seen[out_r] > len(bufs[out_r]),
        "stderr_truncated": seen[err_r] > len(bufs[err_r]),
    }
    if os.WIFSIGNALED(status):
        record["signal"] = os.WTERMSIG(status)
    else:
        record["exit_code"] = os.WEXITSTATUS(status)
    if killed == "timeout":
        record["status"] = "timeout"
        return record
    if killed in ("output", "result"):
        record["status"] = "output"
        return record
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        record["status"] = "timeout"
        return record
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXFSZ:
        record["status"] = "error"
        record["error"] = "the program wrote a file larger than the file size limit"
        return record
    try:
        child = json.loads(bytes(bufs[res_r]).decode("utf-8"))
        if not isinstance(child, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError):
        record["status"] = "error"
        if deno and deno_out_of_memory(bytes(bufs[err_r])):
            record["status"] = "memory"  # V8's heap limit (a fatal error, not an exception)
        elif os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            # Killed without a timeout of ours: the memory cgroup's OOM killer.
            record["status"] = "memory"
        elif os.WIFSIGNALED(status):
            record["error"] = "the program was killed by signal %d" % os.WTERMSIG(status)
        else:
            record["error"] = "the program exited (code %d) before returning a value" % (
                os.WEXITSTATUS(status)
            )
        return record
    child.update(record)
    child["status"] = child.get("status") if child.get("status") else "error"
    return child


def kill_tree(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def reap_orphans():
    """Reap anything re-parented to us (we may be a pid namespace's init in a container)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run_cases(job):
    limits = job["limits"]
    if is_deno_job(job):
        prepare_deno(job)
    for index, case in enumerate(job["cases"]):
        record = run_child(job, {"kind": "case", "args": case["args"]}, limits)
        record["type"] = "case"
        record["index"] = index
        emit(record)
        reap_orphans()
        if record["status"] == "load_error":
            break


def run_complexity(job):
    limits = job["limits"]
    if is_deno_job(job):
        prepare_deno(job)
    namespace: dict = {"__name__": "generator"}
    try:
        exec(compile(job["generator"], "generator.py", "exec"), namespace)
        generate = namespace["generate"]
        inputs = []
        for n in job["sizes"]:
            args = generate(int(n), random.Random(int(job.get("seed", 0)) + int(n)))
            inputs.append(list(args))
    except BaseException:
        emit({"type": "generator_error", "error": traceback.format_exc()[-4000:]})
        return
    # What timing a call costs by itself (a call of nothing in a child of our own); it is
    # taken off every measured call.
    base = time_size(
        job, [], limits, trusted=True, settings={"repeats": 1, "min_loops": 20, "max_loops": 20}
    )
    overhead_s = min(base["rounds"]) if base["status"] == "ok" and base["rounds"] else 0.0
    for index, (n, args) in enumerate(zip(job["sizes"], inputs, strict=True)):
        record = time_size(job, args, limits, overhead_s=overhead_s)
        record["type"] = "point"
        record["index"] = index
        record["n"] = n
        emit(record)
        reap_orphans()
        if record["status"] != "ok":
            return
    # Counted after every size is timed: a run that reaches its wall clock while counting
    # still has its times. Steps are counted in Python only; Deno's growth comes from time.
    if is_deno_job(job):
        return
    for index, args in enumerate(inputs):
        record = count_size(job, args, limits)
        record["type"] = "count"
        record["index"] = index
        emit(record)


def run_checks(job):
    limits = job["limits"]
    namespace: dict = {"__name__": "checker"}
    try:
        exec(compile(job["checker_source"], "checker.py", "exec"), namespace)
        check = namespace["check"]
    except BaseException:
        emit({"type": "checker_error", "error": traceback.format_exc()[-4000:]})
        return
    set_child_limits(limits)
    for index, item in enumerate(job["items"]):
        try:
            ok = check(item["args"], item["expected"], item["got"])
            emit({"type": "check", "index": index, "passed": bool(ok) is True})
        except BaseException:
            emit({"type": "check", "index": index, "error": traceback.format_exc()[-4000:]})


def main(job):
    make_undumpable()
    os.umask(0o077)
    mode = job["mode"]
    if mode == "cases":
        run_cases(job)
    elif mode == "complexity":
        run_complexity(job)
    elif mode == "check":
        run_checks(job)
    else:
        emit({"type": "harness_error", "error": "unknown mode %r" % mode})
        return
    emit({"type": "done"})


if __name__ == "__harness__":
    main(JOB)  # type: ignore[name-defined]  # noqa: F821
