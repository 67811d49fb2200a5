"""Counting a solution's steps and peak memory per input size: runs INSIDE the sandbox.

Standard library only, executed after ``timing.py`` and before ``harness.py`` in one namespace
(see ``HARNESS_MODULES`` in ``grader.py``); not imported by the service.

For one input size a forked child (``run_child`` with ``count_body``) makes a fresh copy of the
input, then calls the solution once with a line tracer counting executed Python lines and calls
(``sys.settrace``) and ``tracemalloc`` recording the peak of memory allocated during the call
(the input copy, made before, is not counted). Both figures are deterministic for a given
input: they do not swing with the machine's load as CPU time does.

They are also the child's own report, so the service never takes them on trust: it compares
their growth with the CPU time the harness measured from outside (``timing.py``) and with the
kernel's peak resident size of the same child (``ru_maxrss`` from ``wait4``, measured here, set
against a trusted child that copies the same input and calls nothing). A program that stops
the tracer or writes a forged record makes its counts disagree with those, and the service
then falls back to the outside measurements (``growth.py``).
"""

from __future__ import annotations

import copy
import sys
import tracemalloc
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # in the sandbox they come from harness.py, run in this same namespace
    from .harness import load_entry, reap_orphans, run_child, trimmed_traceback


def _noop(*args):
    return None


def count_body(job, payload):
    """In the child: one traced call on a fresh copy of the input; the record for the parent."""
    try:
        fn = _noop if payload.get("trusted") else load_entry(job["source"], job["entry_point"])
    except MemoryError:
        return {"status": "memory"}
    except BaseException:
        return {"status": "load_error", "error": trimmed_traceback()}
    steps = [0]

    def tracer(frame, event, arg):
        steps[0] += 1
        return tracer

    try:
        fresh = copy.deepcopy(payload["args"])
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        sys.settrace(tracer)
        try:
            fn(*fresh)
        finally:
            sys.settrace(None)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    except MemoryError:
        return {"status": "memory"}
    except BaseException:
        return {"status": "error", "error": trimmed_traceback()[-2000:]}
    return {"status": "ok", "steps": steps[0], "peak_bytes": max(0, peak)}


def count_size(job, args, limits):
    """Steps and peak memory of one traced call (the child's own report), with the kernel's
    peak resident size of that child and of a trusted child doing the same minus the call."""
    one = dict(limits, nproc=1)
    base = run_child(job, {"args": args, "trusted": True}, one, count_body)
    reap_orphans()
    record = run_child(job, {"args": args}, one, count_body)
    reap_orphans()
    out = {"status": record.get("status"), "rss_kb": record.get("peak_kb")}
    out["rss_base_kb"] = base.get("peak_kb") if base.get("status") == "ok" else None
    for key in ("steps", "peak_bytes"):
        out[key] = record.get(key)
    return out
