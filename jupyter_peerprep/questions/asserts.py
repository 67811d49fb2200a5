"""Turn the assert statements of an otter or nbgrader test cell into PeerPrep cases.

A case is one call of a function the solution defines, with literal arguments, and the literal
it must return. The shapes read here (one statement each, as ``assert`` or, on the last line,
as a bare expression):

- ``f(<literals>) == <literal>`` (either side), ``f(...) is None|True|False``;
- ``f(...)`` alone: ``assert f(...)`` expects ``True``, ``assert not f(...)`` ``False``; a
  bare last-line call expects its recorded output;
- ``np.isclose|np.allclose|math.isclose(f(...), <literal>)`` and ``f(...) ==
  pytest.approx(<literal>)``: numbers within a tolerance (the ``float:<tol>`` checker);
- ``assert_equal(f(...), <literal>)`` and ``assert_almost_equal`` (nose, numpy.testing);
- any of these inside ``def test_x(f, ...):`` (otter v1), the test function's own call and
  otter's ``# IGNORE`` lines left out.

A set literal as the expected value becomes a list and asks for the ``unordered`` checker; a
tuple becomes a list (the grader returns tuples as lists).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

# Imports a test cell may have that only bring in the comparison helpers read here.
_HELPER_MODULES = {"nose", "nose.tools", "numpy", "numpy.testing", "math", "pytest", "unittest"}
_CLOSE = {"isclose": 1e-05, "allclose": 1e-05}  # numpy's default rtol; math.isclose below
_EQUAL_HELPERS = {"assert_equal", "assertEqual", "assert_array_equal"}
_ALMOST_HELPERS = {"assert_almost_equal", "assertAlmostEqual", "assert_allclose"}
_IGNORE_LINE = re.compile(r"#\s*IGNORE\s*$")
_IGNORE_BLOCK = re.compile(r"^\s*#\s*(BEGIN|END)\s+IGNORE\s*$")


@dataclass
class Case:
    """One converted case: ``fn(*args)`` must return ``expected`` under ``checker``."""

    fn: str
    args: list[Any]
    expected: Any
    # "exact", "unordered" (the expected value was a set) or "float:<tol>".
    checker: str = "exact"
    # The otter v1 test function the assert was in, if any.
    group: str | None = None


class NotACase(ValueError):
    """A statement that is not one of the shapes above; the message says what it is."""


def strip_ignored(source: str) -> str:
    """otter's ``# IGNORE`` lines and ``# BEGIN IGNORE`` / ``# END IGNORE`` blocks removed."""
    out: list[str] = []
    skipping = False
    for line in source.splitlines():
        block = _IGNORE_BLOCK.match(line)
        if block:
            skipping = block.group(1).upper() == "BEGIN"
            continue
        if skipping or _IGNORE_LINE.search(line):
            continue
        out.append(line)
    return "\n".join(out)


def json_literal(node: ast.AST) -> tuple[Any, bool]:
    """(JSON value, whether it was a set) of a literal expression; NotACase if not one."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise NotACase(f"`{_short(node)}` is not a literal value") from None
    was_set = isinstance(value, (set, frozenset))

    def convert(v: Any) -> Any:
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise NotACase("NaN and infinities are not JSON values")
            return v
        if isinstance(v, (list, tuple)):
            return [convert(x) for x in v]
        if isinstance(v, (set, frozenset)):
            items = [convert(x) for x in v]
            try:
                return sorted(items)
            except TypeError:
                return items
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {k: convert(x) for k, x in v.items()}
        raise NotACase(f"a {type(v).__name__} is not a JSON value")

    return convert(value), was_set


def _short(node: ast.AST, limit: int = 50) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _callee(func: ast.AST | None) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _call(node: ast.AST, functions: set[str]) -> tuple[str, list[Any]] | None:
    """(function, args) if ``node`` calls a solution function with literal arguments."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    if node.func.id not in functions:
        return None
    if node.keywords:
        raise NotACase(f"`{_short(node)}` passes keyword arguments (cases are positional)")
    args = []
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise NotACase(f"`{_short(node)}` unpacks arguments with *")
        args.append(json_literal(arg)[0])
    return node.func.id, args


