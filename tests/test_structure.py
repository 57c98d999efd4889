"""The package's shape, read from its own code: layers that import downwards only (no import
circle), modules that use each other's public names only, and modules and functions short enough
to read in one go (issue 21); the core free of grading, grading's parts layered by audience, and
the root conftest.py naming only the suite's plugin (issue 35)."""

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
                "mnist_checks.processes", "mnist_checks.questions", "mnist_checks.records")


def test_the_bottom_layer_imports_nothing_of_the_package():
    graph = import_graph()
    upward = {module: sorted(graph[module]) for module in BOTTOM_LAYER if graph[module]}
    assert not upward, f"the bottom layer imports the package's modules: {upward}; it must stay importable by all"


GRADING = "mnist_checks.grading"
#: The command line, which reaches grading through ``mnist_checks.commands``; every other module at
#: the package's top is the core, which students' runs and the grader share.
NOT_CORE = ("cli.py", "__main__.py")
#: grading's parts by audience, each with the parts it may import (issue 35): each imports only
#: the parts before it; grading's shared modules (``contract``, ``limits``, its ``__init__``) import none.
PARTS = {"sandbox": (), "students": ("sandbox",), "course": ("sandbox", "students"),
         "catalogue": ("sandbox", "students", "course")}
#: The one module outside the catalogue that imports it (lazily, behind ``grading.has_catalogue()``):
#: a students' starter and a fork's sandbox hold no catalogue.
CATALOGUE_USERS = ("mnist_checks.commands.grades",)


def core_modules(known: dict[str, Path]) -> list[str]:
    """The package's modules at its top (``mnist_checks/*.py``), the command line's aside."""
    return sorted(name for name, path in known.items() if path.parent == PACKAGE and path.name not in NOT_CORE)


def part_of(module: str) -> str | None:
    """The part of grading that ``module`` is in, ``""`` for grading's shared modules, None outside grading."""
    if module != GRADING and not module.startswith(f"{GRADING}."):
        return None
    part = module.removeprefix(GRADING).removeprefix(".").partition(".")[0]
    return part if part in PARTS else ""


def grading_imports(graph: dict[str, set[str]], core: list[str]) -> dict[str, list[str]]:
    """The modules of grading that each module of ``core`` imports, where it imports any."""
    found = {module: sorted(target for target in graph[module] if part_of(target) is not None) for module in core}
    return {module: targets for module, targets in found.items() if targets}


def layer_breaches(graph: dict[str, set[str]]) -> list[str]:
    """Each import that breaks grading's layers: a part (or a shared module) importing a part it may
    not, or a module other than the catalogue's own and ``CATALOGUE_USERS`` importing the catalogue."""
    found = []
    for module, targets in sorted(graph.items()):
        source = part_of(module)
        for target in sorted(targets):
            part = part_of(target)
            if part == "catalogue" and source != "catalogue" and module not in CATALOGUE_USERS:
                found.append(f"{module} imports {target}: only {', '.join(CATALOGUE_USERS)} may import the catalogue")
            elif source is not None and part and part != source and part not in PARTS.get(source, ()):
                allowed = ", ".join(PARTS.get(source, ())) or "no part"
                found.append(f"{module} imports {target}: grading.{source or '(shared)'} may import {allowed}")
    return found


def test_the_core_imports_nothing_of_grading():
    found = grading_imports(import_graph(), core_modules(modules()))
    assert not found, (f"core modules that import grading: {found}; the core (mnist_checks/*.py) serves students' "
                       "runs and the grader alike: move what it needs of grading into the core, or have the caller "
                       "(grading, or mnist_checks.commands) pass it in")


def test_the_parts_of_grading_import_only_the_parts_below_them():
    found = layer_breaches(import_graph())
    assert not found, ("imports against grading's layers (sandbox < students < course < catalogue; contract, limits "
                       f"and grading/__init__.py below all): {found}; move what is shared down into the lower part "
                       "(or into grading/contract.py or limits.py), or pass it in from above")


