"""The folders of ``jupyter_peerprep`` import each other without a cycle.

Each sub-package (``db/``, ``hub/``, ``questions/``, ``grader/``, ...) is one node, each module
at the top of the package another; an edge is any import, even one inside a function, except
those under ``if TYPE_CHECKING:``. A cycle means two floors lean on each other, e.g. ``hub``
using ``questions`` while ``questions`` reads tables through ``hub``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import jupyter_peerprep

PACKAGE = Path(jupyter_peerprep.__file__).parent
NAME = "jupyter_peerprep"


def _unit(module: str) -> str | None:
    """The node ``module`` belongs to: its sub-package, or itself at the top of the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == NAME else None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(target)
            found.extend(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def folder_graph() -> dict[str, set[str]]:
    """Edges between the package's folders (and top-level modules), from their imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        if "labextension" in rel.parts:
            continue
        module = ".".join(rel.parts)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        if path.name == "__init__.py":
            module = package
        source = _unit(module)
        for target in _imports(ast.parse(path.read_text(), str(path)), package):
            dest = _unit(target)
            if source and dest and dest != source:
                graph[source].add(dest)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path ``[a, b, ..., a]``, or None when it is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := dfs(node)):
            return cycle
    return None


def test_no_import_cycle_between_folders():
    graph = folder_graph()
    # The floors the architecture page describes: db at the bottom, hub above questions.
    assert "db" in graph["hub"] and "db" in graph["questions"] and "questions" in graph["hub"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between folders: " + " -> ".join(cycle or [])


def test_the_check_sees_a_cycle():
    """The checker itself finds a loop like the one ``questions`` -> ``hub`` once was."""
    graph = {"hub": {"questions", "db"}, "questions": {"db", "hub"}, "db": set()}
    assert find_cycle(graph) == ["hub", "questions", "hub"]
    assert find_cycle({"hub": {"questions"}, "questions": {"db"}}) is None