def _tolerance(call: ast.Call, default: float) -> float:
    tol = default
    for kw in call.keywords:
        if kw.arg in ("rtol", "rel_tol", "atol", "abs_tol", "rel", "abs", "decimal", "places"):
            try:
                value = float(ast.literal_eval(kw.value))
            except (ValueError, TypeError, SyntaxError):
                raise NotACase(f"tolerance `{_short(kw.value)}` is not a number") from None
            if kw.arg in ("decimal", "places"):
                value = 1.5 * 10 ** (-value)
            tol = max(tol, value) if kw.arg.startswith("a") else value
    return tol


def _expression_case(expr: ast.AST, functions: set[str], asserted: bool) -> Case | None:
    """The case one asserted (or last-line) expression states; None for a bare call."""
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not) and asserted:
        found = _call(expr.operand, functions)
        if found:
            return Case(found[0], found[1], False)
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        left, right, op = expr.left, expr.comparators[0], expr.ops[0]
        if _call(left, functions) is None and _call(right, functions) is not None:
            left, right = right, left
        found = _call(left, functions)
        if found is None:
            raise NotACase(f"`{_short(expr)}` does not compare a call of the solution's function")
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant):
            return Case(found[0], found[1], right.value)
        if not isinstance(op, ast.Eq):
            raise NotACase(f"`{_short(expr)}` is not an equality")
        if isinstance(right, ast.Call) and _callee(right.func) == "approx":
            value, _ = json_literal(right.args[0]) if right.args else (None, False)
            return Case(found[0], found[1], value, f"float:{_tolerance(right, 1e-06):g}")
        value, was_set = json_literal(right)
        return Case(found[0], found[1], value, "unordered" if was_set else "exact")
    if isinstance(expr, ast.Call):
        name = _callee(expr.func)
        if name in _CLOSE or name in _EQUAL_HELPERS or name in _ALMOST_HELPERS:
            if len(expr.args) < 2:
                raise NotACase(f"`{_short(expr)}` needs two arguments")
            a, b = expr.args[0], expr.args[1]
            if _call(a, functions) is None:
                a, b = b, a
            found = _call(a, functions)
            if found is None:
                raise NotACase(f"`{_short(expr)}` does not check a call of the solution's function")
            value, was_set = json_literal(b)
            if name in _EQUAL_HELPERS:
                return Case(found[0], found[1], value, "unordered" if was_set else "exact")
            base = 1e-09 if isinstance(expr.func, ast.Attribute) and _is_math(expr.func) else 1e-05
            default = base if name in _CLOSE else 1e-07
            return Case(found[0], found[1], value, f"float:{_tolerance(expr, default):g}")
        found = _call(expr, functions)
        if found is not None:
            return Case(found[0], found[1], True) if asserted else None
    raise NotACase(f"`{_short(expr)}` is not a checked call of the solution's function")


def _is_math(func: ast.Attribute) -> bool:
    return isinstance(func.value, ast.Name) and func.value.id == "math"


def _shown_output(outputs: list[dict[str, Any]]) -> str | None:
    for output in outputs:
        if output.get("output_type") == "execute_result":
            data = output.get("data", {}).get("text/plain")
            if data is not None:
                return "".join(data) if isinstance(data, list) else str(data)
    return None


def _statement_cases(
    body: list[ast.stmt],
    functions: set[str],
    outputs: list[dict[str, Any]],
    group: str | None,
    local_defs: set[str],
    reasons: list[str],
) -> list[Case]:
    """The cases of each statement; what a statement is if it states none goes to reasons."""
    cases: list[Case] = []
    for i, node in enumerate(body):
        try:
            case = _statement_case(node, i == len(body) - 1, functions, outputs, group, local_defs)
        except NotACase as e:
            reasons.append(str(e))
            continue
        if isinstance(node, ast.FunctionDef) and group is None:
            local_defs.add(node.name)
            cases += _statement_cases(node.body, functions, [], node.name, local_defs, reasons)
        elif case is not None:
            case.group = group
            cases.append(case)
    return cases


