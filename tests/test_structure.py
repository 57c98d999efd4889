"""The package's shape, read from its own code: layers that import downwards only (no import
circle), modules that use each other's public names only, and modules and functions short enough
to read in one go (issue 21)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mnist_checks"
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60
#: Known to be over the limits, each with why: ``{module or module:function: reason}``. An entry
#: that is no longer over its limit fails too, so that the list only ever shrinks.
OVER_LIMITS: dict[str, str] = {}


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict) -> list[tuple[str, str | None]]:
    """``(module, imported name or None)`` for every import in the module, at its top or inside a
    function, resolved to the package's modules where it names one."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([node.module] if node.module else []))
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.append((child, None) if child in known else (base, alias.name))
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {target for target, _ in imports(name, path, known) if target in known and target != name}
            for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(path: Path, name: str, known: dict) -> list[str]:
    """Another module's private names that the file at ``path`` imports or reads as attributes."""
    found, aliases = [], {}
    tree = ast.parse(path.read_text())
    for target, imported in imports(name, path, known):
        if imported is None and target in known:
            aliases[target.rpartition(".")[2]] = target
        elif imported and target in known and target != name and private(imported):
            found.append(f"{target}.{imported}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({alias.asname: alias.name for alias in node.names if alias.asname and alias.name in known})
        if (isinstance(node, ast.Attribute) and private(node.attr) and isinstance(node.value, ast.Name)
                and aliases.get(node.value.id, name) != name):
            found.append(f"{aliases[node.value.id]}.{node.attr} (line {node.lineno})")
    return found


def test_the_package_has_no_import_circle():
    found = circles(import_graph())
    assert not found, (f"modules that import each other, directly or round a circle: {found}; move what they share "
                       "into a module below both")


#: What every module may use: they import nothing of the package.
BOTTOM_LAYER = ("mnist_checks.errors", "mnist_checks.files", "mnist_checks.flags", "mnist_checks.installed",
                "mnist_checks.processes", "mnist_checks.questions")


def test_the_bottom_layer_imports_nothing_of_the_package():
    graph = import_graph()
    upward = {module: sorted(graph[module]) for module in BOTTOM_LAYER if graph[module]}
    assert not upward, f"the bottom layer imports the package's modules: {upward}; it must stay importable by all"


def test_the_circle_check_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_or_test_uses_another_modules_private_names():
    known = modules()
    files = [(name, path) for name, path in known.items()]
    files += [(f"tests.{path.stem}", path) for path in sorted((ROOT / "tests").glob("*.py"))]
    found = {str(path.relative_to(ROOT)): uses for name, path in files if (uses := private_uses(path, name, known))}
    assert not found, (f"private names used outside their module: {found}; make the name public (no underscore) "
                       "in the module that owns it, or move the code that needs it there")


def test_the_private_name_check_finds_both_spellings(tmp_path):
    known = {"mnist_checks.report": PACKAGE / "report.py", "mnist_checks.files": PACKAGE / "files.py"}
    user = tmp_path / "user.py"
    user.write_text("from mnist_checks import report\nfrom mnist_checks.files import _hidden\nreport._atomic\n")
    assert private_uses(user, "tests.user", known) == ["mnist_checks.files._hidden",
                                                       "mnist_checks.report._atomic (line 3)"]


def sizes() -> dict[str, int]:
    """Lines of every module and of every function in it (``module:function``)."""
    found = {}
    for name, path in modules().items():
        text = path.read_text()
        found[name] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[f"{name}:{node.name}"] = node.end_lineno - node.lineno + 1
    return found


def test_no_module_is_over_400_lines_and_no_function_over_60():
    over = {what: lines for what, lines in sizes().items()
            if lines > (MAX_FUNCTION_LINES if ":" in what else MAX_MODULE_LINES)}
    unexpected = {what: lines for what, lines in over.items() if what not in OVER_LIMITS}
    assert not unexpected, f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function: {unexpected}"
    fixed = sorted(set(OVER_LIMITS) - set(over))
    assert not fixed, f"within the limits now: take {fixed} out of OVER_LIMITS"