def test_the_layer_checks_find_an_upward_import():
    assert core_modules(modules())[:1] == ["mnist_checks"] and "mnist_checks.cli" not in core_modules(modules())
    graph = {"mnist_checks.run": {"mnist_checks.facts", "mnist_checks.grading.students.plugin"},
             "mnist_checks.facts": set(),
             "mnist_checks.grading.limits": {"mnist_checks.grading.sandbox.levels"},
             "mnist_checks.grading.sandbox.levels": {"mnist_checks.grading.students.rubric"},
             "mnist_checks.grading.students.rubric": {"mnist_checks.grading.sandbox.levels",
                                                      "mnist_checks.grading.contract"},
             "mnist_checks.grading.course.batch": {"mnist_checks.grading.catalogue.mutants"},
             "mnist_checks.grading.catalogue.mutants": {"mnist_checks.grading.course.batch"},
             "mnist_checks.commands.grades": {"mnist_checks.grading.catalogue.mutants"}}
    assert grading_imports(graph, ["mnist_checks.facts", "mnist_checks.run"]) == {
        "mnist_checks.run": ["mnist_checks.grading.students.plugin"]}
    assert layer_breaches(graph) == [
        "mnist_checks.grading.course.batch imports mnist_checks.grading.catalogue.mutants: only "
        "mnist_checks.commands.grades may import the catalogue",
        "mnist_checks.grading.limits imports mnist_checks.grading.sandbox.levels: grading.(shared) may import no part",
        "mnist_checks.grading.sandbox.levels imports mnist_checks.grading.students.rubric: grading.sandbox may "
        "import no part"]


def test_the_circle_check_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_or_test_uses_another_modules_private_names():
    known = modules()
    files = [(name, path) for name, path in known.items()]
    files += [("conftest", ROOT / "conftest.py")]
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


def conftest_extras(path: Path, known: dict) -> list[str]:
    """What the conftest.py at ``path`` holds beside a docstring and ``pytest_plugins = ("PLUGIN",)``
    naming one module of the package (each statement's first line, or what is missing)."""
    body = ast.parse(path.read_text()).body
    found = []
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    else:
        found.append("no docstring")
    plugins = [node for node in body if isinstance(node, ast.Assign) and len(node.targets) == 1
               and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "pytest_plugins"]
    named = [ast.literal_eval(node.value) for node in plugins]
    if not (len(named) == 1 and isinstance(named[0], tuple) and len(named[0]) == 1 and named[0][0] in known):
        found.append(f"pytest_plugins naming one module of the package, not {named}")
    found += [f"line {node.lineno}: {ast.unparse(node).splitlines()[0]}" for node in body if node not in plugins]
    return found


def test_the_root_conftest_only_names_the_suites_plugin():
    found = conftest_extras(ROOT / "conftest.py", modules())
    assert not found, ("the root conftest.py holds only its docstring and `pytest_plugins = (\"PLUGIN\",)`, the one "
                       f"module of the package that sets up the spec suite (students get the same setup); it holds "
                       f"{found}: move each into that plugin module")


def test_the_conftest_check_finds_what_else_it_holds(tmp_path):
    known = {"mnist_checks.grading.students.plugin": PACKAGE / "grading" / "students" / "plugin.py"}
    conftest = tmp_path / "conftest.py"
    conftest.write_text('"""Setup."""\n\npytest_plugins = ("mnist_checks.grading.students.plugin",)\n')
    assert conftest_extras(conftest, known) == []
    conftest.write_text('import os\npytest_plugins = ("mnist_checks.elsewhere",)\n\n\ndef pytest_addoption(parser):\n'
                        '    pass\n')
    assert conftest_extras(conftest, known) == [
        "no docstring", "pytest_plugins naming one module of the package, not [('mnist_checks.elsewhere',)]",
        "line 1: import os", "line 5: def pytest_addoption(parser):"]


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
