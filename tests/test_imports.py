"""Imports run one way: no circle among the package's modules.

The graph is read from the source with ``ast``: every ``import`` of a module of the package, at the top of a
module or inside a function (a deferred import is still a dependency), except under ``if TYPE_CHECKING:``
(annotations only: nothing runs). An edge goes to the module named; ``from package import name`` goes to the
submodule when ``name`` is one, else to the package's ``__init__``. The implicit import of a parent package's
``__init__`` is not an edge (every module would then depend on the top-level ``__init__``, which gathers the
public API).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "commissioning_rules"


def _modules(src: Path) -> dict[str, tuple[Path, bool]]:
    """Every module of the package under ``src``: dotted name → (file, is a package's ``__init__``)."""
    found = {}
    for path in (src / PACKAGE).rglob("*.py"):
        parts = path.relative_to(src).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(name: str, path: Path, is_package: bool, modules: dict[str, tuple[Path, bool]]) -> dict[str, int]:
    """The package's modules that module ``name`` imports (outside ``if TYPE_CHECKING:``), each with a line."""
    edges: dict[str, int] = {}

    def add(target: str, line: int) -> None:
        if target in modules and target != name:
            edges.setdefault(target, line)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node.test):
            for other in node.orelse:  # only the else branch runs
                visit(other)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target, node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text("utf-8"), str(path)))
    return edges


def import_graph(src: Path = SRC) -> dict[str, dict[str, int]]:
    """Module → the package's modules it imports → the line of the (first) import."""
    modules = _modules(src)
    return {name: _imported(name, path, is_package, modules) for name, (path, is_package) in modules.items()}


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _described(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    members = set(component)
    edges = [f"  {a} imports {b} (line {line})" for a in component for b, line in sorted(graph[a].items()) if b in members]
    return " <-> ".join(component) + "\n" + "\n".join(edges)


def test_no_module_of_the_package_imports_another_that_imports_it_back():
    graph = import_graph()
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100  # the whole package was read
    found = circles(graph)
    assert not found, "import circles:\n" + "\n".join(_described(graph, c) for c in found)


def test_the_checker_finds_a_circle_through_a_deferred_import_and_ignores_type_checking_imports(tmp_path):
    package = tmp_path / PACKAGE
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from commissioning_rules.a import A\n")
    (package / "a.py").write_text("from commissioning_rules import b\nA = 1\n")
    (package / "b.py").write_text("def later():\n    from .sub import c\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from commissioning_rules.a import A\n"
        "else:\n    import commissioning_rules.b\n")
    (package / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import commissioning_rules.a\n")
    graph = import_graph(tmp_path)
    assert graph["commissioning_rules"] == {"commissioning_rules.a": 1}
    assert graph["commissioning_rules.a"] == {"commissioning_rules.b": 1}
    assert graph["commissioning_rules.b"] == {"commissioning_rules.sub.c": 2}
    assert graph["commissioning_rules.sub.c"] == {"commissioning_rules.b": 5}  # the else branch runs
    assert graph["commissioning_rules.d"] == {}
    assert circles(graph) == [["commissioning_rules.b", "commissioning_rules.sub.c"]]