def _statement_case(
    node: ast.stmt,
    last: bool,
    functions: set[str],
    outputs: list[dict[str, Any]],
    group: str | None,
    local_defs: set[str],
) -> Case | None:
    """The case one statement states; None for one that needs none (docstring, import)."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return None  # a docstring or a stray constant: otter's TEST CONFIG string
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        if all(m in _HELPER_MODULES for m in modules):
            return None
        raise NotACase(f"imports {', '.join(modules)}")
    if isinstance(node, ast.FunctionDef) and group is None:
        return None  # an otter v1 test function: its statements are read by the caller
    if isinstance(node, ast.Assert):
        return _expression_case(node.test, functions, asserted=True)
    raising = isinstance(node, ast.Try) and any(h.type is not None for h in node.handlers)
    if raising or (isinstance(node, ast.With) and "raises" in _short(node.items[0].context_expr)):
        raise NotACase(f"`{_short(node)}` expects an exception; cases compare return values")
    if isinstance(node, ast.Expr) and "raises" in (
        _callee(getattr(node.value, "func", None)) or ""
    ):
        raise NotACase(f"`{_short(node)}` expects an exception; cases compare return values")
    if not isinstance(node, ast.Expr):
        raise NotACase(f"`{_short(node)}` is not an assert ({type(node).__name__.lower()})")
    value = node.value
    if isinstance(value, ast.Call) and _callee(value.func) in local_defs:
        return None  # otter v1's call of the test function it just defined
    helper = isinstance(value, ast.Call) and _callee(value.func) in (
        _EQUAL_HELPERS | _ALMOST_HELPERS
    )
    if not (helper or (last and group is None)):
        raise NotACase(f"`{_short(value)}` before the last line checks nothing")
    case = _expression_case(value, functions, asserted=helper)
    if case is None or (not helper and isinstance(value, ast.Compare)):
        case = _with_output(value, case, functions, outputs)
    return case


def _with_output(
    value: ast.AST, case: Case | None, functions: set[str], outputs: list[dict[str, Any]]
) -> Case:
    """A bare last line: the recorded output says what it should be (otter v0, old v1)."""
    shown = _shown_output(outputs)
    if case is not None:  # `f(x) == y` as an expression: True when recorded, or unrecorded
        if shown is not None and shown.strip() != "True":
            raise NotACase("the comparison's recorded output is not True")
        return case
    found = _call(value, functions)
    assert found is not None
    if shown is None:
        raise NotACase(f"`{_short(value)}` has no recorded output to compare with")
    try:
        expected, was_set = json_literal(ast.parse(shown.strip(), mode="eval").body)
    except (NotACase, SyntaxError):
        raise NotACase(f"recorded output {shown.strip()[:40]!r} is not a literal") from None
    return Case(found[0], found[1], expected, "unordered" if was_set else "exact")


def cases_from_test(
    source: str, outputs: list[dict[str, Any]], functions: set[str]
) -> tuple[list[Case], list[str]]:
    """The cases one test cell states, and what in it is not a case (one line each)."""
    code = strip_ignored(source)
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return [], [f"not valid Python ({e.msg}, line {e.lineno})"]
    reasons: list[str] = []
    cases = _statement_cases(tree.body, functions, outputs, None, set(), reasons)
    if not cases and not reasons:
        reasons.append("checks no call of a function the solution defines")
    return cases, reasons


def question_checker(cases: list[Case]) -> tuple[str, str | None]:
    """The one checker for a question's cases, and a note when they ask for different ones."""
    kinds = {c.checker for c in cases} or {"exact"}
    floats = sorted((k for k in kinds if k.startswith("float:")), key=lambda k: float(k[6:]))
    if "unordered" in kinds and floats:
        return floats[-1], "some tests compare sets, others numbers within a tolerance"
    if floats:
        return floats[-1], None
    if "unordered" in kinds:
        note = None
        if "exact" in kinds and any(isinstance(c.expected, list) for c in cases):
            note = "sets and ordered lists are both expected; 'unordered' accepts any order"
        return "unordered", note
    return "exact", None
