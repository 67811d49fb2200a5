"""The schema of a question: notebook metadata ``peerprep`` and test cases.

Hand-written checks rather than a JSON Schema so that every message says what to write instead
(``difficulty must be one of easy, medium, hard, got 'tricky'``). The checks here need no code
execution; ``validate.py`` runs the code.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from .problems import ProblemList
from .vocabulary import (
    COMPLEXITY_CLASSES,
    DIFFICULTIES,
    LANGUAGES,
    MAX_ID_LENGTH,
    MAX_TITLE_LENGTH,
    QUESTION_ID,
    TOPICS,
    is_valid_checker,
)

METADATA_KEY = "peerprep"

# Used when a notebook omits them; documented in docs/reference/question-format.md.
DEFAULT_LIMITS: dict[str, float] = {"time_s": 2.0, "memory_mb": 256}
DEFAULT_MAX_LIMITS: dict[str, float] = {"time_s": 30.0, "memory_mb": 2048}
MIN_MEMORY_MB = 16
DEFAULT_REPEATS = 3
MAX_COMPLEXITY_SIZE = 10_000_000
MAX_GENERATED_N = 10_000_000

KNOWN_KEYS = {
    "id",
    "title",
    "difficulty",
    "topics",
    "entry_point",
    "language",
    "limits",
    "checker",
    "complexity",
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_metadata(
    meta: Any,
    found: ProblemList,
    *,
    max_limits: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Check the ``peerprep`` metadata; return it normalised (defaults filled in).

    Problems go into ``found`` with ``field`` = ``peerprep.<key>``.
    """
    max_limits = {**DEFAULT_MAX_LIMITS, **(max_limits or {})}
    out: dict[str, Any] = {}

    def bad(key: str, message: str, severity: str = "error") -> None:
        found.add(message, field=f"{METADATA_KEY}.{key}", severity=severity)

    if not isinstance(meta, dict):
        found.add(
            f"notebook metadata has no {METADATA_KEY!r} object; add one with id, title, "
            "difficulty, topics and entry_point (see docs/reference/question-format.md)",
            field=METADATA_KEY,
        )
        return out

    for key in sorted(set(meta) - KNOWN_KEYS):
        bad(
            key,
            f"unknown key {key!r} (ignored); known keys: {', '.join(sorted(KNOWN_KEYS))}",
            "warning",
        )

    qid = meta.get("id")
    if not isinstance(qid, str) or not qid:
        bad("id", "missing; give a stable slug such as 'two-sum' (lowercase letters, digits, -)")
    elif not QUESTION_ID.match(qid) or len(qid) > MAX_ID_LENGTH:
        bad(
            "id",
            f"{qid!r} is not a slug: use lowercase letters, digits and single dashes, "
            f"at most {MAX_ID_LENGTH} characters, e.g. 'two-sum'",
        )
    else:
        out["id"] = qid

    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        bad("title", "missing; give a short human title such as 'Two Sum'")
    elif len(title) > MAX_TITLE_LENGTH:
        bad("title", f"is {len(title)} characters long; at most {MAX_TITLE_LENGTH}")
    else:
        out["title"] = title.strip()

    difficulty = meta.get("difficulty")
    if difficulty not in DIFFICULTIES:
        bad("difficulty", f"must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    else:
        out["difficulty"] = difficulty

    topics = meta.get("topics")
    if not isinstance(topics, list) or not topics:
        bad(
            "topics", "must be a non-empty list of topics from the vocabulary: " + ", ".join(TOPICS)
        )
    else:
        unknown = [t for t in topics if t not in TOPICS]
        if unknown:
            bad(
                "topics",
                f"unknown topic(s) {', '.join(repr(t) for t in unknown)}; "
                f"choose from: {', '.join(TOPICS)}",
            )
        elif len(set(topics)) != len(topics):
            bad("topics", "lists a topic twice")
        else:
            out["topics"] = list(topics)

    entry = meta.get("entry_point")
    if not isinstance(entry, str) or not entry.isidentifier() or entry.startswith("__"):
        bad(
            "entry_point",
            f"must name the function students implement (a Python identifier "
            f"such as 'two_sum'), got {entry!r}",
        )
    else:
        out["entry_point"] = entry

    language = meta.get("language", "python")
    if language != "python":
        hint = (
            "; the untagged starter and solution cells are Python, other languages go in "
            f"cells tagged starter:{language} and solution:{language}"
            if language in LANGUAGES
            else f" (languages: {', '.join(LANGUAGES)})"
        )
        bad("language", f"must be 'python', got {language!r}{hint}")
    else:
        out["language"] = language

    checker = meta.get("checker", "exact")
    if not isinstance(checker, str) or not is_valid_checker(checker):
        bad(
            "checker",
            f"must be 'exact', 'unordered', 'float:<tolerance>' (e.g. 'float:1e-6') "
            f"or 'custom', got {checker!r}",
        )
    else:
        out["checker"] = checker

    out["limits"] = _check_limits(meta.get("limits"), max_limits, bad)

    if "complexity" in meta and meta["complexity"] is not None:
        out["complexity"] = _check_complexity(meta["complexity"], bad)
    else:
        out["complexity"] = None
    return out


def _check_limits(limits: Any, max_limits: dict[str, float], bad: Any) -> dict[str, float]:
    if limits is None:
        return dict(DEFAULT_LIMITS)
    if not isinstance(limits, dict):
        bad("limits", f"must be an object like {DEFAULT_LIMITS}, got {limits!r}")
        return dict(DEFAULT_LIMITS)
    out = dict(DEFAULT_LIMITS)
    for key in sorted(set(limits) - set(DEFAULT_LIMITS)):
        bad(f"limits.{key}", f"unknown limit {key!r}; known: time_s, memory_mb")
    if "time_s" in limits:
        t = limits["time_s"]
        if not _is_number(t) or t <= 0:
            bad("limits.time_s", f"must be a positive number of seconds, got {t!r}")
        elif t > max_limits["time_s"]:
            bad(
                "limits.time_s",
                f"{t} s exceeds the service limit of {max_limits['time_s']} s; "
                "a question may only tighten the service's limits",
            )
        else:
            out["time_s"] = float(t)
    if "memory_mb" in limits:
        m = limits["memory_mb"]
        if not _is_number(m) or m < MIN_MEMORY_MB:
            bad(
                "limits.memory_mb",
                f"must be a number of MiB of at least {MIN_MEMORY_MB} "
                f"(the Python interpreter alone needs about 10), got {m!r}",
            )
        elif m > max_limits["memory_mb"]:
            bad(
                "limits.memory_mb",
                f"{m} MiB exceeds the service limit of "
                f"{max_limits['memory_mb']} MiB; a question may only tighten the service's limits",
            )
        else:
            out["memory_mb"] = m
    return out


def _check_complexity(block: Any, bad: Any) -> dict[str, Any] | None:
    if not isinstance(block, dict):
        bad(
            "complexity",
            'must be an object {"sizes": [...], "expected": "O(n)", '
            f'"repeats": 3}}, got {block!r}',
        )
        return None
    ok = True
    sizes = block.get("sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 3
        or not all(_is_int(n) and 0 < n <= MAX_COMPLEXITY_SIZE for n in sizes)
    ):
        bad(
            "complexity.sizes",
            f"must list at least 3 input sizes, positive integers up to "
            f"{MAX_COMPLEXITY_SIZE}, got {sizes!r}",
        )
        ok = False
    elif any(b <= a for a, b in itertools.pairwise(sizes)):
        bad("complexity.sizes", f"must be strictly increasing, got {sizes!r}")
        ok = False
    elif sizes[-1] < 4 * sizes[0]:
        bad(
            "complexity.sizes",
            f"span too little to tell growth classes apart: make the largest "
            f"at least 4 times the smallest, got {sizes!r}",
        )
        ok = False
    expected = block.get("expected")
    if expected is not None and expected not in COMPLEXITY_CLASSES:
        bad(
            "complexity.expected",
            f"must be one of {', '.join(COMPLEXITY_CLASSES)}, got {expected!r}",
        )
        ok = False
    repeats = block.get("repeats", DEFAULT_REPEATS)
    if not _is_int(repeats) or not 1 <= repeats <= 10:
        bad("complexity.repeats", f"must be an integer from 1 to 10, got {repeats!r}")
        ok = False
    for key in sorted(set(block) - {"sizes", "expected", "repeats"}):
        bad(f"complexity.{key}", f"unknown key {key!r} (ignored)", "warning")
    if not ok or not isinstance(sizes, list):
        return None
    return {"sizes": list(sizes), "expected": expected, "repeats": repeats}


def is_json_value(value: Any) -> bool:
    """True if ``value`` is plain JSON (what a case may hold): no NaN, no tuples, str keys."""
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, (int, float)):
        return _is_number(value)
    if isinstance(value, list):
        return all(is_json_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json_value(v) for k, v in value.items())
    return False


