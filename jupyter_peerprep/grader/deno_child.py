"""Running a case or a timed child in Deno: runs INSIDE the sandbox, standard library only.

Like ``timing.py`` it is not imported by the service; ``grader.py`` sends its source to the
sandbox, where it runs before ``harness.py`` in one namespace. The harness forks a child per
case exactly as for Python (same rlimits except the address space, same pipes, same wall
clock); the child then execs Deno on ``case.js`` or ``timed.js`` (``grader/deno/``), which the
harness wrote into the run's private work directory with the solution and ``input.json``.

Deno runs with no ``--allow-*`` flag: no network, no file reads or writes beyond its own
modules, no subprocesses, no environment, no FFI. Memory: V8 reserves gigabytes of address
space it never uses, so RLIMIT_AS cannot bound it; the heap is capped by V8's own flags
(``--max-old-space-size``, ``--wasm-max-mem-pages``) and everything else by the run's memory
cgroup (bwrap as root) or the container's memory limit (docker).
"""

# ruff: noqa: S606, UP031
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # in the sandbox it comes from harness.py, run in this same namespace
    from .harness import close_fds_except

DENO_FLAGS = ["--quiet", "--no-prompt", "--no-remote", "--no-npm", "--no-config", "--no-lock"]
SUFFIXES = {"javascript": "js", "typescript": "ts"}
# Deno's own cache (transpiled TypeScript); written by Deno itself, never by the program.
DENO_DIR = "/tmp/deno"  # noqa: S108 (the run's private tmpfs)
OOM_MARKERS = (b"out of memory", b"Fatal JavaScript invalid size error")


def is_deno_job(job):
    return job.get("language", "python") in SUFFIXES


def prepare_deno(job):
    """Write the runners and the solution (with an export of its entry point) to /work."""
    suffix = SUFFIXES[job["language"]]
    entry = job.get("entry_point") or "entry"
    for name, text in job["deno_files"]:
        with open(name, "w", encoding="utf-8") as f:
            f.write(text.replace("__SUFFIX__", suffix))
    # Appended, so the solution's line numbers stay its own; works for function declarations,
    # const/let/var bindings and classes alike.
    tail = "\nexport const __peerprep_entry = typeof %s === 'undefined' ? undefined : %s;\n"
    with open("solution." + suffix, "w", encoding="utf-8") as f:
        f.write(job.get("source", "") + tail % (entry, entry))


def write_input(job, args, **extra):
    data = {"args": args, "entry": job.get("entry_point")}
    data.update(extra)
    with open("input.json", "w", encoding="utf-8") as f:
        json.dump(data, f, allow_nan=False)


def exec_deno(job, script, limits):
    """Replace this (child) process with Deno running ``script``; never returns."""
    v8 = ["--single-threaded"]
    memory_mb = int(limits.get("memory_mb") or 0)
    if memory_mb:
        v8 += ["--max-old-space-size=%d" % memory_mb, "--wasm-max-mem-pages=%d" % (memory_mb * 16)]
    argv = [job["deno"], "run", *DENO_FLAGS, "--v8-flags=" + ",".join(v8), script]
    env = dict(os.environ)
    env.update({"DENO_DIR": DENO_DIR, "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"})
    try:
        os.execve(argv[0], argv, env)
    finally:
        os._exit(127)


def deno_child_limits(limits):
    """The child's rlimits for Deno: everything but the address space (see the docstring)."""
    return dict(limits, memory_mb=0)


def wire_timed(ctl_r, ack_w, err_w):
    """In a forked timed child: commands on stdin, acknowledgements on stdout."""
    os.setpgid(0, 0)
    os.dup2(ctl_r, 0)
    os.dup2(ack_w, 1)
    os.dup2(err_w, 2)
    close_fds_except({0, 1, 2})


def split_marked(raw, nonce):
    """(what the program printed, the case record's bytes) from a Deno case's stdout."""
    mark = ("\n\x1ePEERPREP-%s\n" % nonce).encode()
    at = raw.rfind(mark)
    if at < 0:
        return raw, b""
    return raw[:at], raw[at + len(mark) :]


def deno_out_of_memory(stderr):
    return any(m in stderr for m in OOM_MARKERS)
