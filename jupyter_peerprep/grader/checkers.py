"""Comparing a returned value with the expected one, outside the student's sandbox.

Built-in checkers run in the service process on JSON values: ``exact`` (JSON equality; a bool
is not a number, 1 equals 1.0), ``unordered`` (the top-level lists hold the same elements, in
any order), ``float:<tol>`` (numbers within an absolute or relative tolerance, everything else
exact). ``custom`` is instructor code and runs in its own sandbox (see ``grader.py``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

Checker = Callable[[Any, Any], bool]


class CheckerError(ValueError):
    """A checker name that is not understood; the message lists the valid ones."""


def json_equal(a: Any, b: Any, tol: float | None = None) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if tol is not None:
            if math.isnan(a) or math.isnan(b):
                return math.isnan(a) and math.isnan(b)
            return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k], tol) for k in a)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return False


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def unordered_equal(expected: Any, got: Any) -> bool:
    if not (isinstance(expected, list) and isinstance(got, list)):
        return json_equal(expected, got)
    if len(expected) != len(got):
        return False
    try:
        return sorted(map(_canonical, expected)) == sorted(map(_canonical, got))
    except (TypeError, ValueError):
        return False


def builtin_checker(name: str) -> Checker:
    """The comparison function for a built-in checker name."""
    if name == "exact":
        return json_equal
    if name == "unordered":
        return unordered_equal
    if name.startswith("float:"):
        try:
            tol = float(name.split(":", 1)[1])
        except ValueError:
            raise CheckerError(
                f"checker {name!r}: the tolerance after 'float:' must be a number, e.g. float:1e-6"
            ) from None
        if not tol >= 0:
            raise CheckerError(f"checker {name!r}: the tolerance must be >= 0")
        return lambda expected, got: json_equal(expected, got, tol)
    raise CheckerError(
        f"unknown checker {name!r}; use 'exact', 'unordered', 'float:<tolerance>' or 'custom'"
    )