def check_cases(
    cases: Any,
    found: ProblemList,
    *,
    tag: str,
    cell: int,
    allow_generated: bool,
) -> list[dict[str, Any]]:
    """Check a list of cases read from a ``public-tests``/``hidden-tests`` cell."""
    if not isinstance(cases, list):
        found.add(
            f"must be a JSON array of cases, got {type(cases).__name__}",
            cell=cell,
            tag=tag,
            field=tag,
        )
        return []
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, case in enumerate(cases):
        where = [f"{tag}[{i}]"]

        def bad(key: str | None, message: str, where: list[str] = where) -> None:
            found.add(message, cell=cell, tag=tag, field=f"{where[0]}.{key}" if key else where[0])

        if not isinstance(case, dict):
            bad(None, f'a case must be an object {{"name", "args", "expected"}}, got {case!r:.80}')
            continue
        name = case.get("name")
        if not isinstance(name, str) or not name.strip():
            bad("name", "missing; give every case a short name such as 'empty input'")
            continue
        where[0] = f"{tag}[{i}] {name!r}"
        if name in names:
            bad("name", f"two cases are named {name!r}; names must be unique within a cell")
            continue
        names.add(name)
        extra = sorted(set(case) - {"name", "args", "expected", "generate"})
        if extra:
            bad(
                extra[0],
                f"unknown key(s) {', '.join(extra)}; a case has name, args, expected"
                + (" (or generate)" if allow_generated else ""),
            )
            continue
        if "generate" in case:
            if not allow_generated:
                bad(
                    "generate",
                    "only hidden cases may be generated; public cases are shown to "
                    "students and need literal args and expected",
                )
                continue
            gen = case["generate"]
            if (
                not isinstance(gen, dict)
                or set(gen) - {"n", "seed"}
                or not _is_int(gen.get("n"))
                or not 0 <= gen["n"] <= MAX_GENERATED_N
                or not _is_int(gen.get("seed", 0))
            ):
                bad(
                    "generate",
                    f'must be {{"n": <size 0..{MAX_GENERATED_N}>, "seed": <int>}}, got {gen!r}',
                )
                continue
            if "args" in case or "expected" in case:
                bad(
                    "generate",
                    "a generated case has no args or expected: they come from the "
                    "generator and the reference solution",
                )
                continue
            out.append({"name": name, "generate": {"n": gen["n"], "seed": gen.get("seed", 0)}})
            continue
        if "args" not in case:
            bad("args", "missing; the list of arguments passed to the entry point")
            continue
        if not isinstance(case["args"], list):
            bad(
                "args",
                f"must be a list of arguments (wrap a single argument: [[1, 2]]), "
                f"got {case['args']!r:.80}",
            )
            continue
        if not is_json_value(case["args"]):
            bad(
                "args",
                "must contain JSON values only (lists, objects, numbers, strings, booleans, null)",
            )
            continue
        if "expected" not in case:
            bad("expected", "missing; the value the entry point must return (null for None)")
            continue
        if not is_json_value(case["expected"]):
            bad("expected", "must be a JSON value")
            continue
        out.append({"name": name, "args": case["args"], "expected": case["expected"]})
    return out
